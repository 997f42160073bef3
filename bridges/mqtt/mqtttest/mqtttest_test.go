package mqtttest_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
)

func TestRestartRetained(t *testing.T) {
	for _, keep := range []bool{false, true} {
		b := mqtttest.MustStart(t, mqtttest.Options{KeepRetained: keep})
		addr := b.Addr
		if err := b.Publish("a/b", []byte("x"), true, 1); err != nil {
			t.Fatal(err)
		}
		if _, ok := b.Retained("a/b"); !ok {
			t.Fatal("retained message missing before the restart")
		}
		b.Stop()
		if err := b.Publish("a/b", []byte("y"), true, 1); err == nil {
			t.Error("publish on a stopped broker succeeded")
		}
		if err := b.Resume(); err != nil {
			t.Fatal(err)
		}
		if b.Addr != addr {
			t.Errorf("restarted on %s, want %s", b.Addr, addr)
		}
		if _, ok := b.Retained("a/b"); ok != keep {
			t.Errorf("KeepRetained=%t: retained after restart = %t", keep, ok)
		}
	}
}

// Stop drops every connection, as a broker process that goes away does: also
// one that has not sent CONNECT yet (mochi alone leaves it open, and its
// client waits for a CONNACK until its own timeout).
func TestStopClosesUnregisteredConnections(t *testing.T) {
	b := mqtttest.MustStart(t, mqtttest.Options{})
	c, err := net.Dial("tcp", b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b.Stop()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("read after Stop: %v, want the connection closed", err)
	}
}
