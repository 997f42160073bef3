package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/web"
)

// pairingHub is a web.Source and web.PairingSource whose Pair plays a
// pairing: the window, a bulb joining step by step, a remote failing, a device
// of another bridge, the window's end.
type pairingHub struct {
	mu   sync.Mutex
	subs []chan web.PairingEvent
}

func (h *pairingHub) Status() web.Status                          { return web.Status{} }
func (h *pairingHub) Endpoints() []web.Endpoint                   { return nil }
func (h *pairingHub) Changes(ctx context.Context) <-chan struct{} { return make(chan struct{}) }
func (h *pairingHub) Pairing() []web.PairingSession               { return nil }
func (h *pairingHub) Remove(context.Context, string) error        { return nil }
func (h *pairingHub) PairingEvents(ctx context.Context) <-chan web.PairingEvent {
	ch := make(chan web.PairingEvent, 16)
	h.mu.Lock()
	h.subs = append(h.subs, ch)
	h.mu.Unlock()
	return ch
}

func (h *pairingHub) Pair(_ context.Context, bridge string, d time.Duration) error {
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.Local)
	evs := []web.PairingEvent{
		{Bridge: bridge, At: at, Stage: "open", Remaining: int(d.Seconds())},
		{Bridge: bridge, At: at.Add(time.Second), Stage: "announced", DeviceID: "0017880104a1c3e5", Detail: "announced itself (short address 0x1234)", Remaining: 59},
		{Bridge: "mqtt", At: at.Add(time.Second), Stage: "announced", DeviceID: "0x99", Detail: "device_joined", Remaining: 10},
		{Bridge: bridge, At: at.Add(2 * time.Second), Stage: "interviewing", DeviceID: "0017880104a1c3e5", Detail: "reading the Basic cluster: manufacturer, model and power source", Remaining: 58},
		{Bridge: bridge, At: at.Add(3 * time.Second), Stage: "published", DeviceID: "0017880104a1c3e5", EndpointID: "h::zigbee::0017880104a1c3e5",
			Name: "Philips bulb", Traits: []string{"on_off", "brightness", "color"}, Remaining: 57},
		{Bridge: bridge, At: at.Add(4 * time.Second), Stage: "failed", DeviceID: "000b57fffe3a1f2c", Detail: "IKEA TRADFRI remote control is a remote or button", Remaining: 56},
		{Bridge: bridge, At: at.Add(60 * time.Second), Stage: "closed"},
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.subs {
		for _, ev := range evs {
			ch <- ev
		}
	}
	return nil
}

// TestPairWaitsAndPrintsProgress runs `avshub pair` against a local API on a
// unix socket: it listens before opening the network, prints each step of
// that bridge's devices as it happens (not another bridge's), and returns when
// the network closes.
func TestPairWaitsAndPrintsProgress(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: web.New(&pairingHub{}, nil, nil).APIHandler()}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errw bytes.Buffer
	if err := cmdPair(ctx, []string{"zigbee", "--socket", sock}, &out, &errw); err != nil {
		t.Fatalf("pair: %v\n%s", err, errw.String())
	}
	want := []string{
		"zigbee is open for pairing for 1m0s: put your device in pairing mode now.",
		"12:00:00 zigbee is open for joining: 60s left",
		"12:00:01 + 0017880104a1c3e5 announced: announced itself (short address 0x1234) (59s left)",
		"12:00:02   0017880104a1c3e5: reading the Basic cluster: manufacturer, model and power source",
		`12:00:03 ✓ 0017880104a1c3e5 published as "Philips bulb" (on_off, brightness, color), endpoint h::zigbee::0017880104a1c3e5`,
		"12:00:04 ✗ 000b57fffe3a1f2c failed: IKEA TRADFRI remote control is a remote or button",
		"12:01:00 zigbee is closed again: 1 device joined, 1 failed.",
	}
	if got := strings.TrimSpace(out.String()); got != strings.Join(want, "\n") {
		t.Fatalf("output:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// TestPairNoWait: `avshub pair --no-wait` (for scripts) opens the network,
// says so in one line and returns at once, without listening for devices.
func TestPairNoWait(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	h := &pairingHub{}
	srv := &http.Server{Handler: web.New(h, nil, nil).APIHandler()}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out, errw bytes.Buffer
	if err := cmdPair(ctx, []string{"zigbee", "--no-wait", "--for", "2m", "--socket", sock}, &out, &errw); err != nil {
		t.Fatalf("pair --no-wait: %v\n%s", err, errw.String())
	}
	if got, want := out.String(), "zigbee is open for pairing for 2m0s: put your device in pairing mode now.\n"; got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) != 0 {
		t.Errorf("pair --no-wait listened for pairing events (%d streams)", len(h.subs))
	}
}
