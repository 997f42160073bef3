package z2msim_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
	"github.com/avshub/avshub/bridges/mqtt/z2msim"
)

// watcher is a plain MQTT client recording what the simulator publishes.
type watcher struct {
	mu   sync.Mutex
	msgs map[string][]string
	all  []timedMsg // every message, in order, with its arrival time
	ch   chan struct{}
	c    paho.Client
}

func watch(t *testing.T, url, filter string) *watcher {
	t.Helper()
	w := &watcher{msgs: map[string][]string{}, ch: make(chan struct{}, 1)}
	w.c = paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("watcher").SetOrderMatters(true))
	if tok := w.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { w.c.Disconnect(50) })
	tok := w.c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		w.mu.Lock()
		w.msgs[m.Topic()] = append(w.msgs[m.Topic()], string(m.Payload()))
		w.all = append(w.all, timedMsg{at: time.Now(), topic: m.Topic(), payload: append([]byte(nil), m.Payload()...)})
		w.mu.Unlock()
		select {
		case w.ch <- struct{}{}:
		default:
		}
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	return w
}

// next waits for the n-th message (1-based) on topic and returns it.
func (w *watcher) next(t *testing.T, topic string, n int) string {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		ms := w.msgs[topic]
		w.mu.Unlock()
		if len(ms) >= n {
			return ms[n-1]
		}
		select {
		case <-w.ch:
		case <-deadline.C:
			t.Fatalf("no message %d on %s", n, topic)
		}
	}
}

func (w *watcher) count(topic string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.msgs[topic])
}

func start(t *testing.T) (*mqtttest.Broker, *z2msim.Sim, *watcher) {
	t.Helper()
	return startWith(t, z2msim.Options{})
}

func startWith(t *testing.T, opts z2msim.Options) (*mqtttest.Broker, *z2msim.Sim, *watcher) {
	t.Helper()
	b := mqtttest.MustStart(t, mqtttest.Options{})
	w := watch(t, b.URL, "zigbee2mqtt/#")
	opts.Broker, opts.Logger = b.URL, slog.New(slog.NewTextHandler(io.Discard, nil))
	sim := z2msim.New(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	// Wait for the startup state of every device, so tests count from there.
	for _, d := range sim.Devices() {
		w.next(t, "zigbee2mqtt/"+d.FriendlyName, 1)
	}
	return b, sim, w
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return m
}

func TestStartupTopics(t *testing.T) {
	b, _, w := start(t)
	if got := w.next(t, "zigbee2mqtt/bridge/state", 1); got != `{"state":"online"}` {
		t.Errorf("bridge/state = %s", got)
	}
	var devs []map[string]any
	if err := json.Unmarshal([]byte(w.next(t, "zigbee2mqtt/bridge/devices", 1)), &devs); err != nil || len(devs) != 8 {
		t.Fatalf("bridge/devices: %d devices, %v", len(devs), err)
	}
	if devs[0]["type"] != "Coordinator" {
		t.Errorf("first device is %v, want the coordinator", devs[0]["type"])
	}
	if got := w.next(t, "zigbee2mqtt/Front Door/availability", 1); got != `{"state":"online"}` {
		t.Errorf("availability = %s", got)
	}
	// Retained as zigbee2mqtt does: bridge topics and availability, and state only for retain devices.
	for topic, want := range map[string]bool{"zigbee2mqtt/bridge/devices": true, "zigbee2mqtt/bridge/state": true,
		"zigbee2mqtt/Front Door/availability": true, "zigbee2mqtt/Office Sensor": true, "zigbee2mqtt/Front Door": false} {
		if _, ok := b.Retained(topic); ok != want {
			t.Errorf("%s retained = %t, want %t", topic, ok, want)
		}
	}
}

func TestSetClampsAndEchoes(t *testing.T) {
	_, sim, w := start(t)
	pub := func(topic, payload string) {
		if tok := w.c.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	tests := []struct {
		name, device, topic, payload string
		check                        func(map[string]any) bool
	}{
		{"brightness clamped to 254", "Hallway Bulb", "zigbee2mqtt/Hallway Bulb/set", `{"brightness":400}`,
			func(m map[string]any) bool { return m["brightness"] == 254.0 && m["state"] == "ON" }},
		{"mireds clamped to the bulb's range", "kitchen/ceiling", "zigbee2mqtt/kitchen/ceiling/set", `{"color_temp":100}`,
			func(m map[string]any) bool { return m["color_temp"] == 250.0 && m["color_mode"] == "color_temp" }},
		{"setpoint rounded to step", "Bedroom Radiator", "zigbee2mqtt/Bedroom Radiator/set/occupied_heating_setpoint", `21.3`,
			func(m map[string]any) bool { return m["occupied_heating_setpoint"] == 21.5 }},
		{"hs colour", "Living Room/Colour Bulb", "zigbee2mqtt/Living Room/Colour Bulb/set", `{"color":{"hue":30,"saturation":80}}`,
			func(m map[string]any) bool {
				c, _ := m["color"].(map[string]any)
				return m["color_mode"] == "hs" && c["hue"] == 30.0 && c["h"] == 30.0 && c["x"] != nil
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			topic := "zigbee2mqtt/" + tc.device
			n := w.count(topic)
			pub(tc.topic, tc.payload)
			if m := decode(t, w.next(t, topic, n+1)); !tc.check(m) {
				t.Errorf("state after %s: %v", tc.payload, m)
			}
		})
	}
	// A mode the Danfoss does not have is refused (no echo); the next valid set still works.
	n := w.count("zigbee2mqtt/Bedroom Radiator")
	pub("zigbee2mqtt/Bedroom Radiator/set", `{"system_mode":"cool"}`)
	pub("zigbee2mqtt/Bedroom Radiator/get", `{"system_mode":""}`)
	if m := decode(t, w.next(t, "zigbee2mqtt/Bedroom Radiator", n+1)); m["system_mode"] != "heat" {
		t.Errorf("system_mode = %v after an invalid set", m["system_mode"])
	}
	if sim.SetCount() < 5 {
		t.Errorf("SetCount = %d", sim.SetCount())
	}
}

func TestAdminAPI(t *testing.T) {
	_, sim, w := start(t)
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/sim/devices")
	if err != nil {
		t.Fatal(err)
	}
	var devs []z2msim.Device
	if err := json.NewDecoder(resp.Body).Decode(&devs); err != nil || len(devs) != 7 {
		t.Fatalf("GET /sim/devices: %d devices, %v", len(devs), err)
	}
	resp.Body.Close()

	post := func(path, body string) int {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	n := w.count("zigbee2mqtt/Office Sensor")
	if code := post("/sim/devices/Office%20Sensor/set", `{"temperature":25.5}`); code != 200 {
		t.Fatalf("set: %d", code)
	}
	if m := decode(t, w.next(t, "zigbee2mqtt/Office Sensor", n+1)); m["temperature"] != 25.5 {
		t.Errorf("temperature = %v", m["temperature"])
	}
	if code := post("/sim/devices/"+url.PathEscape("Living Room")+"/Colour%20Bulb/offline", ""); code != 200 {
		t.Fatalf("offline: %d", code)
	}
	if got := w.next(t, "zigbee2mqtt/Living Room/Colour Bulb/availability", 2); got != `{"state":"offline"}` {
		t.Errorf("availability = %s", got)
	}
	if code := post("/sim/devices/nope/online", ""); code != 404 {
		t.Errorf("unknown device: %d, want 404", code)
	}
	if code := post("/sim/devices/Hallway%20Bulb/set", `[1]`); code != 400 {
		t.Errorf("bad body: %d, want 400", code)
	}
}

// A lock publishes nothing until its bolt has moved, then its state, the
// same with the operation event, and the action.
func TestLockStateAfterBolt(t *testing.T) {
	_, _, w := startWith(t, z2msim.Options{LockDelay: 300 * time.Millisecond})
	n := w.count("zigbee2mqtt/Front Door")
	t0 := time.Now()
	if tok := w.c.Publish("zigbee2mqtt/Front Door/set", 1, false, `{"state":"UNLOCK"}`); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	first := decode(t, w.next(t, "zigbee2mqtt/Front Door", n+1))
	if time.Since(t0) < 300*time.Millisecond {
		t.Errorf("the lock published before its bolt moved: %v", first)
	}
	if first["state"] != "UNLOCK" || first["lock_state"] != "unlocked" || first["action"] != nil {
		t.Errorf("first publish = %v, want UNLOCK/unlocked without an action", first)
	}
	if v, ok := first["pin_code"]; !ok || v != nil {
		t.Errorf("first publish = %v, want pin_code null (unknown)", first)
	}
	if m := decode(t, w.next(t, "zigbee2mqtt/Front Door", n+2)); m["action"] != "unlock" || m["action_source_name"] != "rf" || m["state"] != "UNLOCK" {
		t.Errorf("second publish = %v, want the unlock operation event", m)
	}
	if a := w.next(t, "zigbee2mqtt/Front Door/action", 1); a != "unlock" {
		t.Errorf("action topic = %q", a)
	}
}

// An asleep device answers nothing, and zigbee2mqtt logs the command as
// failed after SendTimeout; a refused key is logged at once; the Danfoss
// setpoint (sent without awaiting an answer) is never logged.
func TestAsleepAndRefused(t *testing.T) {
	_, sim, w := startWith(t, z2msim.Options{SendTimeout: 100 * time.Millisecond})
	pub := func(topic, payload string) {
		t.Helper()
		if tok := w.c.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	for _, name := range []string{"Hallway Bulb", "Bedroom Radiator"} {
		if err := sim.SetAsleep(name, true); err != nil {
			t.Fatal(err)
		}
	}
	bulb, radiator := w.count("zigbee2mqtt/Hallway Bulb"), w.count("zigbee2mqtt/Bedroom Radiator")
	pub("zigbee2mqtt/Bedroom Radiator/set", `{"occupied_heating_setpoint":23}`)
	pub("zigbee2mqtt/Hallway Bulb/set", `{"brightness":23}`)
	m := decode(t, w.next(t, "zigbee2mqtt/bridge/logging", 1))
	if msg, _ := m["message"].(string); m["level"] != "error" || !strings.HasPrefix(msg, "z2m: Publish 'set' 'brightness' to 'Hallway Bulb' failed: 'Error: ") {
		t.Errorf("logging = %v", m)
	}
	time.Sleep(200 * time.Millisecond)
	if n := w.count("zigbee2mqtt/bridge/logging"); n != 1 {
		t.Errorf("%d lines on bridge/logging, want the bulb's only", n)
	}
	if w.count("zigbee2mqtt/Hallway Bulb") != bulb || w.count("zigbee2mqtt/Bedroom Radiator") != radiator {
		t.Errorf("an asleep device published its state")
	}
	for _, name := range []string{"Hallway Bulb", "Bedroom Radiator"} {
		if err := sim.SetAsleep(name, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := sim.SetRefused("Hallway Bulb", "brightness"); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetRefused("Bedroom Radiator", "occupied_heating_setpoint"); err != nil {
		t.Fatal(err)
	}
	pub("zigbee2mqtt/Bedroom Radiator/set", `{"occupied_heating_setpoint":24}`)
	pub("zigbee2mqtt/Hallway Bulb/set", `{"brightness":24,"state":"ON"}`)
	m = decode(t, w.next(t, "zigbee2mqtt/bridge/logging", 2))
	if msg, _ := m["message"].(string); !strings.Contains(msg, "'brightness' to 'Hallway Bulb'") || !strings.Contains(msg, "INVALID_VALUE") {
		t.Errorf("logging = %v", m)
	}
	if st := decode(t, w.next(t, "zigbee2mqtt/Hallway Bulb", bulb+1)); st["brightness"] == 24.0 || st["state"] != "ON" {
		t.Errorf("a refused brightness was applied, or the rest not: %v", st)
	}
	time.Sleep(200 * time.Millisecond)
	if n := w.count("zigbee2mqtt/bridge/logging"); n != 2 {
		t.Errorf("%d lines on bridge/logging, want none for the radiator", n)
	}
	if w.count("zigbee2mqtt/Bedroom Radiator") != radiator {
		t.Errorf("the radiator published a refused setpoint")
	}
}

// TestKindsAsRecorded: with Options.Kinds, bridge/devices carries each
// recorded product's entry exactly as the real zigbee2mqtt published it,
// under z2m-sim's friendly name, and its first state as recorded.
func TestKindsAsRecorded(t *testing.T) {
	rec, err := z2msim.LoadKindsRecording(z2msim.KindsRecordingFile)
	if err != nil {
		t.Fatal(err)
	}
	_, _, w := startWith(t, z2msim.Options{Kinds: true})
	var devs []map[string]any
	if err := json.Unmarshal([]byte(w.next(t, "zigbee2mqtt/bridge/devices", 1)), &devs); err != nil {
		t.Fatal(err)
	}
	if len(devs) != 8+len(rec.Devices) {
		t.Errorf("bridge/devices has %d devices, want the coordinator, 7 and the %d recorded", len(devs), len(rec.Devices))
	}
	for _, rd := range rec.Devices {
		var want map[string]any
		if err := json.Unmarshal(rd.Entry, &want); err != nil {
			t.Fatal(err)
		}
		name := z2msim.KindNames[rd.Kind]
		want["friendly_name"] = name
		var got map[string]any
		for _, d := range devs {
			if d["ieee_address"] == want["ieee_address"] {
				got = d
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: bridge/devices entry\n%v\nwant (recorded)\n%v", rd.Kind, got, want)
		}
		var first, recorded map[string]any
		_ = json.Unmarshal(rd.State, &recorded)
		if err := json.Unmarshal([]byte(w.next(t, "zigbee2mqtt/"+name, 1)), &first); err != nil {
			t.Fatal(err)
		}
		for k, v := range recorded {
			if k != "linkquality" && !reflect.DeepEqual(first[k], v) {
				t.Errorf("%s: first state %s = %v, recorded %v", rd.Kind, k, first[k], v)
			}
		}
	}
}
