package mqtt

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// publishFixture publishes a fixture's messages retained (as ESPHome retains
// its states), with the fixture's topics moved under the env's root; the
// retained messages are cleared when the test ends.
func (e *env) publishFixture(path string) {
	e.t.Helper()
	var topics []string
	for _, m := range loadFixture(e.t, path) {
		topic := e.underRoot(m.Topic)
		e.publish(topic, e.underRoot(string(m.payload())), true)
		topics = append(topics, topic)
	}
	e.t.Cleanup(func() {
		for _, topic := range topics {
			e.raw.Publish(topic, 1, true, "").WaitTimeout(time.Second)
		}
	})
}

// underRoot moves an ESPHome fixture's topic or payload under the env's
// root: the discovery prefix, and the nodes' own topics (which start a
// string).
func (e *env) underRoot(s string) string {
	if rest, ok := strings.CutPrefix(s, "homeassistant/"); ok {
		return e.prefix + "/" + rest
	}
	for _, node := range []string{"office-node/", "porch-node/"} {
		if strings.HasPrefix(s, node) {
			s = e.root + "/" + s
		}
		s = strings.ReplaceAll(s, `"`+node, `"`+e.root+"/"+node)
	}
	return s
}

// Home Assistant discovery end to end: ESPHome-style entities are discovered,
// their own topics subscribed, state read, commands published, and an empty
// config removes the entity.
func TestHADiscoveryEndToEnd(t *testing.T) {
	forEachBroker(t, func(t *testing.T, bk brokerKind) {
		e := newEnv(t, bk)
		e.startBridge(`"zigbee2mqtt":{"enabled":false},"confirmTimeout":"1s"`)
		e.publishFixture("testdata/ha/esphome.json")
		e.rec.wait(t, "three ESPHome endpoints with state", func(r *recorder) bool {
			th := r.devices["ha:ESPclimateoffice_thermostat"]
			return len(r.devices) == 3 && th.State.Thermostat != nil && th.State.Thermostat.Upper != nil && r.devices["ha:ESPlockporch_lock"].State.Lock == model.Locked
		})
		// A state change on an entity's own topic (outside the prefix) is seen.
		e.publish(e.root+"/porch-node/lock/porch_lock/state", "UNLOCKED", true)
		e.rec.wait(t, "lock unlocked", func(r *recorder) bool { return r.devices["ha:ESPlockporch_lock"].State.Lock == model.Unlocked })

		// A command nothing confirms (no device answers here) is not success:
		// Accepted when commandTimeout passes, then UNREACHABLE.
		m := e.mark()
		status, _, err := e.execFinal("ha:ESPlightporch_light", model.SetBrightness(100))
		if de := model.AsError(err); status != model.Accepted || de == nil || de.Kind != model.ErrUnreachable {
			t.Fatalf("Execute = %s, %v; want ACCEPTED, then UNREACHABLE", status, err)
		}
		if got := e.waitRawSince(m, e.root+"/porch-node/light/porch_light/command", func(string) bool { return true }); !jsonEqual(got, `{"state":"ON","brightness":255}`) {
			t.Errorf("command payload %s", got)
		}
		// The device echoing makes the answer carry the echoed state.
		go func() {
			e.waitRawSince(m, e.root+"/porch-node/lock/porch_lock/command", func(string) bool { return true })
			e.publish(e.root+"/porch-node/lock/porch_lock/state", "LOCKED", true)
		}()
		res, err := e.exec("ha:ESPlockporch_lock", model.SetLock(model.Locked))
		if err != nil || res.State.Lock != model.Locked {
			t.Fatalf("lock Execute = %+v, %v", res, err)
		}

		// Availability: the node goes offline.
		e.publish(e.root+"/porch-node/status", "offline", true)
		e.rec.wait(t, "porch unreachable", func(r *recorder) bool {
			return !r.devices["ha:ESPlockporch_lock"].Reachable && !r.devices["ha:ESPlightporch_light"].Reachable && r.devices["ha:ESPclimateoffice_thermostat"].Reachable
		})
		if _, err := e.exec("ha:ESPlockporch_lock", model.SetLock(model.Unlocked)); model.AsError(err) == nil || model.AsError(err).Kind != model.ErrUnreachable {
			t.Errorf("offline lock: err = %v", err)
		}

		// An empty retained config removes the entity.
		e.publish(e.prefix+"/lock/porch-node/porch_lock/config", "", true)
		e.rec.wait(t, "lock removed", func(r *recorder) bool { _, ok := r.devices["ha:ESPlockporch_lock"]; return !ok && len(r.devices) == 2 })
		e.rec.wait(t, "its state topic unsubscribed", func(*recorder) bool {
			e.bridge.mu.Lock()
			defer e.bridge.mu.Unlock()
			return !e.bridge.subscribed[e.root+"/porch-node/lock/porch_lock/state"] && e.bridge.subscribed[e.root+"/porch-node/status"]
		})

		// Removing a device from the hub forgets it until it is announced
		// again: nothing is published (its retained config stays its
		// publisher's), and its next config brings it back.
		m = e.mark()
		if err := e.bridge.RemoveDevice(context.Background(), "ha:ESPlightporch_light"); err != nil {
			t.Fatalf("RemoveDevice: %v", err)
		}
		e.rec.wait(t, "the porch light forgotten", func(r *recorder) bool {
			_, ok := r.devices["ha:ESPlightporch_light"]
			return !ok && len(r.devices) == 1
		})
		if got := e.rawSince(m, e.prefix+"/light/porch-node/porch_light/config"); len(got) != 0 {
			t.Errorf("forgetting the light published its config: %q", got)
		}
		for _, fm := range loadFixture(t, "testdata/ha/esphome.json") {
			if strings.HasSuffix(fm.Topic, "/porch_light/config") {
				e.publish(e.underRoot(fm.Topic), e.underRoot(string(fm.payload())), true)
			}
		}
		e.rec.wait(t, "the porch light back once announced again", func(r *recorder) bool {
			_, ok := r.devices["ha:ESPlightporch_light"]
			return ok && len(r.devices) == 2
		})
	})
}

// zigbee2mqtt also publishes HA discovery for its devices: each device is
// bridged once (through zigbee2mqtt), and entities avshub publishes for
// dashboards are never imported.
func TestOneDeviceThroughBothConventions(t *testing.T) {
	forEachBroker(t, func(t *testing.T, bk brokerKind) {
		e := newEnv(t, bk)
		// zigbee2mqtt's own discovery config for the colour bulb (abbreviated as z2m sends it).
		z2mLight := fmt.Sprintf(`{"availability":[{"topic":"%[1]s/bridge/state","value_template":"{{ value_json.state }}"},{"topic":"%[1]s/Living Room/Colour Bulb/availability","value_template":"{{ value_json.state }}"}],
			"availability_mode":"all","brightness":true,"brightness_scale":254,"command_topic":"%[1]s/Living Room/Colour Bulb/set","device":{"identifiers":["zigbee2mqtt_0x001788010b1c2d3e"],"manufacturer":"Philips","model":"Hue white and color ambiance E26/E27 (9290022166)","name":"Living Room/Colour Bulb","via_device":"zigbee2mqtt_bridge_0x00124b0024c0ffee"},
			"effect":true,"effect_list":["blink","breathe"],"max_mireds":500,"min_mireds":153,"name":null,"object_id":"living_room/colour_bulb","origin":{"name":"Zigbee2MQTT","sw":"2.14.1","url":"https://www.zigbee2mqtt.io"},
			"schema":"json","state_topic":"%[1]s/Living Room/Colour Bulb","supported_color_modes":["xy","color_temp"],"unique_id":"0x001788010b1c2d3e_light_zigbee2mqtt"}`, e.base)
		e.publish(e.prefix+"/light/0x001788010b1c2d3e/light/config", z2mLight, true)
		avshub := `{"name":"Kitchen","schema":"json","cmd_t":"avshub/kitchen/set","stat_t":"avshub/kitchen/state","uniq_id":"avshub_kitchen","o":{"name":"avshub","sw":"0.1.0"},"dev":{"ids":["avshub_kitchen"],"name":"Kitchen"}}`
		e.publish(e.prefix+"/light/avshub_kitchen/config", avshub, true)
		t.Cleanup(func() {
			e.publish(e.prefix+"/light/0x001788010b1c2d3e/light/config", "", true)
			e.publish(e.prefix+"/light/avshub_kitchen/config", "", true)
		})
		e.startSim()
		e.startBridge("")
		e.rec.wait(t, "six z2m devices", func(r *recorder) bool { return allReachable(r, 6, true) })
		for id := range e.rec.devices {
			if strings.HasPrefix(id, "ha:") {
				t.Errorf("device %s imported through HA discovery as well", id)
			}
		}
		var sawAvshub bool
		for _, s := range e.bridge.Skipped() {
			sawAvshub = sawAvshub || s.Reason == "published by avshub itself"
		}
		if !sawAvshub {
			t.Errorf("the avshub dashboard entity is not reported as skipped: %+v", e.bridge.Skipped())
		}
	})
}
