package mqtt

import (
	"fmt"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// TestZ2MLinkQualityAndLastSeen: zigbee2mqtt's linkquality (0–255) becomes the
// device's link quality in %, its last_seen (ISO 8601 or epoch ms, whichever
// advanced.last_seen picks) when the device was last heard; the snapshot has
// them and a new state message reports the link; a message without them
// changes nothing.
func TestZ2MLinkQualityAndLastSeen(t *testing.T) {
	e := newEnv(t, brokers()[0])
	sim := e.startSim()
	e.startBridge("")
	d := sim.Devices()[0]
	id := "z2m:" + d.IEEEAddress
	e.rec.wait(t, "the snapshot's link", func(r *recorder) bool {
		dev, ok := r.devices[id]
		return ok && dev.Link != nil && dev.Link.Quality != nil
	})
	dev, _ := e.rec.device(id)
	if want := model.LinkQualityPercent(120 + len(d.FriendlyName)%100); *dev.Link.Quality != want {
		t.Errorf("snapshot link quality %d %%, want %d %% (z2m-sim's linkquality)", *dev.Link.Quality, want)
	}
	at := time.Date(2026, 12, 5, 14, 3, 7, 250e6, time.UTC)
	cases := []struct {
		name, payload string
		quality       int
		seen          time.Time
	}{
		{"ISO_8601", `{"linkquality":200,"last_seen":"2026-12-05T14:03:07.250Z"}`, 78, at},
		{"ISO_8601_local", `{"linkquality":255,"last_seen":"2026-12-05T15:04:07.250+01:00"}`, 100, at.Add(time.Minute)},
		{"epoch", fmt.Sprintf(`{"linkquality":0,"last_seen":%d}`, at.Add(2*time.Minute).UnixMilli()), 0, at.Add(2 * time.Minute)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from := e.rec.count()
			e.publish(e.base+"/"+d.FriendlyName, c.payload, false)
			e.rec.wait(t, "the link event", func(r *recorder) bool {
				for _, ev := range r.events[from:] {
					if ev.Kind == model.EventLink && ev.DeviceID == id {
						if ev.Link.Quality == nil || *ev.Link.Quality != c.quality || !ev.Link.LastSeen.Equal(c.seen) {
							t.Errorf("link %+v (quality %v), want %d %% seen %s", ev.Link, ev.Link.Quality, c.quality, c.seen)
						}
						return true
					}
				}
				return false
			})
		})
	}
	// Messages without a usable link quality send no link event: the
	// bridge handles the device's messages in order, so by the time the
	// link event of a last message with one arrives, any link event of the
	// two before it has arrived too. (Other devices' states, which z2m-sim
	// publishes when it likes, are not this device's.)
	from := e.rec.count()
	e.publish(e.base+"/"+d.FriendlyName, `{"state":"ON"}`, false)
	e.publish(e.base+"/"+d.FriendlyName, `{"linkquality":"strong"}`, false) // not a number: ignored
	e.publish(e.base+"/"+d.FriendlyName, `{"linkquality":51}`, false)
	var links []model.Event
	e.rec.wait(t, "the last message's link event", func(r *recorder) bool {
		links = links[:0]
		for _, ev := range r.events[from:] {
			if ev.Kind == model.EventLink && ev.DeviceID == id {
				links = append(links, ev)
			}
		}
		if len(links) == 0 {
			return false
		}
		q := links[len(links)-1].Link.Quality
		return q != nil && *q == model.LinkQualityPercent(51)
	})
	if len(links) != 1 {
		t.Errorf("%d link events for three messages of which one has a link quality: %+v", len(links), links)
	}
}

func TestParseLinkRejectsOutOfRange(t *testing.T) {
	for _, m := range []map[string]any{{"linkquality": 300.0}, {"linkquality": -1.0}, {"last_seen": "yesterday"}, {"last_seen": -5.0}, {}} {
		if l, ok := parseLink(m, nil); ok {
			t.Errorf("%v gave a link %+v", m, l)
		}
	}
}
