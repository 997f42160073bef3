package mqtt

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery/model"
)

// statesKnown reports whether the bridge knows the state of all six simulator
// devices (read back with /get when the bridge started after the simulator).
func statesKnown(r *recorder) bool {
	return r.devices[idColour].State.On != nil && r.devices[idCeiling].State.On != nil && r.devices[idHallway].State.On != nil &&
		r.devices[idLock].State.Lock != "" && r.devices[idRadiator].State.Thermostat != nil && r.devices[idSensor].State.Temperature != nil
}

func allReachable(r *recorder, n int, reachable bool) bool {
	if len(r.devices) != n {
		return false
	}
	for _, d := range r.devices {
		if d.Reachable != reachable {
			return false
		}
	}
	return true
}

// The broker goes away mid-run and comes back empty (no persistence): the
// bridge reports UNHEALTHY and unreachable devices, reconnects, re-reads what
// zigbee2mqtt republishes, and is HEALTHY with working devices again.
func TestBrokerRestartMidRun(t *testing.T) {
	e := newEnv(t, brokers()[0])
	sim := e.startSim()
	e.startBridge("")
	e.rec.wait(t, "devices reachable", func(r *recorder) bool { return allReachable(r, 6, true) })

	e.mochi.Stop()
	e.rec.wait(t, "UNHEALTHY and unreachable", func(r *recorder) bool {
		return r.health.State == model.HealthUnhealthy && allReachable(r, 6, false)
	})
	if _, err := e.exec(idColour, model.SetPower(true)); model.AsError(err) == nil || model.AsError(err).Kind != model.ErrUnreachable {
		t.Errorf("command while the broker is down: err = %v, want UNREACHABLE", err)
	}
	if err := e.mochi.Resume(); err != nil {
		t.Fatal(err)
	}
	// zigbee2mqtt (the simulator) reconnects and republishes everything.
	e.rec.wait(t, "the simulator reconnected", func(*recorder) bool { return sim.Connections() >= 2 })
	e.rec.wait(t, "HEALTHY and reachable again", func(r *recorder) bool {
		return r.health.State == model.HealthHealthy && allReachable(r, 6, true)
	})
	res, err := e.exec(idColour, model.SetBrightness(20))
	if err != nil || *res.State.Brightness != 20 {
		b, _ := json.Marshal(res)
		t.Fatalf("command after the restart: %s, %v", b, err)
	}
}

// zigbee2mqtt does not retain device state: a bridge that starts after
// zigbee2mqtt asks with /get and gets the state.
func TestGetAfterStartWhenStateNotRetained(t *testing.T) {
	forEachBroker(t, func(t *testing.T, bk brokerKind) {
		e := newEnv(t, bk)
		e.startSim()
		// The simulator published its startup states before the bridge existed.
		e.waitRaw(e.base+"/Front Door", func(string) bool { return true })
		m := e.mark()
		e.startBridge("")
		got := e.waitRawSince(m, e.base+"/Front Door/get", func(string) bool { return true })
		if !jsonEqual(got, `{"battery":"","state":""}`) { // the lock, and its battery (endpoint health)
			t.Errorf("/get payload = %s", got)
		}
		e.rec.wait(t, "lock and radiator state read back", func(r *recorder) bool {
			return r.devices[idLock].State.Lock == model.Locked && r.devices[idRadiator].State.Thermostat != nil
		})
		// The sensor's state is retained (device option retain: true): no /get for it.
		if n := len(e.rawSince(m, e.base+"/Office Sensor/get")); n != 0 {
			t.Errorf("%d /get requests for the retained sensor", n)
		}
	})
}

// A device renamed in zigbee2mqtt (bridge/request/device/rename, even to a
// name with "/" and spaces) keeps its endpoint id, gets the new name, and
// commands follow the new topic.
func TestZ2MRename(t *testing.T) {
	forEachBroker(t, func(t *testing.T, bk brokerKind) {
		e := newEnv(t, bk)
		e.startSim()
		e.startBridge("")
		e.rec.wait(t, "devices", func(r *recorder) bool { return allReachable(r, 6, true) })
		e.publish(e.base+"/bridge/request/device/rename", `{"from":"Hallway Bulb","to":"upstairs/hall way bulb","transaction":7}`, false)
		resp := e.waitRaw(e.base+"/bridge/response/device/rename", func(string) bool { return true })
		if !strings.Contains(resp, `"status":"ok"`) {
			t.Fatalf("rename response %s", resp)
		}
		e.rec.wait(t, "renamed endpoint", func(r *recorder) bool {
			return r.devices[idHallway].Endpoint.FriendlyName == "upstairs hall way bulb" && len(r.devices) == 6
		})
		m := e.mark()
		if _, err := e.exec(idHallway, model.SetPower(true)); err != nil {
			t.Fatal(err)
		}
		if got := e.waitRawSince(m, e.base+"/upstairs/hall way bulb/set", func(string) bool { return true }); !jsonEqual(got, `{"state":"ON"}`) {
			t.Errorf("payload %s", got)
		}
		if n := len(e.rawSince(m, e.base+"/Hallway Bulb/set")); n != 0 {
			t.Errorf("%d commands went to the old name", n)
		}
	})
}

// Bad input never stops the bridge: each problem is logged once per device
// with its reason and skipped.
func TestBadPayloads(t *testing.T) {
	forEachBroker(t, func(t *testing.T, bk brokerKind) {
		e := newEnv(t, bk)
		e.startSim()
		e.startBridge(`"maxMessageBytes":200000`)
		e.rec.wait(t, "devices with state", func(r *recorder) bool { return allReachable(r, 6, true) && statesKnown(r) })

		for i := 0; i < 3; i++ {
			e.publish(e.base+"/Hallway Bulb", `{"state":"ON",`, false)                                    // invalid JSON
			e.publish(e.base+"/kitchen/ceiling", `{"state":"ON","brightness":"bright"}`, false)           // wrong type
			e.publish(e.base+"/Office Sensor", `{"temperature":"hot"}`, false)                            // wrong type
			e.publish(e.base+"/Front Door", strings.Repeat("x", 300000), false)                           // huge
			e.publish(e.prefix+"/light/bad/config", `{"cmd_t":`, false)                                   // invalid JSON
			e.publish(e.prefix+"/lock/weird/config", `{"cmd_t":"a/b","stat_t":"a/c","qos":"one"}`, false) // wrong type
		}
		// The bridge still works.
		e.publish(e.base+"/Hallway Bulb", `{"state":"ON","brightness":254}`, false)
		e.rec.wait(t, "valid state after bad ones", func(r *recorder) bool {
			d := r.devices[idHallway]
			return d.State.Brightness != nil && *d.State.Brightness == 100
		})
		d, _ := e.rec.device(idCeiling)
		if d.State.On == nil || !*d.State.On {
			t.Errorf("the valid field of a partly bad message was lost: %+v", d.State)
		}
		for _, sub := range []string{"Hallway Bulb", "kitchen/ceiling", "Office Sensor", "topic " + e.base + "/Front Door", "light/bad", "lock/weird"} {
			if n := len(e.logs.matching(sub)); n != 1 {
				t.Errorf("%d warnings about %s, want exactly 1: %q", n, sub, e.logs.matching(sub))
			}
		}

		// A broken bridge/devices keeps the last good device list.
		e.publish(e.base+"/bridge/devices", `[{"ieee_address":5}`, false)
		// Unknown expose types are skipped, the rest of the device is bridged.
		devs := `[{"ieee_address":"0x0000000000000abc","type":"Router","friendly_name":"odd","supported":true,"disabled":false,
			"definition":{"model":"X","vendor":"Y","description":"d","source":"native","exposes":[
			{"type":"hologram","name":"h"},{"type":"switch","features":[{"type":"binary","name":"state","property":"state","access":7,"value_on":"ON","value_off":"OFF"}]}]}}]`
		e.publish(e.base+"/bridge/devices", devs, false)
		e.rec.wait(t, "device list replaced", func(r *recorder) bool { _, ok := r.devices["z2m:0x0000000000000abc"]; return ok && len(r.devices) == 1 })
		if got := e.logs.skippedMatching("hologram"); len(got) != 1 || !strings.Contains(got[0], "item=odd part=h reason=unknown expose type") {
			t.Errorf("skipped records about the unknown expose type: %q, want 1", got)
		}
		if n := len(e.logs.matching("bridge/devices")); n != 1 {
			t.Errorf("%d warnings about the broken bridge/devices, want 1", n)
		}
		var ev []model.Event
		e.rec.mu.Lock()
		ev = append(ev, e.rec.events...)
		e.rec.mu.Unlock()
		b, _ := json.Marshal(ev)
		if strings.Contains(string(b), `"kind":"health","health":{"state":"UNHEALTHY"`) {
			t.Errorf("bad payloads made the bridge unhealthy")
		}
	})
}

// Legacy plain online/offline payloads (advanced.legacy_availability_payload)
// drive reachability like the JSON ones, and zigbee2mqtt going away
// (bridge/state offline) makes every device unreachable.
func TestZ2MLegacyAvailabilityAndBridgeOffline(t *testing.T) {
	forEachBroker(t, func(t *testing.T, bk brokerKind) {
		e := newEnv(t, bk)
		sim := e.startSimWith(z2msim.Options{LegacyAvailability: true})
		e.startBridge("")
		e.rec.wait(t, "devices reachable", func(r *recorder) bool { return allReachable(r, 6, true) })
		if got := e.waitRaw(e.base+"/Front Door/availability", func(string) bool { return true }); got != "online" {
			t.Fatalf("the simulator did not use the legacy payload: %q", got)
		}
		if err := sim.SetOnline("kitchen/ceiling", false); err != nil {
			t.Fatal(err)
		}
		e.rec.wait(t, "ceiling unreachable", func(r *recorder) bool { return !r.devices[idCeiling].Reachable && r.devices[idColour].Reachable })
		sim.Close()
		e.rec.wait(t, "all unreachable after bridge/state offline", func(r *recorder) bool { return allReachable(r, 6, false) })
		e.rec.mu.Lock()
		h := e.rec.health.State
		e.rec.mu.Unlock()
		if h != model.HealthHealthy {
			t.Errorf("bridge health %s: zigbee2mqtt being down is not the bridge's own health", h)
		}
	})
}
