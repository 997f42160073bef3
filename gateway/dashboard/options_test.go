package dashboard

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/dashboard/broker"
	"github.com/avshub/avshub/gateway/internal/testcert"
)

// TestRetainAndQoSOptions: with retain off, discovery, state and availability
// are not retained (the hub status still is), and the configured QoS is used.
func TestRetainAndQoSOptions(t *testing.T) {
	tg := targets(t)[0]
	hub := newTestHub(t)
	rec := newRecorder()
	no, qos0 := false, 0
	p, _ := runPublisher(t, Config{Broker: tg.url, Retain: &no, QoS: &qos0, OnPublish: rec.onPublish}, hub.reg, hub)
	light := hub.entry(t, "light-1")
	stateT, _, availT, _, configT := p.Topics(light.Endpoint)
	rec.waitCount(t, stateT, "", 0, 10*time.Second)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, r := range rec.recs {
		want := r.topic == p.StatusTopic()
		if r.retained != want {
			t.Errorf("%s retained=%v, want %v", r.topic, r.retained, want)
		}
	}
	for _, topic := range []string{configT, availT, stateT} {
		found := false
		for _, r := range rec.recs {
			found = found || r.topic == topic
			if r.topic == configT {
				var c map[string]any
				if err := json.Unmarshal([]byte(r.payload), &c); err != nil || c["qos"] != 0.0 {
					t.Errorf("config qos = %v (%v), want 0", c["qos"], err)
				}
			}
		}
		if !found {
			t.Errorf("%s not published", topic)
		}
	}
}

// TestOverTLS: the publisher reaches a TLS embedded broker with users through
// the broker's client TLS configuration and internal credentials.
func TestOverTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := testcert.WriteSelfSigned(t, dir, "avshub.local")
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0", TLSCert: cert, TLSKey: key, Logger: quiet(),
		Users: []broker.User{{Username: "ha", Password: "pw", Read: []string{"#"}, Write: []string{"avshub/+/set"}}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	hub := newTestHub(t)
	user, pass := b.Credentials()
	rec := newRecorder()
	p, _ := runPublisher(t, Config{Broker: b.URL(), TLS: b.ClientTLS(), Username: user, Password: pass, OnPublish: rec.onPublish}, hub.reg, hub)
	rec.waitCount(t, p.StatusTopic(), "online", 0, 10*time.Second)
}
