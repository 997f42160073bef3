package mqtttest_test

import (
	"testing"

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
