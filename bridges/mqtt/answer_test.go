package mqtt

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery/model"
)

// TestAnswerKeepsReadingMeanwhile: the answer to a command carries the
// state the command is about, never a copy of a reading. The answer and the
// device's events reach the hub by different ways, in either order: a plug's
// power published after the answer was made, reaching the hub first, stays
// once the hub applies the answer (before, the answer to the turn-on carried
// the plug's whole state, with its power from before, and the hub wrote it
// over the newer reading). A brightness's answer keeps the on/off zigbee2mqtt
// reported with it.
func TestAnswerKeepsReadingMeanwhile(t *testing.T) {
	e := newEnv(t, brokers()[0])
	sim := e.startSimWith(z2msim.Options{Kinds: true})
	e.startBridge("")
	has := func(t model.Traits) bool { return t.OnOff != nil && t.Power != nil }
	var plug string
	e.rec.wait(t, "the plug, off", func(r *recorder) bool {
		d, ok := kindsEndpoint(r, sim, z2msim.KindPlug, has)
		plug = d.Endpoint.DeviceID
		return ok && d.Reachable && d.State.On != nil && !*d.State.On && d.State.Watts != nil
	})

	for _, via := range []struct {
		name string
		exec func(model.Command) (model.Result, error)
	}{
		{"bridge", func(c model.Command) (model.Result, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
			defer cancel()
			return e.bridge.Execute(ctx, model.Request{CorrelationID: "direct-" + string(c.Trait), DeviceID: plug, Command: c, Deadline: time.Now().Add(7 * time.Second)})
		}},
		{"sdk", func(c model.Command) (model.Result, error) { return e.exec(plug, c) }},
	} {
		t.Run(via.name, func(t *testing.T) {
			for _, on := range []bool{true, false} {
				res, err := via.exec(model.SetPower(on))
				if err != nil || res.Status != model.Done {
					t.Fatalf("power %v: %+v %v", on, res, err)
				}
				// A reading by hand after the answer was made: its event
				// reaches the hub first, the answer after it.
				reading := 100.5
				if on {
					reading = 123.4
				}
				if _, err := sim.Set(z2msim.KindNames[z2msim.KindPlug], map[string]any{"power": reading}); err != nil {
					t.Fatal(err)
				}
				var hub model.State
				e.rec.wait(t, "the reading's event", func(r *recorder) bool {
					hub = r.devices[plug].State
					return hub.Watts != nil && *hub.Watts == reading
				})
				hub = hub.Merge(res.State)
				if hub.On == nil || *hub.On != on || hub.Watts == nil || *hub.Watts != reading {
					t.Errorf("power %v answered %s: the hub has %s after it, want on=%v and the newer %v W",
						on, asJSON(res.State), asJSON(hub), on, reading)
				}
			}
		})
	}

	// The hallway bulb is off: a brightness turns it on, and zigbee2mqtt
	// reports both; the answer keeps both.
	e.rec.wait(t, "the hallway bulb, off", func(r *recorder) bool {
		s := r.devices[idHallway].State
		return s.On != nil && !*s.On
	})
	res, err := e.exec(idHallway, model.SetBrightness(40))
	if err != nil || res.Status != model.Done {
		t.Fatalf("brightness: %+v %v", res, err)
	}
	if s := res.State; s.On == nil || !*s.On || s.Brightness == nil || *s.Brightness < 39 || *s.Brightness > 41 || len(s.Kinds()) != 2 {
		t.Errorf("the brightness answered %s, want on at 40 %% and nothing else", asJSON(s))
	}
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
