package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/znpsim"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/dashboard"
	"github.com/avshub/avshub/gateway/web"
)

// zigbeeKindsPublished is how many Zigbee endpoints the demo's devices make:
// the default set's six (its remote is none) and znpsim.DemoDevicesYAML's four more.
const zigbeeKindsPublished = 10

// writeZigbeeDevices writes znp-sim's device file: znpsim.DemoDevicesYAML.
func (d *demo) writeZigbeeDevices() (string, error) {
	doc := string(znpsim.DemoDevicesYAML())
	if _, err := znpsim.ParseDevices([]byte(doc)); err != nil {
		return "", err
	}
	path := filepath.Join(d.out, "zigbee-devices.yaml")
	return path, writeFile(path, doc)
}

// setRange is a RangeController SetRangeValue (both profiles speak it for
// covers, Blind.Lift).
func setRange(id, instance string, v float64) directive {
	return directive{Namespace: "Alexa.RangeController", Name: "SetRangeValue", EndpointID: id, Instance: instance,
		Payload: map[string]any{"rangeValue": v}}
}

// zigbeeKinds plays the blind, door, leak and plug part of the conversation.
func (d *demo) zigbeeKinds(ctx context.Context) error {
	d.section("Voice: a Zigbee blind (Window Covering) moves to a position")
	blind, err := d.target(ctx, "zigbee", "", func(t model.Traits) bool { return t.Cover != nil })
	if err != nil {
		return err
	}
	name := strings.ToLower(blind.Endpoint.FriendlyName)
	t0 := time.Now()
	evs, err := d.ask(ctx, "set the "+name+" to 30 percent", setRange(blind.Endpoint.ID, "Blind.Lift", 30))
	if err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}
	if !hasProperty(last(evs), "Blind.Lift", "30") {
		return fmt.Errorf("the blind's Response does not carry the position reached (30): %s", describe(last(evs)))
	}
	lift, err := d.simAttribute(ctx, blind.Endpoint.DeviceID, "currentPositionLiftPercentage")
	if err != nil {
		return err
	}
	if lift != 70 {
		return fmt.Errorf("the Response came with the simulated blind at lift %d %%, not yet at 70 %%", lift)
	}
	if len(d.afRequests(zclWindowCovering)) == 0 {
		return fmt.Errorf("the serial trace has no Window Covering command")
	}
	d.showZCL(zclWindowCovering, "the ZCL Window Covering command (go to lift percentage 70 %: 30 % open)")
	d.say("  the blind travelled (reports every 10 %%) and Alexa got the Response once it was there, %s after the directive",
		time.Since(t0).Round(100*time.Millisecond))

	d.section("By hand: a door is opened (Aqara door sensor)")
	door, err := d.target(ctx, "zigbee", "", func(t model.Traits) bool { return t.Contact != nil })
	if err != nil {
		return err
	}
	if err := d.simChange(ctx, door, map[string]any{"onOff": 1}, "the magnet moves away from the door sensor → an On/Off report"); err != nil {
		return err
	}

	d.section("A leak: Alexa and the dashboard hear of it (Aqara leak sensor, IAS zone)")
	leak, err := d.target(ctx, "zigbee", "", func(t model.Traits) bool { return t.WaterLeak != nil })
	if err != nil {
		return err
	}
	if err := d.simChange(ctx, leak, map[string]any{"zoneStatus": 1}, "water under the sensor → a Zone Status Change Notification (alarm 1)"); err != nil {
		return err
	}
	node := dashboard.NodeID(leak.Endpoint)
	line, err := d.waitDashboard(ctx, node, `"water_leak":"ON"`)
	if err != nil {
		return err
	}
	d.say("  dashboard (Home Assistant's moisture binary_sensor reads it): %s", line)

	d.section("Voice: a plug with metering reports its power")
	plug, err := d.target(ctx, "zigbee", "", func(t model.Traits) bool { return t.Power != nil && t.OnOff != nil })
	if err != nil {
		return err
	}
	pname := strings.ToLower(plug.Endpoint.FriendlyName)
	if evs, err = d.ask(ctx, "turn on the "+pname, turnOn(plug.Endpoint.ID)); err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}
	// The plug reports its power a moment after its relay (Electrical Measurement).
	err = waitFor(ctx, "the plug's power reading", 15*time.Second, func() (bool, error) {
		eps, err := d.hubEndpoints(ctx)
		if err != nil {
			return false, err
		}
		for _, e := range eps {
			if e.Endpoint.ID == plug.Endpoint.ID {
				return e.State.Watts != nil && *e.State.Watts > 0, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "how much power is the "+pname+" using?", reportState(plug.Endpoint.ID)); err != nil {
		return err
	}
	if err := expect(evs, "StateReport", ""); err != nil {
		return err
	}
	if !hasProperty(last(evs), "Power.Current", "60") {
		return fmt.Errorf("the plug's StateReport does not carry its 60 W: %s", describe(last(evs)))
	}
	d.say("    (%s: %s W in the StateReport)", plug.Endpoint.FriendlyName, "60")
	return nil
}

// simChange changes a Zigbee device by hand on znp-sim and waits for the
// ChangeReport (PHYSICAL_INTERACTION) it makes.
func (d *demo) simChange(ctx context.Context, ep web.Endpoint, set map[string]any, what string) error {
	before, err := d.recordedEvents(ctx)
	if err != nil {
		return err
	}
	if err := call(ctx, "POST", d.znpAdmin+"/sim/devices/"+ep.Endpoint.DeviceID+"/set", set, nil); err != nil {
		return err
	}
	d.say("  znp-sim: %s (%s): %s", ep.Endpoint.FriendlyName, ep.Endpoint.DeviceID, what)
	cr, err := d.waitChangeReport(ctx, len(before), ep.Endpoint.ID, "PHYSICAL_INTERACTION")
	if err != nil {
		return err
	}
	d.say("    ← %s", describe(cr))
	return nil
}

// simAttribute reads an attribute of a simulated device from znp-sim's admin API.
func (d *demo) simAttribute(ctx context.Context, ieee, name string) (int64, error) {
	var devs []znpsim.DeviceStatus
	if err := call(ctx, "GET", d.znpAdmin+"/sim/devices", nil, &devs); err != nil {
		return 0, err
	}
	for _, s := range devs {
		if s.IEEE == ieee {
			if v, ok := s.Attributes[name]; ok {
				return v, nil
			}
		}
	}
	return 0, fmt.Errorf("znp-sim has no %s on %s", name, ieee)
}

// hasProperty says whether an event's context carries instance with value.
func hasProperty(e event, instance, value string) bool {
	var c struct {
		Properties []property `json:"properties"`
	}
	_ = json.Unmarshal(e.Context, &c)
	for _, p := range c.Properties {
		if p.Instance == instance && strings.TrimSpace(string(p.Value)) == value {
			return true
		}
	}
	return false
}

// waitDashboard waits for a recorded dashboard state message of node that
// contains want and returns it as mosquitto_sub -v prints it.
func (d *demo) waitDashboard(ctx context.Context, node, want string) (string, error) {
	var found string
	err := waitFor(ctx, "the dashboard state of "+node, 15*time.Second, func() (bool, error) {
		f, err := os.Open(filepath.Join(d.out, "dashboard-messages.jsonl"))
		if err != nil {
			return false, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m struct {
				Topic   string          `json:"topic"`
				Payload json.RawMessage `json:"payload"`
			}
			if json.Unmarshal(sc.Bytes(), &m) != nil || !strings.Contains(m.Topic, node) || !strings.HasSuffix(m.Topic, "/state") {
				continue
			}
			payload := string(m.Payload)
			var text string
			if json.Unmarshal(m.Payload, &text) == nil {
				payload = text
			}
			if strings.Contains(payload, want) {
				found = m.Topic + " " + payload
				return true, nil
			}
		}
		return false, sc.Err()
	})
	return found, err
}
