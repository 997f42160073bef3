package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// pairingEvents returns the pairing reports since event index from.
func (r *recorder) pairingEvents(from int) []model.Pairing {
	var out []model.Pairing
	for _, ev := range r.events[min(from, len(r.events)):] {
		if ev.Kind == model.EventPairing {
			out = append(out, *ev.Pairing)
		}
	}
	return out
}

// TestZ2MRemoveThenPairAgain removes two z2m-sim devices through the bridge
// (bridge/request/device/remove with a transaction, answered on
// bridge/response/device/remove): one that leaves on request, and one asleep,
// whose leave request fails and which is then removed with force; both are
// gone from zigbee2mqtt's list and from the bridge's device set. Opening the
// network (bridge/request/permit_join) makes them join again, reported from
// zigbee2mqtt's bridge/event messages: announced, interviewed, published
// with their endpoints after their Upsert.
func TestZ2MRemoveThenPairAgain(t *testing.T) {
	e := newEnv(t, brokers()[0])
	sim := e.startSim()
	e.startBridge("")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var awake, asleep string // ieee addresses
	for _, d := range sim.Devices() {
		if dev, ok := e.rec.device("z2m:" + d.IEEEAddress); ok && dev.Reachable {
			switch {
			case awake == "":
				awake = d.IEEEAddress
			case asleep == "":
				asleep = d.IEEEAddress
				if err := sim.SetAsleep(d.FriendlyName, true); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if asleep == "" {
		t.Fatal("z2m-sim has fewer than two bridged single-endpoint devices")
	}
	mark := e.mark()
	for _, ieee := range []string{awake, asleep} {
		if err := e.local.RemoveDevice(ctx, "z2m:"+ieee); err != nil {
			t.Fatalf("RemoveDevice %s: %v", ieee, err)
		}
		e.rec.wait(t, ieee+" gone from the bridge's device set", func(r *recorder) bool {
			_, ok := r.devices["z2m:"+ieee]
			return !ok
		})
		for _, d := range sim.Devices() {
			if d.IEEEAddress == ieee {
				t.Errorf("z2m-sim still lists %s", ieee)
			}
		}
	}
	// The requests: each with a transaction; the asleep device's twice,
	// the second with force.
	type req struct {
		ID          string `json:"id"`
		Force       bool   `json:"force"`
		Block       bool   `json:"block"`
		Transaction string `json:"transaction"`
	}
	var reqs []req
	for _, p := range e.rawSince(mark, e.base+"/bridge/request/device/remove") {
		var r req
		if err := json.Unmarshal([]byte(p), &r); err != nil || r.Transaction == "" || r.Block {
			t.Errorf("request %s: want an id, force, block false and a transaction (%v)", p, err)
		}
		reqs = append(reqs, r)
	}
	// (The raw client may deliver them out of order.)
	got := map[req]int{}
	for _, r := range reqs {
		got[req{ID: r.ID, Force: r.Force}]++
	}
	want := map[req]int{{ID: awake}: 1, {ID: asleep}: 1, {ID: asleep, Force: true}: 1}
	if !maps.Equal(got, want) {
		t.Errorf("remove requests %+v, want %+v", reqs, want)
	}
	if len(e.logs.matching("did not leave on request")) != 1 {
		t.Errorf("the failed leave request of %s is not logged once: %q", asleep, e.logs.matching("did not leave"))
	}

	from := e.rec.count()
	if err := e.local.StartPairing(ctx, 30*time.Second); err != nil {
		t.Fatalf("StartPairing: %v", err)
	}
	e.rec.wait(t, "both devices published again", func(r *recorder) bool {
		n := 0
		for _, p := range r.pairingEvents(from) {
			if p.Stage == model.PairingPublished {
				n++
			}
		}
		return n == 2
	})
	e.rec.mu.Lock()
	evs := append([]model.Event(nil), e.rec.events[from:]...)
	e.rec.mu.Unlock()
	for _, ieee := range []string{awake, asleep} {
		id := "z2m:" + ieee
		var stages []string
		upserted := false
		for _, ev := range evs {
			switch {
			case ev.Kind == model.EventUpsert && ev.Device.Endpoint.DeviceID == id:
				upserted = true
			case ev.Kind == model.EventPairing && ev.Pairing.DeviceID == id:
				stages = append(stages, string(ev.Pairing.Stage))
				if ev.Pairing.Stage == model.PairingPublished {
					if !upserted {
						t.Errorf("%s reported published before its Upsert", id)
					}
					if ep := ev.Pairing.Endpoint; ep == nil || ep.DeviceID != id || ep.Traits.Names() == nil {
						t.Errorf("%s published without its endpoint: %+v", id, ep)
					}
				}
				if ev.Pairing.Remaining <= 0 || ev.Pairing.Remaining > 30*time.Second {
					t.Errorf("%s %s with %s left, want the window's time", id, ev.Pairing.Stage, ev.Pairing.Remaining)
				}
			}
		}
		if got := strings.Join(stages, " "); got != "announced interviewing interviewing published" {
			t.Errorf("%s went through %q, want announced, interviewing (started, interviewed), published", id, got)
		}
	}
	var open []model.Pairing
	for _, p := range e.rec.pairingEvents(from) {
		if p.DeviceID == "" {
			open = append(open, p)
		}
	}
	if len(open) == 0 || open[0].Stage != model.PairingOpen || open[0].Remaining != 30*time.Second {
		t.Errorf("window reports %+v, want open for 30 s first", open)
	}
	if !sim.PermitJoin() {
		t.Error("z2m-sim's network is not open")
	}
	if p := e.waitRaw(e.base+"/bridge/request/permit_join", func(string) bool { return true }); !jsonHas(p, `"time":30`) {
		t.Errorf("permit_join request %s, want time 30", p)
	}
}

func jsonHas(p, sub string) bool {
	var v any
	if json.Unmarshal([]byte(p), &v) != nil {
		return false
	}
	b, _ := json.Marshal(v)
	return strings.Contains(string(b), sub)
}

// TestZ2MRequestErrors: zigbee2mqtt's error answer reaches the caller with
// its message; no answer at all is a clear error after the wait; a Home
// Assistant device the bridge does not know cannot be removed.
func TestZ2MRequestErrors(t *testing.T) {
	e := newEnv(t, brokers()[0])
	sim := e.startSim()
	e.startBridge("")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	_, err := e.bridge.request(ctx, "permit_join", map[string]any{"time": 300})
	if err == nil || !strings.Contains(err.Error(), "Cannot permit join for more than 254 seconds.") {
		t.Errorf("permit_join 300 s: %v, want zigbee2mqtt's refusal", err)
	}
	_, err = e.bridge.request(ctx, "device/remove", map[string]any{"id": "0x0000000000000bad"})
	if err == nil || !strings.Contains(err.Error(), "Device '0x0000000000000bad' does not exist") {
		t.Errorf("removing an unknown device: %v, want zigbee2mqtt's refusal", err)
	}
	var me *model.Error
	if err := e.bridge.RemoveDevice(ctx, "ha:some-entity"); !errors.As(err, &me) || me.Kind != model.ErrInvalidValue {
		t.Errorf("removing an unknown Home Assistant device: %v, want INVALID_VALUE", err)
	}

	sim.Close() // nobody answers now
	e.bridge.requestWait = 300 * time.Millisecond
	if err := e.bridge.StartPairing(ctx, time.Minute); !errors.As(err, &me) || me.Kind != model.ErrBridgeUnreachable ||
		!strings.Contains(err.Error(), "did not answer") {
		t.Errorf("StartPairing without zigbee2mqtt: %v, want a clear BRIDGE_UNREACHABLE", err)
	}
	e.rec.wait(t, "the window closed with why", func(r *recorder) bool {
		ps := r.pairingEvents(0)
		return len(ps) > 0 && ps[len(ps)-1].Stage == model.PairingClosed && strings.Contains(ps[len(ps)-1].Detail, "did not open")
	})
}

// TestPairingStepsWaitForTheFirstSnapshot: what zigbee2mqtt's bridge events
// cause (a device "published") waits until the first snapshot is out; sent
// before it, the hub did not know the device yet and the published step
// reached it without its endpoint (TestPairAndRemoveThroughRealZigbee2MQTT
// failed this way when the network opened right as the hub started).
func TestPairingStepsWaitForTheFirstSnapshot(t *testing.T) {
	b := New(slog.New(&logCapture{}))
	ran := 0
	b.mu.Lock()
	b.after = append(b.after, func() { ran++ })
	b.mu.Unlock()
	b.runAfter()
	if ran != 0 {
		t.Fatal("a pairing step ran before the first snapshot")
	}
	b.mu.Lock()
	b.snapshotSent = true
	b.mu.Unlock()
	b.runAfter()
	if ran != 1 {
		t.Fatalf("after the first snapshot the queued step ran %d times, want once", ran)
	}
	b.runAfter()
	if ran != 1 {
		t.Fatalf("a queued step ran %d times, want once", ran)
	}
}
