package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/avshub/avshub/plugins/examples/httprelay/relaysim"
	"github.com/avshub/avshub/plugins/plugintest"
)

func config(t *testing.T, box *relaysim.Box) json.RawMessage {
	return json.RawMessage(`{"pollEvery":"1s","boxes":[{"id":"garage","name":"Garage","url":"` + box.URL + `","relays":2}]}`)
}

func TestConformance(t *testing.T) {
	box := relaysim.New(2)
	defer box.Close()
	plugintest.Run(t, &bridge{client: &http.Client{Timeout: 5 * time.Second}}, plugintest.Config{Config: config(t, box)})
	if !box.On(0) && !box.On(1) {
		t.Error("the kit's commands never reached the relay box")
	}
}

func TestBinaryPassesPluginCheck(t *testing.T) {
	box := relaysim.New(2)
	defer box.Close()
	bin := filepath.Join(t.TempDir(), "bridge-httprelay")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	r, err := plugintest.Check(context.Background(), bin, config(t, box))
	if err != nil || !r.Passed || len(r.Endpoints) != 2 {
		t.Fatalf("plugin check: %v %+v", err, r)
	}
}
