package mqtt

import (
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery/model"
)

// kindsEndpoint finds the endpoint of the z2m-sim device of kind whose
// traits satisfy has, with its id (under the recorder's lock).
func kindsEndpoint(r *recorder, sim *z2msim.Sim, kind string, has func(model.Traits) bool) (model.Device, bool) {
	dev, ok := sim.Device(z2msim.KindNames[kind])
	if !ok {
		return model.Device{}, false
	}
	for id, d := range r.devices {
		if (id == "z2m:"+dev.IEEEAddress || strings.HasPrefix(id, "z2m:"+dev.IEEEAddress+"/")) && has(d.Endpoint.Traits) {
			return d, true
		}
	}
	return model.Device{}, false
}

// TestZ2MSimKinds runs the bridge against z2m-sim's devices of the newer
// kinds (as the real zigbee2mqtt describes and drives them: z2msim's
// KindsRecordingFile): each becomes an endpoint with its state, the blind,
// the siren and the plug obey commands, and changes by hand at the door,
// leak, smoke, CO and motion sensors and the plug's load reach the
// endpoints as physical changes.
func TestZ2MSimKinds(t *testing.T) {
	e := newEnv(t, brokers()[0])
	// A blind's 10 % every 300 ms: a travel of 70 % takes 2.1 s, time to
	// stop it on its way however loaded the machine.
	sim := e.startSimWith(z2msim.Options{Kinds: true, TravelStep: 300 * time.Millisecond})
	e.startBridge("")

	type want struct {
		kind string
		has  func(model.Traits) bool
		// known: the state the endpoint starts with, as zigbee2mqtt
		// published it (nil: nothing known yet).
		known func(model.State) bool
	}
	kinds := []want{
		{z2msim.KindCover, func(t model.Traits) bool { return t.Cover != nil }, func(s model.State) bool { return s.CoverPosition != nil && *s.CoverPosition == 100 }},
		{z2msim.KindTiltCover, func(t model.Traits) bool { return t.Cover != nil && t.Cover.Tilt }, func(s model.State) bool { return s.CoverTilt != nil && *s.CoverTilt == 100 }},
		{z2msim.KindPlug, func(t model.Traits) bool { return t.OnOff != nil && t.Power != nil && t.Energy != nil }, func(s model.State) bool {
			return s.On != nil && !*s.On && s.Watts != nil && *s.Watts == 0
		}},
		{z2msim.KindContact, func(t model.Traits) bool { return t.Contact != nil }, nil},
		{z2msim.KindWaterLeak, func(t model.Traits) bool { return t.WaterLeak != nil }, nil},
		{z2msim.KindOccupancy, func(t model.Traits) bool { return t.Motion != nil && t.Illuminance != nil }, func(s model.State) bool {
			return s.Illuminance != nil && *s.Illuminance == 100
		}},
		{z2msim.KindSmoke, func(t model.Traits) bool { return t.Smoke != nil }, nil},
		{z2msim.KindCO, func(t model.Traits) bool { return t.Gas != nil }, nil},
		{z2msim.KindSiren, func(t model.Traits) bool { return t.Siren != nil }, nil},
		{z2msim.KindFan, func(t model.Traits) bool { return t.Fan != nil }, nil},
	}
	for _, k := range kinds {
		e.rec.wait(t, "the "+k.kind+" endpoint with its state", func(r *recorder) bool {
			d, ok := kindsEndpoint(r, sim, k.kind, k.has)
			return ok && d.Reachable && (k.known == nil || k.known(d.State))
		})
	}
	// The button is a remote: no endpoint unless opted in.
	button, _ := sim.Device(z2msim.KindNames[z2msim.KindButton])
	skipped := false
	for _, s := range e.bridge.Skipped() {
		skipped = skipped || (s.ID == button.FriendlyName && s.Part == "")
	}
	if !skipped {
		t.Errorf("the button %s was not skipped as a remote: %+v", button.FriendlyName, e.bridge.Skipped())
	}

	id := func(kind string, has func(model.Traits) bool) string {
		t.Helper()
		e.rec.mu.Lock()
		defer e.rec.mu.Unlock()
		d, ok := kindsEndpoint(e.rec, sim, kind, has)
		if !ok {
			t.Fatalf("no endpoint of the %s", kind)
		}
		return d.Endpoint.DeviceID
	}
	simState := func(kind string) map[string]any {
		d, _ := sim.Device(z2msim.KindNames[kind])
		return d.State
	}
	stateOf := func(deviceID string) model.State {
		d, _ := e.rec.device(deviceID)
		return d.State
	}

	t.Run("blind", func(t *testing.T) {
		blind := id(z2msim.KindCover, kinds[0].has)
		if _, _, err := e.execFinal(blind, model.SetCoverPosition(30)); err != nil {
			t.Fatal(err)
		}
		// zigbee2mqtt shows the target at once, then the blind's reports as
		// it travels; the last one is where it stopped.
		e.rec.wait(t, "the blind's travel to 30 %", func(r *recorder) bool {
			_, pending, _ := sim.Answers(z2msim.KindNames[z2msim.KindCover])
			p := r.devices[blind].State.CoverPosition
			return pending == 0 && p != nil && *p == 30 && simState(z2msim.KindCover)["position"] == 30.0
		})
		if _, _, err := e.execFinal(blind, model.SetCoverPosition(100)); err != nil {
			t.Fatal(err)
		}
		// Stopped on its way up, once its first report has come.
		e.rec.wait(t, "the blind on its way up", func(r *recorder) bool {
			p := r.devices[blind].State.CoverPosition
			return p != nil && *p > 30 && *p < 100
		})
		if _, err := e.exec(blind, model.StopCover()); err != nil {
			t.Fatal(err)
		}
		e.rec.wait(t, "the blind stopped where z2m-sim has it", func(r *recorder) bool {
			p, _ := simState(z2msim.KindCover)["position"].(float64)
			have := r.devices[blind].State.CoverPosition
			return have != nil && p > 30 && p < 100 && float64(*have) == p
		})
	})

	t.Run("slats", func(t *testing.T) {
		slats := id(z2msim.KindTiltCover, kinds[1].has)
		if _, _, err := e.execFinal(slats, model.SetCoverTilt(40)); err != nil {
			t.Fatal(err)
		}
		e.rec.wait(t, "the slats at 40 %", func(r *recorder) bool {
			tl := r.devices[slats].State.CoverTilt
			return tl != nil && *tl == 40 && simState(z2msim.KindTiltCover)["tilt"] == 40.0
		})
	})

	t.Run("siren", func(t *testing.T) {
		siren := id(z2msim.KindSiren, kinds[8].has)
		for _, on := range []bool{true, false} {
			status, st, err := e.execFinal(siren, model.SetSiren(on))
			if err != nil || status != model.Done || st.Siren == nil || *st.Siren != on {
				t.Fatalf("siren %v: %s %+v %v", on, status, st, err)
			}
			// zigbee2mqtt publishes nothing for a warning: the bridge
			// answered with the state it assumes; the siren has it.
			want := map[bool]string{true: "emergency", false: ""}[on]
			e.rec.wait(t, "z2m-sim's siren sounding "+want, func(*recorder) bool {
				d, _ := sim.Device(z2msim.KindNames[z2msim.KindSiren])
				return d.Warning == want
			})
		}
	})

	t.Run("plug", func(t *testing.T) {
		plug := id(z2msim.KindPlug, kinds[2].has)
		status, st, err := e.execFinal(plug, model.SetPower(true))
		if err != nil || status != model.Done || st.On == nil || !*st.On {
			t.Fatalf("plug on: %s %+v %v", status, st, err)
		}
		e.rec.wait(t, "the plug's load drawing 60 W", func(r *recorder) bool {
			w := r.devices[plug].State.Watts
			return w != nil && *w == 60
		})
		if status, st, err := e.execFinal(plug, model.SetPower(false)); err != nil || status != model.Done || st.On == nil || *st.On {
			t.Fatalf("plug off: %s %+v %v", status, st, err)
		}
		e.rec.wait(t, "the plug drawing nothing", func(r *recorder) bool {
			w := r.devices[plug].State.Watts
			return w != nil && *w == 0
		})
	})

	t.Run("by hand", func(t *testing.T) {
		for _, c := range []struct {
			kind  string
			has   func(model.Traits) bool
			set   map[string]any
			shows func(model.State) bool
		}{
			{z2msim.KindContact, kinds[3].has, map[string]any{"contact": false}, func(s model.State) bool { return s.ContactOpen != nil && *s.ContactOpen }},
			{z2msim.KindContact, kinds[3].has, map[string]any{"contact": true}, func(s model.State) bool { return s.ContactOpen != nil && !*s.ContactOpen }},
			{z2msim.KindWaterLeak, kinds[4].has, map[string]any{"water_leak": true}, func(s model.State) bool { return s.WaterLeak != nil && *s.WaterLeak }},
			{z2msim.KindOccupancy, kinds[5].has, map[string]any{"occupancy": true}, func(s model.State) bool { return s.Motion != nil && *s.Motion }},
			{z2msim.KindSmoke, kinds[6].has, map[string]any{"smoke": true}, func(s model.State) bool { return s.Smoke != nil && *s.Smoke }},
			{z2msim.KindCO, kinds[7].has, map[string]any{"carbon_monoxide": true}, func(s model.State) bool { return s.Gas != nil && *s.Gas }},
			{z2msim.KindPlug, kinds[2].has, map[string]any{"power": 123.4}, func(s model.State) bool { return s.Watts != nil && *s.Watts == 123.4 }},
		} {
			dev := id(c.kind, c.has)
			from := e.rec.count()
			if _, err := sim.Set(z2msim.KindNames[c.kind], c.set); err != nil {
				t.Fatal(err)
			}
			e.rec.wait(t, c.kind+" changed by hand", func(r *recorder) bool { return c.shows(r.devices[dev].State) })
			evs := e.rec.stateEvents(dev, from)
			if len(evs) == 0 || evs[len(evs)-1].Cause != model.CausePhysical {
				t.Errorf("%s %v: state events %+v, want a PHYSICAL_INTERACTION change", c.kind, c.set, evs)
			}
		}
		if s := stateOf(id(z2msim.KindWaterLeak, kinds[4].has)); s.BatteryLow == nil || *s.BatteryLow {
			t.Errorf("the leak sensor's battery_low after its zone status: %+v", s.BatteryLow)
		}
	})
}
