package zigbee

import (
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/znpsim"
	"github.com/avshub/avshub/discovery/model"
)

// simAttr waits until the simulated device's attribute satisfies ok.
func (r *rig) simAttr(ieee, name string, ok func(int64) bool) {
	r.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, d := range r.sim.Devices() {
			if d.IEEE == ieee && ok(d.Attributes[name]) {
				return
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("simulated %s: %s never as wanted (%+v)", ieee, name, r.sim.Devices())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// byHand changes attributes at the simulated device and waits for the
// bridge's physical state change that check accepts.
func (r *rig) byHand(id string, set map[string]int64, what string, check func(model.State) bool) {
	r.t.Helper()
	m := r.em.mark()
	if err := r.sim.Set(id, set); err != nil {
		r.t.Fatal(err)
	}
	r.em.waitFor(r.t, m, what, func(ev model.Event) bool {
		return ev.Kind == model.EventState && ev.DeviceID == id && ev.Cause == model.CausePhysical && check(ev.State)
	})
}

// TestSensorKinds pairs a Hue motion sensor, an Aqara temperature and
// humidity sensor, a Heiman smoke alarm and a Heiman CO alarm: each is
// interviewed into its traits (motion with illuminance, temperature and
// battery; humidity; smoke, gas, tamper), reads its state, and a change at
// the device (motion, light, humidity, smoke, CO, the case opened, a low
// battery) reaches the bridge as a physical state change.
func TestSensorKinds(t *testing.T) {
	const motion, climate, smoke, co = "0017880109c4d501", "00158d0002d4e5f6", "000d6f0011aa2201", "000d6f0011aa2202"
	r := newRig(t, []znpsim.DeviceSpec{{IEEE: "0x" + motion, Type: "hue-motion"}, {IEEE: "0x" + climate, Type: "aqara-temp"},
		{IEEE: "0x" + smoke, Type: "heiman-smoke"}, {IEEE: "0x" + co, Type: "heiman-co"}})
	devs := r.pair(motion, climate, smoke, co)
	m := devs[motion]
	if tr := m.Endpoint.Traits; m.Endpoint.Category != model.CategoryMotionSensor || tr.Motion == nil || tr.Illuminance == nil || tr.TemperatureSensor == nil || tr.Battery == nil ||
		m.State.Motion == nil || *m.State.Motion || m.State.Illuminance == nil || *m.State.Illuminance != 100 || m.State.Battery == nil || *m.State.Battery != 100 {
		t.Errorf("motion sensor: %s", jsonString(m))
	}
	c := devs[climate]
	if c.Endpoint.Traits.Humidity == nil || c.State.Humidity == nil || *c.State.Humidity != 48.5 || c.Endpoint.Category != model.CategoryTemperatureSensor {
		t.Errorf("climate sensor: %s", jsonString(c))
	}
	s := devs[smoke]
	if tr := s.Endpoint.Traits; tr.Smoke == nil || tr.Tamper == nil || tr.Battery == nil || tr.Siren != nil || s.State.Smoke == nil || *s.State.Smoke {
		t.Errorf("smoke alarm (its own sounder is no siren): %s", jsonString(s))
	}
	g := devs[co]
	if g.Endpoint.Traits.Gas == nil || g.State.Gas == nil || *g.State.Gas {
		t.Errorf("CO alarm: %s", jsonString(g))
	}
	is := func(p *bool, v bool) bool { return p != nil && *p == v }
	r.byHand(motion, map[string]int64{"occupancy": 1}, "motion", func(s model.State) bool { return is(s.Motion, true) })
	r.byHand(motion, map[string]int64{"illuminance": 30001}, "1000 lx", func(s model.State) bool { return s.Illuminance != nil && *s.Illuminance == 1000 })
	r.byHand(motion, map[string]int64{"batteryPercentageRemaining": 12}, "a low battery", func(s model.State) bool {
		return s.Battery != nil && *s.Battery == 6 && is(s.BatteryLow, true)
	})
	r.byHand(climate, map[string]int64{"humidity": 6120}, "humidity", func(s model.State) bool { return s.Humidity != nil && *s.Humidity == 61.2 })
	r.byHand(smoke, map[string]int64{"zoneStatus": 1}, "smoke", func(s model.State) bool { return is(s.Smoke, true) })
	r.byHand(smoke, map[string]int64{"zoneStatus": 1 | 4}, "the case opened", func(s model.State) bool { return is(s.Tamper, true) })
	r.byHand(co, map[string]int64{"zoneStatus": 1 | 8}, "CO with a low battery", func(s model.State) bool { return is(s.Gas, true) && is(s.BatteryLow, true) })
}

// TestFanSirenAndButton pairs a Schneider fan controller, a Heiman siren and
// a SONOFF button: the fan is a FAN with low/medium/high presets whose speed
// commands become fanMode writes (and its on/off, as it has no On/Off
// cluster); the siren sounds (Start Warning, emergency) and stops; the
// button is a remote, remembered and never published.
func TestFanSirenAndButton(t *testing.T) {
	const fan, siren, button = "0015bc001a2b3c01", "000d6f0011aa2203", "00124b0022aa3301"
	r := newRig(t, []znpsim.DeviceSpec{{IEEE: "0x" + fan, Type: "schneider-fan"}, {IEEE: "0x" + siren, Type: "heiman-siren"}, {IEEE: "0x" + button, Type: "sonoff-button"}})
	m := r.em.mark()
	devs := r.pair(fan, siren)
	f := devs[fan]
	if f.Endpoint.Category != model.CategoryFan || f.Endpoint.Traits.Fan == nil || len(f.Endpoint.Traits.Fan.Presets) != 3 || f.Endpoint.Traits.OnOff == nil ||
		f.State.FanSpeed == nil || *f.State.FanSpeed != 0 || f.State.On == nil || *f.State.On {
		t.Errorf("fan: %s", jsonString(f))
	}
	for _, c := range []struct {
		cmd       model.Command
		mode      int64
		speed     int
		on        bool
		fanAtLast bool
	}{
		{model.SetFanSpeed(50), 2, 66, true, false},
		{model.SetPower(false), 0, 0, false, false},
		{model.SetPower(true), 1, 33, true, false}, // no speed before it was off: the slowest
		{model.SetFanSpeed(100), 3, 100, true, false},
	} {
		res, err := r.exec(fan, c.cmd)
		if err != nil {
			t.Fatalf("%v: %v", c.cmd, err)
		}
		if res.State.FanSpeed == nil || *res.State.FanSpeed != c.speed || res.State.On == nil || *res.State.On != c.on {
			t.Errorf("%s: state %s, want speed %d on %v", jsonString(c.cmd), jsonString(res.State), c.speed, c.on)
		}
		r.simAttr(fan, "fanMode", func(v int64) bool { return v == c.mode })
	}
	r.byHand(fan, map[string]int64{"fanMode": 1}, "the fan set to low at the wall", func(s model.State) bool { return s.FanSpeed != nil && *s.FanSpeed == 33 })

	sr := devs[siren]
	if sr.Endpoint.Category != model.CategorySecurityPanel || sr.Endpoint.Traits.Siren == nil || sr.Endpoint.Traits.Battery != nil {
		t.Errorf("siren: %s", jsonString(sr))
	}
	if res, err := r.exec(siren, model.SetSiren(true)); err != nil || res.State.Siren == nil || !*res.State.Siren {
		t.Fatalf("siren on: %v %s", err, jsonString(res))
	}
	r.simAttr(siren, "warningMode", func(v int64) bool { return v == 3 })
	if _, err := r.exec(siren, model.SetSiren(false)); err != nil {
		t.Fatal(err)
	}
	r.simAttr(siren, "warningMode", func(v int64) bool { return v == 0 })

	deadline := time.Now().Add(15 * time.Second)
	for {
		if rec, ok := r.record(button); ok && rec.Interviewed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the button was not interviewed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.sim.Set(button, map[string]int64{"press": znpsim.PressSingle}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	r.em.mu.Lock()
	defer r.em.mu.Unlock()
	for _, ev := range r.em.events[m:] {
		if (ev.Kind == model.EventUpsert && ev.Device.Endpoint.DeviceID == button) || ev.DeviceID == button {
			t.Errorf("the button reached the hub: %s", jsonString(ev))
		}
	}
}

// TestSirenEndsByItself: a warning runs the device's maxDuration; the
// device tells nothing, so the bridge reports the siren off when it is over.
func TestSirenEndsByItself(t *testing.T) {
	const siren = "000d6f0011aa2203"
	r := newRig(t, []znpsim.DeviceSpec{{IEEE: "0x" + siren, Type: "heiman-siren", Attributes: map[string]int64{"maxDuration": 1}}})
	r.pair(siren)
	m := r.em.mark()
	if _, err := r.exec(siren, model.SetSiren(true)); err != nil {
		t.Fatal(err)
	}
	r.simAttr(siren, "warningMode", func(v int64) bool { return v == 3 })
	r.em.waitFor(t, m, "the siren off after its duration", func(ev model.Event) bool {
		return ev.Kind == model.EventState && ev.DeviceID == siren && ev.Cause == model.CauseRule && ev.State.Siren != nil && !*ev.State.Siren
	})
	r.simAttr(siren, "warningMode", func(v int64) bool { return v == 0 })
}

// TestTiltBlind pairs a Somfy tilt and lift blind (windowCoveringType 8): a
// cover with tilt; the slats move by Go To Tilt Percentage
// (slats 40 % open = ZCL tilt 60 %) and the answer comes when they are there.
func TestTiltBlind(t *testing.T) {
	const blind = "00124b0022bb4401"
	r := newRig(t, []znpsim.DeviceSpec{{IEEE: "0x" + blind, Type: "somfy-tilt"}})
	d := r.pair(blind)[blind]
	if tr := d.Endpoint.Traits; tr.Cover == nil || !tr.Cover.Tilt || len(tr.Ranges) != 0 || d.State.CoverTilt == nil || *d.State.CoverTilt != 100 {
		t.Fatalf("tilt blind: %s", jsonString(d))
	}
	res, err := r.exec(blind, model.SetCoverTilt(40))
	if err != nil {
		t.Fatal(err)
	}
	if v := res.State.CoverTilt; v == nil || *v != 40 {
		t.Fatalf("answered %s, want the slats at 40 %%", jsonString(res))
	}
	r.simAttr(blind, "currentPositionTiltPercentage", func(v int64) bool { return v == 60 })
	if res, err := r.exec(blind, model.SetCoverPosition(50)); err != nil || res.State.CoverPosition == nil || *res.State.CoverPosition != 50 {
		t.Fatalf("lift: %v %s", err, jsonString(res))
	}
	if _, err := r.exec(blind, model.SetRange("Blind.Tilt", 10)); err == nil {
		t.Fatal("a range the blind does not have was accepted")
	}
}

// TestIASMotionAndContact pairs a SONOFF motion sensor and a SONOFF door
// sensor, IAS zones of type motion and contact switch: enrolled, a motion and
// a contact sensor with tamper and battery; alarm 1 is motion, and the door
// opened; bit 2 the case opened.
func TestIASMotionAndContact(t *testing.T) {
	const pir, door = "00124b0022aa3302", "00124b0022aa3303"
	r := newRig(t, []znpsim.DeviceSpec{{IEEE: "0x" + pir, Type: "sonoff-motion"}, {IEEE: "0x" + door, Type: "sonoff-contact"}})
	devs := r.pair(pir, door)
	if p := devs[pir]; p.Endpoint.Category != model.CategoryMotionSensor || p.Endpoint.Traits.Motion == nil || p.Endpoint.Traits.Tamper == nil ||
		p.Endpoint.Traits.Battery == nil || p.State.Motion == nil || *p.State.Motion {
		t.Errorf("motion sensor: %s", jsonString(p))
	}
	if d := devs[door]; d.Endpoint.Category != model.CategoryContactSensor || d.Endpoint.Traits.Contact == nil || d.State.ContactOpen == nil || *d.State.ContactOpen {
		t.Errorf("door sensor: %s", jsonString(d))
	}
	is := func(p *bool, v bool) bool { return p != nil && *p == v }
	r.byHand(pir, map[string]int64{"zoneStatus": 1}, "motion", func(s model.State) bool { return is(s.Motion, true) })
	r.byHand(door, map[string]int64{"zoneStatus": 1}, "the door opened", func(s model.State) bool { return is(s.ContactOpen, true) })
	r.byHand(door, map[string]int64{"zoneStatus": 1 | 4}, "the case opened", func(s model.State) bool { return is(s.Tamper, true) })
	r.byHand(door, map[string]int64{"zoneStatus": 0}, "the door closed", func(s model.State) bool { return is(s.ContactOpen, false) && is(s.Tamper, false) })
}
