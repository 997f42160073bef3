package hub

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/dashboard/broker"
)

// TestBrokerPasswordRedacted: with a password in mqtt.broker, the hub logs in
// with it, but the log, /api/v1/status and the status page show the URL
// with [REDACTED] in its place (`avshub status` and `avshub config check` are
// checked in cmd/avshub).
func TestBrokerPasswordRedacted(t *testing.T) {
	const secret = "s3cret-pw"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	brk, err := broker.Start(ctx, broker.Config{Listen: "127.0.0.1:0", Logger: e2eQuietLogger(),
		Users: []broker.User{{Username: "dash", Password: secret, Read: []string{"#"}, Write: []string{"#"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer brk.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	status := l.Addr().String()
	l.Close()
	e := newEnv(t, envOptions{Broker: "tcp://dash:" + secret + "@" + brk.Addr(), StatusListen: status})
	e.start()
	e.waitConnected()
	e.poll(ctx, "the dashboard's login", func() error {
		if !strings.Contains(e.log.tail(1000), "connected to the MQTT broker") {
			return errors.New("not logged in yet")
		}
		return nil
	})
	get := func(path string) string {
		resp, err := http.Get("http://" + status + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	want := "tcp://dash:[REDACTED]@" + brk.Addr()
	for surface, text := range map[string]string{
		"log":            e.log.tail(1000),
		"/api/v1/status": get("/api/v1/status"),
		"status page":    get("/"),
	} {
		if strings.Contains(text, secret) {
			t.Errorf("the %s shows the broker password", surface)
		}
		if !strings.Contains(text, want) {
			t.Errorf("the %s does not show the redacted URL %s", surface, want)
		}
	}
}
