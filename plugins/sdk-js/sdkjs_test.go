// Package sdkjs holds the Go tests of the JavaScript SDK: the Go conformance
// kit is the judge of JavaScript bridges too.
package sdkjs

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/examples/httprelay/relaysim"
	"github.com/avshub/avshub/plugins/host"
	"github.com/avshub/avshub/plugins/plugintest"
)

// node fails the test, with how to install it, when Node.js or the SDK's
// packages are missing (the tests never skip: CI installs them).
func node(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("Node.js 20 or later is needed for the JavaScript SDK: apt-get install nodejs npm, then make test (it runs npm ci in plugins/sdk-js)")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "@grpc", "grpc-js")); err != nil {
		t.Fatal("the JavaScript SDK's packages are not installed: run npm ci in plugins/sdk-js (make test does)")
	}
}

// The HTTP relay bridge in JavaScript passes avshub plugin check against two
// relays polled every second from a relay box the test runs.
func TestJSRelayBridgePassesPluginCheck(t *testing.T) {
	node(t)
	box := relaysim.New(2)
	defer box.Close()
	bin, _ := filepath.Abs(filepath.Join("examples", "httprelay", "bridge-httprelay"))
	cfg := `{"pollEvery":"1s","boxes":[{"id":"garage","name":"Garage","url":"` + box.URL + `","relays":2}]}`
	r, err := plugintest.Check(context.Background(), bin, []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	_ = r.WriteText(&text)
	t.Log(text.String())
	if !r.Passed || len(r.Endpoints) != 2 {
		t.Fatalf("plugin check of the JavaScript bridge:\n%s", text.String())
	}
	if !box.On(0) && !box.On(1) {
		t.Error("the kit's commands never reached the relay box")
	}
}

// A JavaScript bridge with a device of every kind, built from the SDK's blocks
// (a slow lock answered as accepted and completed later, pairing that adds a
// device), passes avshub plugin check, and its endpoints carry every trait the
// model has: a new trait fails here until the JavaScript SDK has a block for it.
func TestJSBlocksForEveryTrait(t *testing.T) {
	node(t)
	bin, _ := filepath.Abs(filepath.Join("examples", "everykind", "bridge-everykind"))
	r, err := plugintest.Check(context.Background(), bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	_ = r.WriteText(&text)
	if !r.Passed {
		t.Fatalf("plugin check of the JavaScript bridge:\n%s", text.String())
	}
	if !r.Bridge.Pairing {
		t.Error("the bridge has startPairing but does not declare pairing")
	}
	has := map[string]bool{}
	for _, e := range r.Endpoints {
		for _, k := range e.Traits {
			kind, _, _ := strings.Cut(k, ":") // a generic trait: kind:instance
			has[kind] = true
		}
	}
	for _, k := range model.AllTraitKinds() {
		if !has[string(k)] {
			t.Errorf("no endpoint of the JavaScript bridge has the %s trait (its blocks: plugins/sdk-js/index.js)", k)
		}
	}
	t.Log(text.String())
}

// eventLog is a model.Sink that keeps a bridge's events.
type eventLog struct {
	mu  sync.Mutex
	evs []model.Event
}

func (l *eventLog) BridgeEvent(_ string, ev model.Event) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
}

// waitFor polls the log until ok holds (or fails after a generous bound).
func (l *eventLog) waitFor(t *testing.T, what string, ok func([]model.Event) bool) {
	t.Helper()
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		l.mu.Lock()
		evs := slices.Clone(l.evs)
		l.mu.Unlock()
		if ok(evs) {
			return
		}
	}
	t.Fatalf("never saw %s", what)
}

// Under the hub's own supervisor, a JavaScript bridge reports pairing progress
// (window open, the device announced, interviewed, published, window closed)
// and removes a device (bridge API 1.1), as a Go bridge does.
func TestJSPairingProgressAndRemove(t *testing.T) {
	node(t)
	bin, _ := filepath.Abs(filepath.Join("examples", "everykind", "bridge-everykind"))
	log := &eventLog{}
	s, err := host.New(host.Config{Name: "everykind", Path: bin, Sink: log, Config: []byte("{}"), DataDir: t.TempDir(),
		Env: []string{"PATH=" + os.Getenv("PATH")}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	has := func(k model.EventKind) func([]model.Event) bool {
		return func(evs []model.Event) bool {
			return slices.ContainsFunc(evs, func(e model.Event) bool { return e.Kind == k })
		}
	}
	log.waitFor(t, "the snapshot", has(model.EventSnapshot))
	if d := s.Description(); !d.Pairing || !d.Remove || !d.PairingProgress {
		t.Fatalf("capabilities %+v, want pairing, remove and pairing progress", d)
	}
	if err := s.StartPairing(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	var stages []model.PairingStage
	log.waitFor(t, "the pairing window close", func(evs []model.Event) bool {
		stages = stages[:0]
		for _, e := range evs {
			if e.Kind == model.EventPairing {
				stages = append(stages, e.Pairing.Stage)
			}
		}
		return slices.Contains(stages, model.PairingClosed)
	})
	want := []model.PairingStage{model.PairingOpen, model.PairingAnnounced, model.PairingInterviewing, model.PairingPublished, model.PairingClosed}
	if !slices.Equal(stages, want) {
		t.Fatalf("pairing stages %v, want %v", stages, want)
	}
	log.waitFor(t, "the joined device", has(model.EventUpsert))
	if err := s.RemoveDevice(ctx, "porch"); err != nil {
		t.Fatal(err)
	}
	log.waitFor(t, "the removal", func(evs []model.Event) bool {
		return slices.ContainsFunc(evs, func(e model.Event) bool { return e.Kind == model.EventRemove && e.DeviceID == "porch" })
	})
	if err := s.RemoveDevice(ctx, "porch"); err == nil {
		t.Error("removing a device that is gone succeeded")
	}
}
