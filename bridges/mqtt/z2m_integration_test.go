package mqtt

import (
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

const (
	idColour   = "z2m:0x001788010b1c2d3e"
	idCeiling  = "z2m:0x000d6ffffe7a8b9c"
	idHallway  = "z2m:0x000d6ffffe1f2e3d"
	idLock     = "z2m:0x000d6f0011a2b3c4"
	idRadiator = "z2m:0x000b57fffe9a8b7c"
	idSensor   = "z2m:0x00158d00045a6b7c"
)

func TestZ2MSimEndToEnd(t *testing.T) {
	forEachBroker(t, func(t *testing.T, bk brokerKind) {
		e := newEnv(t, bk)
		sim := e.startSim()
		e.startBridge("")
		e.rec.wait(t, "six z2m devices with state", func(r *recorder) bool {
			if len(r.devices) != 6 {
				return false
			}
			for _, d := range r.devices {
				if !d.Reachable {
					return false
				}
			}
			return statesKnown(r)
		})
		// The retained device list was read before the snapshot: the hub never
		// sees an empty set followed by additions.
		e.rec.mu.Lock()
		for _, ev := range e.rec.events {
			if ev.Kind == model.EventSnapshot && len(ev.Devices) != 6 {
				t.Errorf("snapshot has %d devices, want 6", len(ev.Devices))
			}
		}
		e.rec.mu.Unlock()
		d, _ := e.rec.device(idColour)
		if d.Endpoint.FriendlyName != "Living Room Colour Bulb" || d.Endpoint.Category != model.CategoryLight ||
			d.Endpoint.Traits.Color == nil || d.Endpoint.Traits.ColorTemperature == nil || *d.Endpoint.Traits.ColorTemperature != (model.ColorTemperature{MinKelvin: 2000, MaxKelvin: 6536}) {
			t.Errorf("colour bulb endpoint = %+v", d.Endpoint)
		}
		var whole []Skip
		for _, s := range e.bridge.Skipped() {
			if s.Part == "" {
				whole = append(whole, s)
			}
		}
		if len(whole) != 1 || whole[0].ID != "Bedroom Remote" {
			t.Errorf("skipped devices = %+v, want only the remote", whole)
		}
		// Each skip is logged once, in the shape plugin check collects.
		if got := e.logs.skippedMatching("item=Bedroom Remote part= reason="); len(got) != 1 {
			t.Errorf("skipped records for the remote: %q", got)
		}

		tests := []struct {
			name    string
			id      string
			topic   string
			cmd     model.Command
			payload string
			check   func(model.State) bool
		}{
			{"power on", idColour, "Living Room/Colour Bulb", model.SetPower(true), `{"state":"ON"}`,
				func(s model.State) bool { return *s.On }},
			{"brightness 0-254", idColour, "Living Room/Colour Bulb", model.SetBrightness(50), `{"brightness":127}`,
				func(s model.State) bool { return *s.Brightness == 50 }},
			{"colour as hs", idColour, "Living Room/Colour Bulb", model.SetColor(model.HSB{Hue: 120, Saturation: 1, Brightness: 1}),
				`{"color":{"hue":120,"saturation":100}}`, func(s model.State) bool { return s.Color != nil && s.Color.Hue == 120 && s.Color.Saturation == 1 }},
			{"mireds clamped", idCeiling, "kitchen/ceiling", model.SetColorTemperature(2203), `{"color_temp":454}`,
				func(s model.State) bool { return *s.ColorTemperature == 2203 }},
			{"mireds", idCeiling, "kitchen/ceiling", model.SetColorTemperature(4000), `{"color_temp":250}`,
				func(s model.State) bool { return *s.ColorTemperature == 4000 }},
			{"dimmable off by brightness", idHallway, "Hallway Bulb", model.SetPower(false), `{"state":"OFF"}`,
				func(s model.State) bool { return !*s.On }},
			{"unlock", idLock, "Front Door", model.SetLock(model.Unlocked), `{"state":"UNLOCK"}`,
				func(s model.State) bool { return s.Lock == model.Unlocked }},
			{"lock", idLock, "Front Door", model.SetLock(model.Locked), `{"state":"LOCK"}`,
				func(s model.State) bool { return s.Lock == model.Locked }},
			{"setpoint to step", idRadiator, "Bedroom Radiator", model.SetThermostat(model.ThermostatState{Target: model.Ptr(22.3)}),
				`{"occupied_heating_setpoint":22.5}`, func(s model.State) bool { return *s.Thermostat.Target == 22.5 }},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				m := e.mark()
				status, st, err := e.execFinal(tc.id, tc.cmd)
				if err != nil {
					t.Fatalf("Execute: %v", err)
				}
				if got := e.waitRawSince(m, e.base+"/"+tc.topic+"/set", func(string) bool { return true }); !jsonEqual(got, tc.payload) {
					t.Errorf("/set payload = %s, want %s", got, tc.payload)
				}
				// A lock's bolt takes longer than commandTimeout: DeferredResponse,
				// then the state it really reached. Everything else is Done at once.
				wantStatus := model.Done
				if tc.id == idLock {
					wantStatus = model.Accepted
				}
				if status != wantStatus || !tc.check(st) {
					t.Errorf("result = %s %+v, want %s", status, st, wantStatus)
				}
				e.waitRawSince(m, e.base+"/"+tc.topic, func(string) bool { return true }) // the simulator echoed state
			})
		}

		// A thermostat mode the Danfoss does not have.
		if _, err := e.exec(idRadiator, model.SetThermostat(model.ThermostatState{Mode: model.ModeCool})); model.AsError(err) == nil ||
			model.AsError(err).Kind != model.ErrUnsupportedThermostatMode {
			t.Errorf("COOL on the Danfoss: err = %v, want UNSUPPORTED_THERMOSTAT_MODE", err)
		}

		// A change "by hand" arrives as a physical state change.
		from := e.rec.count()
		if _, err := sim.Set("Hallway Bulb", map[string]any{"state": "ON", "brightness": 254.0}); err != nil {
			t.Fatal(err)
		}
		e.rec.wait(t, "hallway on at 100%", func(r *recorder) bool {
			d := r.devices[idHallway]
			return d.State.On != nil && *d.State.On && d.State.Brightness != nil && *d.State.Brightness == 100
		})
		evs := e.rec.stateEvents(idHallway, from)
		if len(evs) == 0 || evs[len(evs)-1].Cause != model.CausePhysical {
			t.Errorf("state events = %+v, want a PHYSICAL_INTERACTION change", evs)
		}

		// Offline → unreachable, and commands fail with ErrUnreachable.
		if err := sim.SetOnline("Front Door", false); err != nil {
			t.Fatal(err)
		}
		e.rec.wait(t, "lock unreachable", func(r *recorder) bool { return !r.devices[idLock].Reachable })
		if _, err := e.exec(idLock, model.SetLock(model.Unlocked)); model.AsError(err) == nil || model.AsError(err).Kind != model.ErrUnreachable {
			t.Errorf("command to offline lock: err = %v, want UNREACHABLE", err)
		}
		if err := sim.SetOnline("Front Door", true); err != nil {
			t.Fatal(err)
		}
		e.rec.wait(t, "lock reachable again", func(r *recorder) bool { return r.devices[idLock].Reachable })
	})
}
