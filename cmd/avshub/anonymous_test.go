package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/web"
)

// The anonymous embedded broker is said plainly in `avshub status`, and
// `avshub link` prints a dashboard user that, pasted into the configuration,
// closes it.
func TestAnonymousBrokerOffer(t *testing.T) {
	var st bytes.Buffer
	printStatus(&st, web.Status{MQTT: web.MQTTStatus{Broker: "tcp://127.0.0.1:1883", Embedded: true, Anonymous: true}})
	if !strings.Contains(st.String(), "ANONYMOUS: any local process may control devices") {
		t.Fatalf("status does not say the broker is anonymous:\n%s", st.String())
	}

	base := "hub:\n  serialNumber: hub-1\n  dataDir: data\nlwa:\n  clientId: amzn1.application-oa2-client.test\n"
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte(base), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	offerBrokerUser(cfg, &out)
	text := out.String()
	i := strings.Index(text, "mqtt:\n")
	if i < 0 {
		t.Fatalf("no configuration offered:\n%s", text)
	}
	if err := os.WriteFile(path, []byte(base+text[i:]), 0o600); err != nil {
		t.Fatal(err)
	}
	closed, err := config.Load(path)
	if err != nil {
		t.Fatalf("the offered configuration does not load: %v\n%s", err, text[i:])
	}
	if u := closed.MQTT.Embedded.Users; len(u) != 1 || u[0].Username != "dashboard" || len(u[0].Password) != 24 {
		t.Fatalf("users %+v", u)
	}
	out.Reset()
	offerBrokerUser(closed, &out)
	if out.Len() != 0 {
		t.Fatalf("offered a user although one is configured: %s", out.String())
	}
}
