package znpsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
	"github.com/avshub/avshub/bridges/mqtt/z2mreal"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
	"github.com/avshub/avshub/bridges/zigbee/znpsim"
)

// mqttLog collects every message zigbee2mqtt publishes.
type mqttLog struct {
	mu      sync.Mutex
	last    map[string][]byte
	all     []string
	changed chan struct{}
}

func newMQTTLog() *mqttLog { return &mqttLog{last: map[string][]byte{}, changed: make(chan struct{})} }

func (l *mqttLog) add(topic string, payload []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last[topic] = append([]byte(nil), payload...)
	l.all = append(l.all, topic+" "+string(payload))
	close(l.changed)
	l.changed = make(chan struct{})
}

// wait waits until topic's last payload, decoded, satisfies ok.
func (l *mqttLog) wait(t *testing.T, topic string, timeout time.Duration, what string, ok func(v any) bool) any {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		p, have := l.last[topic]
		ch := l.changed
		l.mu.Unlock()
		if have {
			var v any
			if json.Unmarshal(p, &v) == nil && ok(v) {
				return v
			}
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("%s: %s never came (last %s: %s)", what, topic, topic, p)
		}
	}
}

// rpcWatch fails on any MT RPC error frame the stick sends.
type rpcWatch struct {
	mu     sync.Mutex
	errors []string
}

func (w *rpcWatch) frame(dir znpsim.Direction, f unpi.Frame) {
	if dir == znpsim.ZNPToHost && f.Subsystem == unpi.RPCError {
		raw, _ := f.Marshal()
		w.mu.Lock()
		w.errors = append(w.errors, fmt.Sprintf("% X", raw))
		w.mu.Unlock()
	}
}

func (w *rpcWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.errors) > 0 {
		t.Errorf("the stick answered %d requests with an MT RPC error frame (a command it does not implement): %v", len(w.errors), w.errors)
	}
}

func properties(v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		if p, ok := x["property"].(string); ok {
			out[p] = true
		}
		for _, c := range x {
			properties(c, out)
		}
	case []any:
		for _, c := range x {
			properties(c, out)
		}
	}
}

func field(v any, key string) any {
	m, _ := v.(map[string]any)
	return m[key]
}

// product is a simulated product and what the real zigbee2mqtt must make of it.
type product struct {
	ieee, model string
	exposes     []string
}

var products = []product{
	{"0x0017880104a1c3e5", "9290012573A", []string{"state", "brightness", "color_temp", "color"}},
	{"0x000d6ffffe2b9c41", "LED1545G12", []string{"state", "brightness", "color_temp"}},
	{"0x0017880106f2d011", "9290011370", []string{"state", "brightness"}},
	{"0x000d6f000fa35c72", "YRD256HA20BP", []string{"state", "lock_state", "battery"}},
	{"0x0014500000a1b2c3", "014G2461", []string{"occupied_heating_setpoint", "local_temperature", "system_mode", "battery"}},
	{"0x00158d0002d4e5f6", "WSDCGQ11LM", []string{"temperature", "humidity", "battery"}},
	{"0x000d6ffffe7788aa", "E1524/E1810", []string{"action", "battery"}},
	{"0x00158d000a1b2c01", "MCCGQ11LM", []string{"contact", "battery"}},
	{"0x00158d000a1b2c02", "SJCGQ11LM", []string{"water_leak", "battery_low", "battery"}},
	{"0x000d6ffffe3c4d01", "E1757", []string{"state", "position", "battery"}},
	{"0x000d6ffffe3c4d02", "E22xx", []string{"state", "power", "energy"}},
	{"0x0017880109c4d501", "9290012607", []string{"occupancy", "illuminance", "temperature", "battery"}},
	{"0x000d6f0011aa2201", "HS1SA-E", []string{"smoke", "battery"}},
	{"0x000d6f0011aa2202", "HS1CA-E", []string{"carbon_monoxide", "battery_low", "battery"}},
	{"0x0015bc001a2b3c01", "41ECSFWMZ-VW", []string{"fan_state", "fan_mode"}},
	{"0x000d6f0011aa2203", "HS2WD-E", []string{"warning", "battery"}},
	{"0x00124b0022aa3301", "SNZB-01", []string{"action", "battery"}},
	{"0x00124b0022bb4401", "1245602", []string{"state", "position", "tilt", "battery"}},
	{"0x00124b0022aa3302", "SNZB-03", []string{"occupancy", "battery_low", "battery"}},
	{"0x00124b0022aa3303", "SNZB-04", []string{"contact", "battery_low", "battery"}},
}

func attr(t *testing.T, s *znpsim.Sim, ieee, name string) (int64, bool) {
	t.Helper()
	for _, d := range s.Devices() {
		if "0x"+d.IEEE == ieee {
			v, ok := d.Attributes[name]
			return v, ok
		}
	}
	t.Fatalf("no simulated device %s", ieee)
	return 0, false
}

// waitAttr waits until the simulated device's attribute satisfies ok.
func waitAttr(t *testing.T, s *znpsim.Sim, ieee, name string, timeout time.Duration, ok func(int64) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, have := attr(t, s, ieee, name)
		if have && ok(v) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s = %d (present %v) after %v", ieee, name, v, have, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRealZigbee2MQTT runs the real zigbee2mqtt (zigbee-herdsman's zstack
// adapter) against znp-sim on a pseudo-terminal and an embedded broker, once,
// and checks it forms, backs up, resumes, pairs, interviews and recognises
// every simulated product, and drives each of them.
func TestRealZigbee2MQTT(t *testing.T) {
	z2mreal.Require(t)
	var rpc rpcWatch
	var trace bytes.Buffer
	var traceMu sync.Mutex
	devs, err := znpsim.ParseDevices(znpsim.DefaultDevicesYAML())
	if err != nil {
		t.Fatal(err)
	}
	// The sensors, the blind, the plug, the fan, the siren and the button
	// besides the default devices.
	for i, typ := range []string{"aqara-door", "aqara-leak", "ikea-blind", "ikea-plug", "hue-motion", "heiman-smoke", "heiman-co", "schneider-fan", "heiman-siren", "sonoff-button", "somfy-tilt", "sonoff-motion", "sonoff-contact"} {
		devs = append(devs, znpsim.DeviceSpec{IEEE: products[7+i].ieee, Type: typ, NWK: uint16(0x6a08 + i)})
	}
	sim, err := znpsim.New(znpsim.Options{Devices: devs, OnFrame: rpc.frame, Trace: lockedWriter{&traceMu, &trace}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tty := filepath.Join(dir, "ttyZNP")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	simDone := make(chan error, 1)
	go func() { simDone <- sim.RunPTY(ctx, tty, func(string) { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		<-simDone
		sim.Close()
	})
	select {
	case <-ready:
	case err := <-simDone:
		t.Fatalf("znp-sim: %v", err)
	}
	defer rpc.check(t)
	defer func() {
		if t.Failed() {
			traceMu.Lock()
			t.Logf("serial trace (tail):\n%s", tailLines(trace.String(), 80))
			// The whole trace (every frame's ZCL sequence number) is kept
			// to find out why a report did not reach zigbee2mqtt.
			dir := t.ArtifactDir()
			if d := os.Getenv("AVSHUB_TEST_ARTIFACTS"); d != "" {
				dir = filepath.Join(d, t.Name())
			}
			if err := os.MkdirAll(dir, 0o755); err == nil {
				f := filepath.Join(dir, "serial-trace.txt")
				if err := os.WriteFile(f, trace.Bytes(), 0o644); err == nil {
					t.Logf("whole serial trace: %s", f)
				}
			}
			traceMu.Unlock()
		}
	}()

	broker := mqtttest.MustStart(t, mqtttest.Options{})
	log := newMQTTLog()
	// In order (paho's default): the checks read the last message of a topic,
	// and zigbee2mqtt publishes a lock's event and its new state back to back.
	c := paho.NewClient(paho.NewClientOptions().AddBroker(broker.URL).SetClientID("z2m-observer"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(50)
	if tok := c.Subscribe("zigbee2mqtt/#", 0, func(_ paho.Client, m paho.Message) { log.add(m.Topic(), m.Payload()) }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	publish := func(topic, payload string) {
		t.Helper()
		if tok := c.Publish(topic, 0, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", topic, tok.Error())
		}
	}

	key := []byte{0x5A, 0x31, 0x9C, 0x04, 0xE8, 0x77, 0x10, 0x2B, 0xC6, 0x4F, 0x93, 0x0D, 0x71, 0xAA, 0x28, 0xF5}
	ext := []byte{0xDD, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07}
	z := z2mreal.MustStart(t, z2mreal.Config{Serial: tty, MQTT: broker.URL, Channel: 15, NetworkKey: key, PanID: 0x1A62, ExtPanID: ext})

	// Formed as configured, and the backup taken at first start.
	checkNetwork := func(when string) {
		t.Helper()
		ch, pan, formed := sim.Network()
		if !formed || ch != 15 || pan != 0x1A62 || !bytes.Equal(sim.NetworkKey(), key) {
			t.Fatalf("%s: stick network channel %d PAN %04X formed %v key % X", when, ch, pan, formed, sim.NetworkKey())
		}
		var backup struct {
			PanID    string `json:"pan_id"`
			ExtPanID string `json:"extended_pan_id"`
			Channel  int    `json:"channel"`
			Key      struct {
				Key string `json:"key"`
			} `json:"network_key"`
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			b, err := os.ReadFile(filepath.Join(z.Dir, "coordinator_backup.json"))
			if err == nil && json.Unmarshal(b, &backup) == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no coordinator backup: %v", when, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if backup.PanID != "1a62" || backup.ExtPanID != "dd01020304050607" || backup.Channel != 15 || backup.Key.Key != fmt.Sprintf("%x", key) {
			t.Fatalf("%s: backup %+v", when, backup)
		}
	}
	checkNetwork("first start")
	if !strings.Contains(z.Output(), "zigbee-herdsman started (reset)") {
		t.Fatalf("first start did not form a new network:\n%s", tailLines(z.Output(), 40))
	}

	// Restart: the stick keeps its NV, zigbee2mqtt resumes the same network.
	from := len(z.Output())
	if err := z.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := z.WaitStarted(from, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(z.Output()[from:], "zigbee-herdsman started (resumed)") {
		t.Fatalf("restart did not resume the network:\n%s", tailLines(z.Output()[from:], 40))
	}
	checkNetwork("after restart")

	// Permit join through the MQTT API; every product joins, is interviewed
	// and recognised with the right exposes.
	publish("zigbee2mqtt/bridge/request/permit_join", `{"time": 254}`)
	log.wait(t, "zigbee2mqtt/bridge/response/permit_join", 30*time.Second, "permit join", func(v any) bool { return field(v, "status") == "ok" })
	log.wait(t, "zigbee2mqtt/bridge/devices", 3*time.Minute, "all products interviewed", func(v any) bool {
		list, _ := v.([]any)
		done := 0
		for _, d := range list {
			if field(d, "interview_state") == "SUCCESSFUL" && field(d, "definition") != nil {
				done++
			}
		}
		return done == len(products)
	})
	devices := log.wait(t, "zigbee2mqtt/bridge/devices", time.Second, "devices", func(any) bool { return true }).([]any)
	for _, p := range products {
		var dev any
		for _, d := range devices {
			if field(d, "ieee_address") == p.ieee {
				dev = d
			}
		}
		if dev == nil {
			t.Errorf("%s did not join", p.ieee)
			continue
		}
		def := field(dev, "definition")
		if m := field(def, "model"); m != p.model {
			t.Errorf("%s recognised as %v, want %s", p.ieee, m, p.model)
		}
		if field(dev, "supported") != true {
			t.Errorf("%s not supported", p.ieee)
		}
		have := map[string]bool{}
		properties(field(def, "exposes"), have)
		for _, e := range p.exposes {
			if !have[e] {
				keys := make([]string, 0, len(have))
				for k := range have {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				t.Errorf("%s (%s) does not expose %q (has %v)", p.ieee, p.model, e, keys)
			}
		}
	}
	if t.Failed() {
		return
	}

	state := func(ieee string) string { return "zigbee2mqtt/" + ieee }
	set := func(ieee, payload string) { publish(state(ieee)+"/set", payload) }
	hue, ikea, lwb, lock, ally, aqara := products[0].ieee, products[1].ieee, products[2].ieee, products[3].ieee, products[4].ieee, products[5].ieee
	door, leak, blind, plug, motion, smoke := products[7].ieee, products[8].ieee, products[9].ieee, products[10].ieee, products[11].ieee, products[12].ieee
	co, fan, siren, button, tilt := products[13].ieee, products[14].ieee, products[15].ieee, products[16].ieee, products[17].ieee
	pir, contact := products[18].ieee, products[19].ieee
	num := func(v any) float64 { f, _ := v.(float64); return f }

	t.Run("commands change the devices", func(t *testing.T) {
		set(hue, `{"state": "ON"}`)
		waitAttr(t, sim, hue, "onOff", 10*time.Second, func(v int64) bool { return v == 1 })
		set(hue, `{"brightness": 100}`)
		waitAttr(t, sim, hue, "currentLevel", 10*time.Second, func(v int64) bool { return v == 100 })
		set(hue, `{"color_temp": 300}`)
		waitAttr(t, sim, hue, "colorTemperature", 10*time.Second, func(v int64) bool { return v == 300 })
		set(hue, `{"color": {"x": 0.2, "y": 0.3}}`)
		waitAttr(t, sim, hue, "currentX", 10*time.Second, func(v int64) bool { return math.Abs(float64(v)-0.2*65535) < 2 })
		waitAttr(t, sim, hue, "currentY", 10*time.Second, func(v int64) bool { return math.Abs(float64(v)-0.3*65535) < 2 })
		set(hue, `{"color": {"hue": 240, "saturation": 100}}`)
		waitAttr(t, sim, hue, "colorMode", 10*time.Second, func(v int64) bool { return v == 0 })
		waitAttr(t, sim, hue, "currentSaturation", 10*time.Second, func(v int64) bool { return v >= 253 })

		set(ikea, `{"state": "ON", "color_temp": 350}`)
		waitAttr(t, sim, ikea, "colorTemperature", 10*time.Second, func(v int64) bool { return v == 350 })
		waitAttr(t, sim, ikea, "onOff", 10*time.Second, func(v int64) bool { return v == 1 })
		set(lwb, `{"brightness": 50}`)
		waitAttr(t, sim, lwb, "currentLevel", 10*time.Second, func(v int64) bool { return v == 50 })
		set(lwb, `{"state": "OFF"}`)
		waitAttr(t, sim, lwb, "onOff", 10*time.Second, func(v int64) bool { return v == 0 })

		// The lock accepts at once and moves its bolt over its delay (3 s):
		// zigbee2mqtt's state follows the lock's report.
		set(lock, `{"state": "UNLOCK"}`)
		waitAttr(t, sim, lock, "lockState", 15*time.Second, func(v int64) bool { return v == 2 })
		log.wait(t, state(lock), 10*time.Second, "lock state unlocked", func(v any) bool { return field(v, "lock_state") == "unlocked" })
		set(lock, `{"state": "LOCK"}`)
		waitAttr(t, sim, lock, "lockState", 15*time.Second, func(v int64) bool { return v == 1 })
		log.wait(t, state(lock), 10*time.Second, "lock state locked", func(v any) bool { return field(v, "lock_state") == "locked" })

		// The Ally's setpoint goes as Danfoss command 0x40; its mode as a write.
		set(ally, `{"occupied_heating_setpoint": 22.5}`)
		waitAttr(t, sim, ally, "occupiedHeatingSetpoint", 15*time.Second, func(v int64) bool { return v == 2250 })
		log.wait(t, state(ally), 10*time.Second, "setpoint reported", func(v any) bool { return num(field(v, "occupied_heating_setpoint")) == 22.5 })
		set(ally, `{"system_mode": "heat"}`)
		log.wait(t, state(ally), 10*time.Second, "system mode", func(v any) bool { return field(v, "system_mode") == "heat" })
		set(ally, `{"programming_operation_mode": "schedule"}`)
		waitAttr(t, sim, ally, "programmingOperationMode", 15*time.Second, func(v int64) bool { return v == 1 })

		// The blind: zigbee2mqtt's position 100 is open (lift 0 %); it goes
		// to a position, closes, opens, and stops on the way.
		set(blind, `{"position": 30}`)
		waitAttr(t, sim, blind, "currentPositionLiftPercentage", 15*time.Second, func(v int64) bool { return v == 70 })
		log.wait(t, state(blind), 10*time.Second, "blind position", func(v any) bool { return num(field(v, "position")) == 30 })
		set(blind, `{"state": "OPEN"}`)
		waitAttr(t, sim, blind, "currentPositionLiftPercentage", 15*time.Second, func(v int64) bool { return v == 0 })
		set(blind, `{"state": "CLOSE"}`)
		waitAttr(t, sim, blind, "currentPositionLiftPercentage", 15*time.Second, func(v int64) bool { return v > 10 })
		set(blind, `{"state": "STOP"}`)
		log.wait(t, state(blind), 10*time.Second, "blind stopped", func(v any) bool { p := num(field(v, "position")); return p > 0 && p < 100 })

		// The plug: its power follows its relay.
		set(plug, `{"state": "ON"}`)
		waitAttr(t, sim, plug, "onOff", 10*time.Second, func(v int64) bool { return v == 1 })
		log.wait(t, state(plug), 15*time.Second, "plug power", func(v any) bool { return num(field(v, "power")) == 60 })

		// The Somfy blind's slats: zigbee2mqtt's tilt 40 is ZCL tilt 60 %.
		set(tilt, `{"tilt": 40}`)
		waitAttr(t, sim, tilt, "currentPositionTiltPercentage", 15*time.Second, func(v int64) bool { return v == 60 })
		log.wait(t, state(tilt), 10*time.Second, "slats reported", func(v any) bool { return num(field(v, "tilt")) == 40 })

		// The fan: zigbee2mqtt writes fanMode.
		set(fan, `{"fan_mode": "medium"}`)
		waitAttr(t, sim, fan, "fanMode", 10*time.Second, func(v int64) bool { return v == 2 })
		set(fan, `{"fan_state": "OFF"}`)
		waitAttr(t, sim, fan, "fanMode", 10*time.Second, func(v int64) bool { return v == 0 })

		// The siren: Start Warning in emergency mode, then stop.
		set(siren, `{"warning": {"mode": "emergency", "duration": 30}}`)
		waitAttr(t, sim, siren, "warningMode", 10*time.Second, func(v int64) bool { return v == 3 })
		set(siren, `{"warning": {"mode": "stop"}}`)
		waitAttr(t, sim, siren, "warningMode", 10*time.Second, func(v int64) bool { return v == 0 })
	})

	t.Run("IAS zones are enrolled", func(t *testing.T) {
		for _, ieee := range []string{leak, smoke, co, pir, contact} {
			if v, _ := attr(t, sim, ieee, "zoneState"); v != 1 {
				t.Errorf("%s zoneState %d after the interview, want 1 (enrolled)", ieee, v)
			}
		}
	})

	t.Run("changes by hand reach the state topics", func(t *testing.T) {
		for _, c := range []struct {
			ieee, name string
			value      int64
			key        string
			want       any
		}{
			// zigbee2mqtt configures no reporting on these bulbs (Hue, IKEA):
			// a change by hand at the bulb stays unseen, as with the real ones.
			{lock, "lockState", 2, "lock_state", "unlocked"},
			{ally, "localTemperature", 1875, "local_temperature", 18.75},
			{aqara, "measuredValue", 2345, "temperature", 23.45},
			{door, "onOff", 1, "contact", false},
			{door, "onOff", 0, "contact", true},
			{leak, "zoneStatus", 1, "water_leak", true},
			{leak, "zoneStatus", 0, "water_leak", false},
			{smoke, "zoneStatus", 1, "smoke", true},
			{motion, "occupancy", 1, "occupancy", true},
			{plug, "activePower", 1234, "power", 123.4},
			{aqara, "humidity", 5123, "humidity", 51.23},
			{co, "zoneStatus", 1, "carbon_monoxide", true},
			{fan, "fanMode", 3, "fan_mode", "high"},
			{pir, "zoneStatus", 1, "occupancy", true},
			{contact, "zoneStatus", 1, "contact", false},
			{contact, "zoneStatus", 0, "contact", true},
			{button, "press", znpsim.PressSingle, "action", "single"},
			{button, "press", znpsim.PressDouble, "action", "double"},
		} {
			if err := sim.Set(strings.TrimPrefix(c.ieee, "0x"), map[string]int64{c.name: c.value}); err != nil {
				t.Fatal(err)
			}
			log.wait(t, state(c.ieee), 15*time.Second, c.ieee+" "+c.name, func(v any) bool { return field(v, c.key) == c.want })
		}
	})

	from = len(z.Output())
	if err := z.Stop(); err != nil {
		t.Errorf("zigbee2mqtt did not stop cleanly on SIGTERM: %v", err)
	}
	if !strings.Contains(z.Output()[from:], "Stopped Zigbee2MQTT") {
		t.Errorf("no clean stop:\n%s", tailLines(z.Output()[from:], 20))
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
