package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avshub/avshub/gateway/web"
)

// TestBrokerPasswordNotShown: `avshub config check` and `avshub status` show
// the broker URL without its password (the hub's own surfaces are tested in
// gateway/hub).
func TestBrokerPasswordNotShown(t *testing.T) {
	const secret = "s3cret-pw"
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfg, []byte("hub:\n  serialNumber: hub-1\n  dataDir: data\nlwa:\n  clientId: amzn1.application-oa2-client.test\n"+
		"mqtt:\n  broker: tcp://user:"+secret+"@broker.lan:1883\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errw bytes.Buffer
	if code := realMain([]string{"config", "check", "--config", cfg}, &out, &errw); code != 0 {
		t.Fatalf("config check: exit %d: %s", code, errw.String())
	}
	// A status as an older hub would send it, password and all.
	var st bytes.Buffer
	printStatus(&st, web.Status{MQTT: web.MQTTStatus{Broker: "tcp://user:" + secret + "@broker.lan:1883"}})
	for surface, text := range map[string]string{"config check": out.String(), "status": st.String()} {
		if strings.Contains(text, secret) || !strings.Contains(text, "tcp://user:[REDACTED]@broker.lan:1883") {
			t.Errorf("avshub %s shows %q", surface, text)
		}
	}
}
