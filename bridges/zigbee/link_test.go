package zigbee

import (
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// TestLinkFromIncomingFrames: each AF_INCOMING_MSG from a device reports its
// link: the LQI the coordinator received it with, in % (znp-sim sends 200 for
// a router, 138 for an end device), and the time it arrived.
func TestLinkFromIncomingFrames(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(published...)
	cases := []struct {
		id      string
		set     map[string]int64
		quality int
	}{
		{ieeeDim, map[string]int64{"currentLevel": 120}, model.LinkQualityPercent(0xC8)},     // a mains-powered bulb: a router
		{ieeeAqara, map[string]int64{"measuredValue": 2111}, model.LinkQualityPercent(0x8A)}, // a battery sensor: an end device
	}
	for _, c := range cases {
		m := r.em.mark()
		before := time.Now()
		if err := r.sim.Set(c.id, c.set); err != nil {
			t.Fatal(err)
		}
		ev := r.em.waitFor(t, m, "the link of "+c.id, func(ev model.Event) bool {
			return ev.Kind == model.EventLink && ev.DeviceID == c.id
		})
		if ev.Link.Quality == nil || *ev.Link.Quality != c.quality {
			t.Errorf("%s: link quality %v, want %d %%", c.id, ev.Link.Quality, c.quality)
		}
		if ev.Link.LastSeen.Before(before) || time.Since(ev.Link.LastSeen) > 10*time.Second {
			t.Errorf("%s: last seen %s, want the frame's arrival (after %s)", c.id, ev.Link.LastSeen, before)
		}
	}
	if model.LinkQualityPercent(0xC8) != 78 || model.LinkQualityPercent(255) != 100 || model.LinkQualityPercent(0) != 0 {
		t.Errorf("LQI to %%: 200→%d, 255→%d, 0→%d; want 78, 100, 0", model.LinkQualityPercent(0xC8), model.LinkQualityPercent(255), model.LinkQualityPercent(0))
	}
}

// TestLinkOnPublish: a device is published with the link of the frames its
// interview received (the page showed a just-paired device's signal as "not
// reported by this bridge" until its next report; issue 16 point 4).
func TestLinkOnPublish(t *testing.T) {
	r := newRig(t, testDevices(t))
	before := time.Now()
	for id, d := range r.pair(ieeeDim, ieeeAqara) {
		want := model.LinkQualityPercent(0xC8)
		if id == ieeeAqara {
			want = model.LinkQualityPercent(0x8A)
		}
		if d.Link == nil || d.Link.Quality == nil || *d.Link.Quality != want {
			t.Errorf("%s published with link %+v, want quality %d %%", id, d.Link, want)
			continue
		}
		if d.Link.LastSeen.Before(before) || time.Since(d.Link.LastSeen) > time.Minute {
			t.Errorf("%s: last seen %s, want a frame of its interview (after %s)", id, d.Link.LastSeen, before)
		}
	}
}
