package sdk

import (
	"context"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/proto/bridge/v1/convert"
)

// TestLinkIsSentWhenItMoved: a bridge reports a device's link with every
// frame; the streams get it when the quality moved by 5 points or the device
// was heard 30 s after the last one sent; a new stream's snapshot has the
// latest link, an Upsert without a link keeps it; and a link event crosses
// the wire unchanged.
func TestLinkIsSentWhenItMoved(t *testing.T) {
	e := newEmitter()
	sub := e.subscribe()
	defer e.unsubscribe(sub)
	bulb := Light("bulb", "IKEA bulb", DimmableLight)
	e.Snapshot([]model.Device{bulb})
	t0 := time.Date(2026, 12, 5, 14, 0, 0, 0, time.UTC)
	q := func(n int) *int { return &n }
	steps := []struct {
		link model.Link
		sent bool
	}{
		{model.Link{Quality: q(72), LastSeen: t0}, true},                       // the first
		{model.Link{Quality: q(74), LastSeen: t0.Add(time.Second)}, false},     // moved 2 points, 1 s
		{model.Link{Quality: q(68), LastSeen: t0.Add(2 * time.Second)}, false}, // 4 points from the last sent
		{model.Link{Quality: q(66), LastSeen: t0.Add(3 * time.Second)}, true},  // 6 points
		{model.Link{Quality: q(66), LastSeen: t0.Add(40 * time.Second)}, true}, // heard 37 s later
		{model.Link{Quality: nil, LastSeen: t0.Add(41 * time.Second)}, true},   // quality unknown now
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, want := range []model.EventKind{model.EventHealth, model.EventSnapshot} {
		if ev, _ := sub.next(ctx); ev.Kind != want {
			t.Fatalf("stream starts with %s, want %s", ev.Kind, want)
		}
	}
	for i, s := range steps {
		e.Link("bulb", s.link)
		e.Reachability("bulb", i%2 == 1) // a marker after each step (the bulb starts reachable)
		ev, _ := sub.next(ctx)
		if got := ev.Kind == model.EventLink; got != s.sent {
			t.Fatalf("step %d (%+v): sent %t, want %t (got %s)", i, s.link, got, s.sent, ev.Kind)
		}
		if s.sent {
			if ev.DeviceID != "bulb" || !linkEqual(ev.Link, &s.link) {
				t.Errorf("step %d: event %+v, want the link %+v", i, ev, s.link)
			}
			back, ok := convert.EventFrom(convert.Event(ev))
			if !ok || back.Kind != model.EventLink || back.DeviceID != "bulb" || !linkEqual(back.Link, &s.link) {
				t.Errorf("step %d: over the wire %+v, want %+v", i, back, ev)
			}
			ev, _ = sub.next(ctx)
		}
		if ev.Kind != model.EventReachability {
			t.Fatalf("step %d: %s where the marker should be", i, ev.Kind)
		}
	}
	e.Link("bulb", model.Link{Quality: q(90), LastSeen: t0.Add(50 * time.Second)})
	e.Upsert(bulb) // the bridge's device has no link: the SDK keeps the last one
	fresh := e.subscribe()
	defer e.unsubscribe(fresh)
	fresh.next(ctx)
	snap, _ := fresh.next(ctx)
	if snap.Kind != model.EventSnapshot || len(snap.Devices) != 1 || snap.Devices[0].Link == nil || *snap.Devices[0].Link.Quality != 90 {
		t.Errorf("a new stream's snapshot %+v, want the bulb with its latest link (90 %%)", snap.Devices)
	}
	if d := convert.DeviceFrom(convert.Device(snap.Devices[0])); !linkEqual(d.Link, snap.Devices[0].Link) {
		t.Errorf("the device's link over the wire: %+v, want %+v", d.Link, snap.Devices[0].Link)
	}
}

func linkEqual(a, b *model.Link) bool {
	if a == nil || b == nil {
		return a == b
	}
	if (a.Quality == nil) != (b.Quality == nil) || (a.Quality != nil && *a.Quality != *b.Quality) {
		return false
	}
	return a.LastSeen.Equal(b.LastSeen)
}
