package zigbee

import (
	"context"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/bridges/zigbee/znpsim"
	"github.com/avshub/avshub/discovery/model"
)

// TestIASEnrolment pairs an Aqara leak sensor and a Heiman smoke sensor on
// znpsim, whose IAS zones stay not enrolled (and silent) until the CIE writes
// its address and answers their Zone Enroll Request; the interview enrols both.
func TestIASEnrolment(t *testing.T) {
	specs := []znpsim.DeviceSpec{{IEEE: "0x00158d000a1b2c02", Type: "aqara-leak"}, {IEEE: "0x000d6f0011aa2201", Type: "heiman-smoke"}}
	r := newRig(t, specs)
	for _, d := range r.sim.Devices() {
		if d.Attributes["zoneState"] != 0 {
			t.Fatalf("%s enrolled before joining: %v", d.IEEE, d.Attributes)
		}
	}
	if err := r.br.StartPairing(context.Background(), 60*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		enrolled := 0
		for _, d := range r.sim.Devices() {
			if d.Attributes["zoneState"] == 1 {
				enrolled++
			}
		}
		if enrolled == len(specs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d IAS zones enrolled: %+v", enrolled, len(specs), r.sim.Devices())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDoorAndLeakSensors pairs an Aqara door sensor and an Aqara leak sensor:
// the door is a contact sensor (not a switch), the leak sensor a water leak
// sensor; a door opened by hand and a leak reach the bridge as changes with
// the physical cause, each from the device's own frames (the door's On/Off
// report, the zone's status change notification).
func TestDoorAndLeakSensors(t *testing.T) {
	const door, leak = "00158d000a1b2c01", "00158d000a1b2c02"
	r := newRig(t, []znpsim.DeviceSpec{{IEEE: "0x" + door, Type: "aqara-door"}, {IEEE: "0x" + leak, Type: "aqara-leak"}})
	devs := r.pair(door, leak)
	d := devs[door]
	if d.Endpoint.Category != model.CategoryContactSensor || d.Endpoint.Traits.Contact == nil || d.Endpoint.Traits.OnOff != nil ||
		d.State.ContactOpen == nil || *d.State.ContactOpen {
		t.Errorf("door sensor: %s", jsonString(d))
	}
	l := devs[leak]
	if l.Endpoint.Traits.WaterLeak == nil || l.State.WaterLeak == nil || *l.State.WaterLeak {
		t.Errorf("leak sensor: %s", jsonString(l))
	}
	for _, c := range []struct {
		id    string
		set   map[string]int64
		check func(model.State) bool
	}{
		{door, map[string]int64{"onOff": 1}, func(s model.State) bool { return s.ContactOpen != nil && *s.ContactOpen }},
		{door, map[string]int64{"onOff": 0}, func(s model.State) bool { return s.ContactOpen != nil && !*s.ContactOpen }},
		{leak, map[string]int64{"zoneStatus": 1}, func(s model.State) bool { return s.WaterLeak != nil && *s.WaterLeak }},
		{leak, map[string]int64{"zoneStatus": 0}, func(s model.State) bool { return s.WaterLeak != nil && !*s.WaterLeak }},
	} {
		m := r.em.mark()
		if err := r.sim.Set(c.id, c.set); err != nil {
			t.Fatal(err)
		}
		r.em.waitFor(t, m, "state change of "+c.id, func(ev model.Event) bool {
			return ev.Kind == model.EventState && ev.DeviceID == c.id && ev.Cause == model.CausePhysical && c.check(ev.State)
		})
	}
}

// TestPlugPowerAndEnergy pairs an IKEA INSPELNING plug: a smart plug with
// power (activePower × 1/10 W) and energy (Wh summation / 1000); switched on,
// its power reading reaches the bridge (and the answer to the turn-on
// carries no reading); a load changed by hand too.
func TestPlugPowerAndEnergy(t *testing.T) {
	const plug = "000d6ffffe3c4d02"
	r := newRig(t, []znpsim.DeviceSpec{{IEEE: "0x" + plug, Type: "ikea-plug", Attributes: map[string]int64{"currentSummationDelivered": 12500}}})
	d := r.pair(plug)[plug]
	if d.Endpoint.Category != model.CategorySmartPlug || d.Endpoint.Traits.Power == nil || d.Endpoint.Traits.Energy == nil || d.Endpoint.Traits.OnOff == nil ||
		d.State.Watts == nil || *d.State.Watts != 0 || d.State.EnergyKWh == nil || *d.State.EnergyKWh != 12.5 {
		t.Fatalf("plug: %s", jsonString(d))
	}
	m := r.em.mark()
	res, err := r.exec(plug, model.SetPower(true))
	if err != nil {
		t.Fatal(err)
	}
	// The answer is what the command did: the power it draws now is the
	// plug's own report (sent before its answer, maybe not yet applied: a
	// stored 0 W in the answer could reach the hub after the report and
	// overwrite it).
	if res.State.On == nil || !*res.State.On || res.State.Watts != nil {
		t.Errorf("the turn-on answered %s, want on and nothing else", jsonString(res.State))
	}
	r.em.waitFor(t, m, "power of the plug switched on", func(ev model.Event) bool {
		return ev.Kind == model.EventState && ev.DeviceID == plug && ev.State.Watts != nil && *ev.State.Watts == 60
	})
	m = r.em.mark()
	if err := r.sim.Set(plug, map[string]int64{"activePower": 1234}); err != nil {
		t.Fatal(err)
	}
	r.em.waitFor(t, m, "power changed by hand", func(ev model.Event) bool {
		return ev.Kind == model.EventState && ev.DeviceID == plug && ev.Cause == model.CausePhysical && ev.State.Watts != nil && *ev.State.Watts == 123.4
	})
}

// TestBlindStops: a FYRTUR closing (Go To Lift Percentage 100, a 4 s travel)
// is sent Window Covering Stop (0x02) on the way; it stops where it is, the
// answer carries the position it reported, and it moves no further. A Stop to
// a blind at rest answers with its position.
func TestBlindStops(t *testing.T) {
	const blind = "000d6ffffe3c4d01"
	r := newRig(t, []znpsim.DeviceSpec{{IEEE: "0x" + blind, Type: "ikea-blind"}})
	r.pair(blind)
	closing := make(chan error, 1)
	go func() { _, err := r.exec(blind, model.SetCoverPosition(0)); closing <- err }()
	r.simAttr(blind, "currentPositionLiftPercentage", func(v int64) bool { return v >= 20 })
	m := r.frames.mark()
	res, err := r.exec(blind, model.StopCover())
	if err != nil {
		t.Fatal(err)
	}
	if sent := r.frames.zclSent(m, zcl.ClusterWindowCovering); len(sent) != 1 || !zclMatch(sent[0], "01 ?? 02") {
		t.Fatalf("sent %x, want one Stop 01 ?? 02", sent)
	}
	lift := r.sim.Devices()[0].Attributes["currentPositionLiftPercentage"]
	if res.State.CoverPosition == nil || *res.State.CoverPosition != int(100-lift) || lift >= 100 {
		t.Fatalf("answered %s with the simulated blind stopped at lift %d %%", jsonString(res), lift)
	}
	<-closing                          // the close command ends with the position it last heard of
	time.Sleep(200 * time.Millisecond) // five of its 40 ms steps: a blind still moving would have moved
	if now := r.sim.Devices()[0].Attributes["currentPositionLiftPercentage"]; now != lift {
		t.Fatalf("the blind moved on after Stop: lift %d %%, then %d %%", lift, now)
	}
	if res, err := r.exec(blind, model.StopCover()); err != nil || res.State.CoverPosition == nil || *res.State.CoverPosition != int(100-lift) {
		t.Fatalf("Stop at rest: %v %s", err, jsonString(res))
	}
}

// TestBlindMovesToAPosition pairs an IKEA FYRTUR blind: an interior blind
// with a cover position (100 % open = ZCL lift 0 %); set to 30 % it travels
// there (the simulated motor, lift 70 %) and the command is answered once its
// reports say it arrived.
func TestBlindMovesToAPosition(t *testing.T) {
	const blind = "000d6ffffe3c4d01"
	r := newRig(t, []znpsim.DeviceSpec{{IEEE: "0x" + blind, Type: "ikea-blind"}})
	d := r.pair(blind)[blind]
	if d.Endpoint.Category != model.CategoryInteriorBlind || d.Endpoint.Traits.Cover == nil || d.State.CoverPosition == nil || *d.State.CoverPosition != 100 {
		t.Fatalf("blind: %s", jsonString(d))
	}
	res, err := r.exec(blind, model.SetCoverPosition(30))
	if err != nil {
		t.Fatal(err)
	}
	// The answer comes once the blind is there (its travel: 70 steps of 40 ms).
	if res.State.CoverPosition == nil || *res.State.CoverPosition != 30 {
		t.Fatalf("answered %s before the blind reached 30 %%", jsonString(res))
	}
	if lift := r.sim.Devices()[0].Attributes["currentPositionLiftPercentage"]; lift != 70 {
		t.Fatalf("answered at 30 %% with the simulated blind at lift %d %%, want 70", lift)
	}
	// Moved by hand (its own button): the report is a physical change.
	r.byHand(blind, map[string]int64{"currentPositionLiftPercentage": 0}, "opened by hand", func(s model.State) bool {
		return s.CoverPosition != nil && *s.CoverPosition == 100
	})
}
