package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/web"
)

// TestPairWaitsAndPrintsDevices runs `avshub pair` against a local API whose
// endpoint list grows while the network is open: it prints each new device of
// that bridge once, with its traits, and says when the network closed.
func TestPairWaitsAndPrintsDevices(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	var paired atomic.Bool
	bulb := web.Endpoint{Endpoint: model.Endpoint{ID: "h::zigbee::1", Bridge: "zigbee", FriendlyName: "IKEA bulb", Category: model.CategoryLight,
		Traits: model.Traits{OnOff: &model.OnOff{}, Brightness: &model.Brightness{}}}, Reachable: true}
	other := web.Endpoint{Endpoint: model.Endpoint{ID: "h::mqtt::2", Bridge: "mqtt", FriendlyName: "Lamp", Category: model.CategoryLight,
		Traits: model.Traits{OnOff: &model.OnOff{}}}, Reachable: true}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/endpoints", func(w http.ResponseWriter, _ *http.Request) {
		n := calls.Add(1)
		list := []web.Endpoint{}
		if n >= 3 {
			list = append(list, bulb, other)
		}
		_ = json.NewEncoder(w).Encode(web.Page{Endpoints: list, Total: len(list)})
	})
	mux.HandleFunc("POST /api/v1/bridges/zigbee/pair", func(w http.ResponseWriter, _ *http.Request) {
		paired.Store(true)
		_, _ = w.Write([]byte(`{}`))
	})
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	var out bytes.Buffer
	c := web.NewClient(sock)
	before, err := c.Endpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Pair(context.Background(), "zigbee", time.Second); err != nil || !paired.Load() {
		t.Fatalf("pair: %v", err)
	}
	if err := watchPairing(context.Background(), c, "zigbee", before, 300*time.Millisecond, 20*time.Millisecond, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if strings.Count(got, "joined: ") != 1 || !strings.Contains(got, `"IKEA bulb", a light (on_off, brightness)`) {
		t.Fatalf("output:\n%s", got)
	}
	if strings.Contains(got, `"Lamp"`) {
		t.Fatalf("a device of another bridge was printed:\n%s", got)
	}
	if !strings.Contains(got, "zigbee is closed again: 1 device joined.") {
		t.Fatalf("no closing line:\n%s", got)
	}
}
