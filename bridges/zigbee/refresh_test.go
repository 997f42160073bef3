package zigbee

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/model"
)

// zclReads counts the Read Attributes frames sent to cluster since mark.
func (l *frameLog) zclReads(mark int, cluster uint16) int {
	n := 0
	for _, p := range l.zclSent(mark, cluster) {
		if f, err := zcl.Parse(p); err == nil && f.FrameType == zcl.FrameGlobal && f.Command == zcl.CmdReadAttributes {
			n++
		}
	}
	return n
}

// polled matches a state change of dev with cause PERIODIC_POLL that check accepts.
func polled(dev string, check func(model.State) bool) func(model.Event) bool {
	return func(ev model.Event) bool {
		return ev.Kind == model.EventState && ev.DeviceID == dev && ev.Cause == model.CausePoll && check(ev.State)
	}
}

// TestRestartReadsDevices: devices changed by hand while the bridge was
// stopped (their reports went nowhere) are re-read when it starts again on the
// same data directory. The snapshot still carries the saved state; the real
// one follows as PERIODIC_POLL state changes, then State and the database
// agree with the devices.
func TestRestartReadsDevices(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(published...)
	cases := []struct {
		id      string
		cluster uint16 // a cluster whose state the bridge must read
		set     map[string]int64
		was     func(model.State) bool // the saved state (before the change)
		check   func(model.State) bool
	}{
		{ieeeDim, zcl.ClusterOnOff, map[string]int64{"onOff": 1, "currentLevel": 100},
			func(s model.State) bool { return s.On != nil && !*s.On },
			func(s model.State) bool {
				return s.On != nil && *s.On && s.Brightness != nil && *s.Brightness == 39
			}},
		{ieeeHue, zcl.ClusterColor, map[string]int64{"currentHue": 127, "currentSaturation": 254},
			func(s model.State) bool { return s.Color != nil && s.Color.Saturation == 0 },
			func(s model.State) bool { return s.Color != nil && s.Color.Hue == 180 && s.Color.Saturation == 1 }},
		{ieeeIkeaCT, zcl.ClusterColor, map[string]int64{"colorTemperature": 400},
			func(s model.State) bool { return s.ColorTemperature != nil && *s.ColorTemperature != 2500 },
			func(s model.State) bool { return s.ColorTemperature != nil && *s.ColorTemperature == 2500 }},
		{ieeeLock, zcl.ClusterDoorLock, map[string]int64{"lockState": 2},
			func(s model.State) bool { return s.Lock == model.Locked },
			func(s model.State) bool { return s.Lock == model.Unlocked }},
		{ieeeTRV, zcl.ClusterThermostat, map[string]int64{"localTemperature": 1950, "occupiedHeatingSetpoint": 2350},
			func(s model.State) bool { return s.Temperature != nil && *s.Temperature == 21.5 },
			func(s model.State) bool {
				return s.Temperature != nil && *s.Temperature == 19.5 && s.Thermostat != nil && s.Thermostat.Target != nil && *s.Thermostat.Target == 23.5
			}},
		{ieeeAqara, zcl.ClusterTemperature, map[string]int64{"measuredValue": 2333},
			func(s model.State) bool { return s.Temperature != nil && *s.Temperature == 20.8 },
			func(s model.State) bool { return s.Temperature != nil && *s.Temperature == 23.33 }},
	}
	t.Cleanup(func() {
		if t.Failed() {
			r.em.mu.Lock()
			for _, ev := range r.em.events {
				t.Logf("%s", jsonString(ev))
			}
			r.em.mu.Unlock()
		}
	})
	r.stopBridge()
	for _, c := range cases {
		if err := r.sim.Set(c.id, c.set); err != nil {
			t.Fatal(err)
		}
	}
	before, err := loadDB(r.dir)
	if err != nil || before.Saved.IsZero() {
		t.Fatalf("the database as the stop saved it: saved at %v, %v", before.Saved, err)
	}
	fm := r.frames.mark()
	r.startBridge()
	snap := r.em.waitFor(t, 0, "snapshot", func(ev model.Event) bool { return ev.Kind == model.EventSnapshot })
	saved := map[string]model.Device{}
	for _, d := range snap.Devices {
		saved[d.Endpoint.DeviceID] = d
		// The saved states say when they were saved: the hub keeps a newer one.
		if !d.StateAt.Equal(before.Saved) {
			t.Errorf("snapshot of %s: StateAt %v, want the database's save time %v", d.Endpoint.DeviceID, d.StateAt, before.Saved)
		}
	}
	for _, c := range cases {
		d, ok := saved[c.id]
		if !ok || !d.Reachable || !c.was(d.State) {
			t.Errorf("snapshot of %s: %s (want the saved state at once)", c.id, jsonString(d))
		}
		ev := r.em.waitFor(t, 0, "the real state of "+c.id, polled(c.id, c.check))
		if ev.Seq <= snap.Seq {
			t.Errorf("%s: state change before the snapshot", c.id)
		}
		if n := r.frames.zclReads(fm, c.cluster); n == 0 {
			t.Errorf("%s: no Read Attributes on cluster 0x%04x after the restart", c.id, c.cluster)
		}
		st, err := r.br.State(context.Background(), c.id)
		if err != nil || !c.check(st) {
			t.Errorf("State(%s) = %s, %v", c.id, jsonString(st), err)
		}
	}
	// Nothing was re-published or marked unreachable.
	r.em.mu.Lock()
	for _, ev := range r.em.events {
		if ev.Kind == model.EventUpsert || ev.Kind == model.EventRemove || (ev.Kind == model.EventReachability && !ev.Reachable) {
			t.Errorf("unexpected %s %s", ev.Kind, jsonString(ev))
		}
	}
	r.em.mu.Unlock()
	// A clean stop saves at once; the next start's snapshot has the devices' state.
	r.stopBridge()
	db, err := loadDB(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if !db.Saved.After(before.Saved) {
		t.Errorf("the database saved at %v after the restart, before it at %v", db.Saved, before.Saved)
	}
	for _, rec := range db.Devices {
		for _, c := range cases {
			if rec.IEEE == c.id && !c.check(rec.State) {
				t.Errorf("saved state of %s after the stop: %s", c.id, jsonString(rec.State))
			}
		}
	}
}

// TestRestartReportsWholeRead: after a restart a device's first read is
// reported whole, though nothing differs from the database: the snapshot's
// states are the database's (StateAt), and the hub may hold a newer one (a
// change reported just before a crash, not yet saved) that only the device's
// answer can correct.
func TestRestartReportsWholeRead(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(ieeeDim, ieeeLock)
	r.stopBridge()
	r.startBridge()
	snap := r.em.waitFor(t, 0, "snapshot", func(ev model.Event) bool { return ev.Kind == model.EventSnapshot })
	seen := map[string]bool{}
	for _, d := range snap.Devices {
		seen[d.Endpoint.DeviceID] = true
		ev := r.em.waitFor(t, 0, "the read state of "+d.Endpoint.DeviceID, polled(d.Endpoint.DeviceID, func(model.State) bool { return true }))
		if !reflect.DeepEqual(ev.State, d.State) {
			t.Errorf("%s: first read reported %s, want the whole state read (the saved %s)", d.Endpoint.DeviceID, jsonString(ev.State), jsonString(d.State))
		}
	}
	if !seen[ieeeDim] || !seen[ieeeLock] {
		t.Fatalf("the snapshot lacks a paired device: %v", seen)
	}
}

// TestRestartDevicesGone: after a restart, a mains-powered device that does
// not answer the state read (off the air: no MAC ack; or hung: acked, no ZCL
// answer within the response timeout) is reported unreachable, not its saved
// state as reachable. A sleepy battery device that does not answer keeps its
// reachability: it may not have polled its parent in time.
func TestRestartDevicesGone(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(ieeeHue, ieeeIkeaCT, ieeeDim, ieeeLock)
	cases := []struct {
		id          string
		gone        func(string) error
		unreachable bool
	}{
		{ieeeHue, func(id string) error { return r.sim.SetOnline(id, false) }, true},
		{ieeeIkeaCT, func(id string) error { return r.sim.SetHung(id, true) }, true},
		{ieeeLock, func(id string) error { return r.sim.SetOnline(id, false) }, false},
		{ieeeDim, func(string) error { return nil }, false}, // still there
	}
	r.stopBridge()
	for _, c := range cases {
		if err := c.gone(c.id); err != nil {
			t.Fatal(err)
		}
	}
	r.startBridge()
	for _, c := range cases {
		if !c.unreachable {
			continue
		}
		r.em.waitFor(t, 0, c.id+" unreachable", func(ev model.Event) bool {
			return ev.Kind == model.EventReachability && ev.DeviceID == c.id && !ev.Reachable
		})
		if _, err := r.br.State(context.Background(), c.id); model.AsError(err).Kind != model.ErrUnreachable {
			t.Errorf("State of %s: %v", c.id, err)
		}
	}
	// The refresh of the others, again and to its end (the one of the start may still run).
	for _, c := range cases {
		if c.unreachable {
			continue
		}
		r.br.refresh(context.Background(), c.id)
		if rec, _ := r.record(c.id); !rec.Reachable {
			t.Errorf("%s unreachable after the refresh", c.id)
		}
		if _, err := r.br.State(context.Background(), c.id); err != nil {
			t.Errorf("State of %s: %v", c.id, err)
		}
	}
	// Back on the air: the next frame makes it reachable again.
	if err := r.sim.SetOnline(ieeeHue, true); err != nil {
		t.Fatal(err)
	}
	m := r.em.mark()
	if err := r.sim.Set(ieeeHue, map[string]int64{"onOff": 1}); err != nil {
		t.Fatal(err)
	}
	r.em.waitFor(t, m, "hue reachable again", func(ev model.Event) bool {
		return ev.Kind == model.EventReachability && ev.DeviceID == ieeeHue && ev.Reachable
	})
	// Unreachability is saved: the next start's snapshot says so, and the
	// refresh finds the revived bulb reachable.
	r.stopBridge()
	if err := r.sim.SetHung(ieeeIkeaCT, false); err != nil {
		t.Fatal(err)
	}
	r.startBridge()
	snap := r.em.waitFor(t, 0, "snapshot", func(ev model.Event) bool { return ev.Kind == model.EventSnapshot })
	for _, d := range snap.Devices {
		if d.Endpoint.DeviceID == ieeeIkeaCT && d.Reachable {
			t.Errorf("snapshot has the hung bulb reachable")
		}
	}
	r.em.waitFor(t, 0, "the revived bulb reachable", func(ev model.Event) bool {
		return ev.Kind == model.EventReachability && ev.DeviceID == ieeeIkeaCT && ev.Reachable
	})
}

// TestRejoinKeepsIdentity: a known device that announces with a new short
// address (ZDO_END_DEVICE_ANNCE_IND carries both addresses) keeps its device
// id and endpoint; the bridge uses the new address, and reads the device's
// state (which may have changed while it was away) without re-publishing it.
func TestRejoinKeepsIdentity(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(ieeeHue, ieeeDim)
	before, _ := r.record(ieeeDim)
	// Switched while off the air: no report reaches the bridge.
	if err := r.sim.SetOnline(ieeeDim, false); err != nil {
		t.Fatal(err)
	}
	if err := r.sim.Set(ieeeDim, map[string]int64{"onOff": 1}); err != nil {
		t.Fatal(err)
	}
	if err := r.sim.SetOnline(ieeeDim, true); err != nil {
		t.Fatal(err)
	}
	m := r.em.mark()
	if err := r.sim.Rejoin(ieeeDim); err != nil {
		t.Fatal(err)
	}
	r.em.waitFor(t, m, "the dimmable bulb's state read after the announce", polled(ieeeDim, func(s model.State) bool { return s.On != nil && *s.On }))
	var simNWK string
	for _, d := range r.sim.Devices() {
		if d.IEEE == ieeeDim {
			simNWK = d.NWK
		}
	}
	after, _ := r.record(ieeeDim)
	if got := fmt.Sprintf("0x%04x", after.NWK); got != simNWK || after.NWK == before.NWK {
		t.Fatalf("short address after the rejoin %s (was 0x%04x), the device's is %s", got, before.NWK, simNWK)
	}
	r.br.mu.Lock()
	if r.br.byNWK[after.NWK] != ieeeDim {
		t.Errorf("new short address maps to %q", r.br.byNWK[after.NWK])
	}
	if id, ok := r.br.byNWK[before.NWK]; ok {
		t.Errorf("old short address still maps to %q", id)
	}
	r.br.mu.Unlock()
	if res, err := r.exec(ieeeDim, model.SetPower(false)); err != nil || res.State.On == nil || *res.State.On {
		t.Fatalf("command after the rejoin: %s %v", jsonString(res), err)
	}
	// A report from the new address is the device's.
	if err := r.sim.Set(ieeeDim, map[string]int64{"currentLevel": 127}); err != nil {
		t.Fatal(err)
	}
	r.em.waitFor(t, m, "report from the new address", func(ev model.Event) bool {
		return ev.Kind == model.EventState && ev.DeviceID == ieeeDim && ev.Cause == model.CausePhysical && ev.State.Brightness != nil && *ev.State.Brightness == 50
	})
	r.em.mu.Lock()
	for _, ev := range r.em.events[m:] {
		if (ev.Kind == model.EventUpsert && ev.Device.Endpoint.DeviceID == ieeeDim) || (ev.Kind == model.EventRemove && ev.DeviceID == ieeeDim) {
			t.Errorf("rejoin caused %s %s", ev.Kind, jsonString(ev))
		}
	}
	r.em.mu.Unlock()
	db, err := loadDB(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range db.Devices {
		if rec.IEEE == ieeeDim && rec.NWK != after.NWK {
			t.Errorf("saved short address 0x%04x, want 0x%04x", rec.NWK, after.NWK)
		}
	}
}

// TestRefreshReadsGoStale: a refresh's reads are dropped when a command to the
// device started, or a report from it arrived, after they were sent: the
// command's result and the report are newer than what the reads saw (a TurnOn
// right after a replug must not be undone by the refresh's earlier OFF).
func TestRefreshReadsGoStale(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(ieeeDim)
	cases := []struct {
		name   string
		change func(t *testing.T, on bool)
	}{
		{"command", func(t *testing.T, on bool) {
			if _, err := r.exec(ieeeDim, model.SetPower(on)); err != nil {
				t.Errorf("command during the refresh: %v", err)
			}
		}},
		{"report", func(t *testing.T, on bool) {
			m := r.em.mark()
			v := int64(0)
			if on {
				v = 1
			}
			if err := r.sim.Set(ieeeDim, map[string]int64{"onOff": v}); err != nil {
				t.Error(err)
				return
			}
			r.em.waitFor(t, m, "the report", func(ev model.Event) bool {
				return ev.Kind == model.EventState && ev.DeviceID == ieeeDim && ev.Cause == model.CausePhysical
			})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec, _ := r.record(ieeeDim)
			was := rec.State.On != nil && *rec.State.On
			ran := false
			r.br.mu.Lock()
			r.br.testHookRefreshRead = func(ieee string) {
				if ieee == ieeeDim && !ran {
					ran = true
					c.change(t, !was) // the reads saw was; the device is now !was
				}
			}
			r.br.mu.Unlock()
			defer func() {
				r.br.mu.Lock()
				r.br.testHookRefreshRead = nil
				r.br.mu.Unlock()
			}()
			m := r.em.mark()
			r.br.refresh(context.Background(), ieeeDim)
			if !ran {
				t.Fatal("the refresh did not get to applying its reads")
			}
			st, err := r.br.State(context.Background(), ieeeDim)
			if err != nil || st.On == nil || *st.On == was {
				t.Errorf("State after the refresh = %s, %v; want on=%t (the newer value)", jsonString(st), err, !was)
			}
			r.em.mu.Lock()
			defer r.em.mu.Unlock()
			for _, ev := range r.em.events[m:] {
				if ev.Kind == model.EventState && ev.Cause == model.CausePoll {
					t.Errorf("the refresh's stale read went out: %s", jsonString(ev))
				}
			}
		})
	}
}
