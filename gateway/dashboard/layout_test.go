package dashboard

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var testLayout = layout{prefix: "avshub", disc: "homeassistant", qos: 1, swVersion: "1.0.0", supportURL: DefaultSupportURL}

// haRequired lists, per Home Assistant MQTT platform, the keys its current
// documentation marks required (for device-based discovery every component also
// needs "p" and "unique_id"), plus the keys our command/state design relies on.
var haRequired = map[string][]string{
	"light":         {"p", "unique_id", "command_topic", "schema", "state_topic", "supported_color_modes"},
	"lock":          {"p", "unique_id", "command_topic", "state_topic", "value_template"},
	"climate":       {"p", "unique_id", "modes", "mode_command_topic", "mode_state_topic", "min_temp", "max_temp", "temp_step", "temperature_unit"},
	"sensor":        {"p", "unique_id", "state_topic"},
	"switch":        {"p", "unique_id", "command_topic", "state_topic"},
	"binary_sensor": {"p", "unique_id", "state_topic", "payload_on", "payload_off"},
	"number":        {"p", "unique_id", "command_topic", "state_topic", "min", "max", "step"},
	"select":        {"p", "unique_id", "command_topic", "state_topic", "options"},
}

// haAllowed are the values Home Assistant accepts for enumerated keys.
var (
	haColorModes   = map[string]bool{"onoff": true, "brightness": true, "color_temp": true, "hs": true, "xy": true, "rgb": true, "rgbw": true, "rgbww": true, "white": true}
	haClimateModes = map[string]bool{"auto": true, "off": true, "cool": true, "heat": true, "dry": true, "fan_only": true, "heat_cool": true}
)

func goldenCompare(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got: %s\nwant: %s", name, got, want)
	}
}

func indent(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestDiscoveryPayloads(t *testing.T) {
	uids := map[string]string{}
	names := sortedKeys(fixtures())
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			e := fixtureEntry(name)
			n := &node{id: NodeID(e.Endpoint), entry: e}
			cfg := testLayout.config(n.id, e.Endpoint, testLayout.components(n.id, e.Endpoint))
			raw := indent(t, cfg)
			goldenCompare(t, name+".config.json", raw)
			goldenCompare(t, name+".state.json", indent(t, testLayout.state(n)))
			checkHASchema(t, raw, n.id, uids)
		})
	}
}

// checkHASchema checks a device discovery payload against Home Assistant's
// documented rules, decoding it as Home Assistant would (from JSON).
func checkHASchema(t *testing.T, raw []byte, node string, uids map[string]string) {
	t.Helper()
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	dev, _ := cfg["dev"].(map[string]any)
	if ids, _ := dev["identifiers"].([]any); len(ids) == 0 || dev["name"] == "" {
		t.Errorf("device block needs identifiers and a name: %v", dev)
	}
	o, _ := cfg["o"].(map[string]any)
	if o["name"] != OriginName || o["sw_version"] == nil || o["support_url"] == nil {
		t.Errorf("origin block = %v", o)
	}
	avty, _ := cfg["availability"].([]any)
	if len(avty) != 2 || cfg["availability_mode"] != "all" {
		t.Errorf("availability = %v mode %v", avty, cfg["availability_mode"])
	}
	for _, a := range avty {
		if topic, _ := a.(map[string]any)["topic"].(string); topic == "" || strings.ContainsAny(topic, "+#") {
			t.Errorf("bad availability topic %v", a)
		}
	}
	cmps, _ := cfg["cmps"].(map[string]any)
	if len(cmps) == 0 {
		t.Fatal("no components")
	}
	for id, c := range cmps {
		c := c.(map[string]any)
		platform, _ := c["p"].(string)
		req, ok := haRequired[platform]
		if !ok {
			t.Errorf("component %s: unknown platform %q", id, platform)
			continue
		}
		for _, k := range req {
			if _, ok := c[k]; !ok {
				t.Errorf("component %s (%s) lacks required key %q", id, platform, k)
			}
		}
		for k, v := range c {
			if strings.HasSuffix(k, "_topic") {
				s, _ := v.(string)
				if s == "" || strings.ContainsAny(s, "+#") || !strings.HasPrefix(s, "avshub/"+node+"/") {
					t.Errorf("component %s: %s = %v is not one of the node's topics", id, k, v)
				}
			}
		}
		uid := c["unique_id"].(string)
		if prev, dup := uids[uid]; dup && prev != node {
			t.Errorf("unique_id %s used by %s and %s", uid, prev, node)
		}
		uids[uid] = node
		switch platform {
		case "light":
			if c["schema"] != "json" {
				t.Errorf("light schema %v", c["schema"])
			}
			modes := c["supported_color_modes"].([]any)
			for _, m := range modes {
				if !haColorModes[m.(string)] {
					t.Errorf("unknown colour mode %v", m)
				}
			}
			if len(modes) > 1 {
				for _, m := range modes {
					if m == "onoff" || m == "brightness" {
						t.Errorf("%v must be the only colour mode", m)
					}
				}
			}
			if _, ct := c["min_kelvin"]; ct != (c["color_temp_kelvin"] == true) {
				t.Error("min_kelvin without color_temp_kelvin")
			}
		case "climate":
			for _, m := range c["modes"].([]any) {
				if !haClimateModes[m.(string)] {
					t.Errorf("unknown climate mode %v", m)
				}
			}
			if p := c["precision"]; p != 0.1 && p != 0.5 && p != 1.0 {
				t.Errorf("precision %v", p)
			}
			if c["temperature_unit"] != "C" {
				t.Errorf("temperature_unit %v", c["temperature_unit"])
			}
		case "lock":
			if c["state_jammed"] != "JAMMED" || c["state_locked"] != "LOCKED" || c["state_unlocked"] != "UNLOCKED" {
				t.Errorf("lock states %v", c)
			}
		case "sensor":
			if id == "temperature" && (c["device_class"] != "temperature" || c["unit_of_measurement"] != "°C") {
				t.Errorf("temperature sensor %v", c)
			}
			if c["device_class"] == "enum" && len(c["options"].([]any)) == 0 {
				t.Errorf("enum sensor without options %v", c)
			}
		case "select":
			if len(c["options"].([]any)) == 0 {
				t.Errorf("select without options %v", c)
			}
		case "number":
			if c["min"].(float64) > c["max"].(float64) || c["step"].(float64) <= 0 {
				t.Errorf("number range %v", c)
			}
		}
	}
}

// TestTemplatesMatchState checks that every value template of every fixture
// names a key its state document has, and every command template yields a
// payload DecodeCommand accepts.
func TestTemplatesMatchState(t *testing.T) {
	for _, name := range sortedKeys(fixtures()) {
		e := fixtureEntry(name)
		n := &node{id: NodeID(e.Endpoint), entry: e}
		state := indent(t, testLayout.state(n))
		var st map[string]any
		_ = json.Unmarshal(state, &st)
		for id, c := range testLayout.components(n.id, e.Endpoint) {
			for k, v := range c {
				s, _ := v.(string)
				switch {
				case strings.HasSuffix(k, "_template") && strings.Contains(s, "value_json."):
					key := strings.TrimSuffix(strings.TrimPrefix(s, "{{ value_json."), " }}")
					if i := strings.IndexByte(key, '['); i > 0 {
						key = key[:i]
					}
					if _, ok := st[key]; !ok && !(name == "trv" && key == "temperature_low") {
						t.Errorf("%s/%s: %s reads %q, which the state lacks: %s", name, id, k, key, state)
					}
				case strings.HasSuffix(k, "command_template"):
					val := map[string]string{"mode_command_template": "heat", "preset_mode_command_template": "eco"}[k]
					switch {
					case val != "":
					case c["p"] == "lock":
						val = "LOCK"
					case c["p"] == "select":
						val = c["options"].([]string)[0]
					default:
						val = "21.5"
					}
					payload := strings.ReplaceAll(s, "{{ value }}", val)
					if _, err := DecodeCommand([]byte(payload), e.Endpoint, e.State); err != nil {
						t.Errorf("%s/%s: %s gives %s, refused: %v", name, id, k, payload, err)
					}
				case k == "payload_on" || k == "payload_off":
					if _, err := DecodeCommand([]byte(s), e.Endpoint, e.State); err != nil {
						t.Errorf("%s/%s: %s %s refused: %v", name, id, k, s, err)
					}
				}
			}
		}
	}
}

func TestNodeID(t *testing.T) {
	for _, tc := range []struct {
		bridge, device, want string
	}{
		{"virtual", "light-1", "virtual_light-1"},
		{"zigbee", "0x00158d0001a2b3c4", "zigbee_0x00158d0001a2b3c4"},
		{"virtual", "kitchen_lamp", "virtual_kitchen_lamp"},
	} {
		ep := model.Endpoint{Bridge: tc.bridge, DeviceID: tc.device, ID: model.EndpointID(testSerial, tc.bridge, tc.device)}
		if got := NodeID(ep); got != tc.want {
			t.Errorf("NodeID(%s, %s) = %s, want %s", tc.bridge, tc.device, got, tc.want)
		}
	}
	// Unsafe ids are slugged and hashed: distinct, topic-safe, stable.
	seen := map[string]string{}
	for _, d := range []string{"kitchen temp", "kitchen/temp", "kitchen+temp", "kitchen#temp", "kitchen_temp", "küche", "a_b", "my_bridge"} {
		for _, b := range []string{"virtual", "my_bridge", "my"} {
			ep := model.Endpoint{Bridge: b, DeviceID: d, ID: model.EndpointID(testSerial, b, d)}
			id := NodeID(ep)
			if id != NodeID(ep) || strings.ContainsAny(id, "/+#$ ") || id == "" {
				t.Errorf("NodeID(%q, %q) = %q", b, d, id)
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("NodeID collision %q for %s and %s/%s", id, prev, b, d)
			}
			seen[id] = b + "/" + d
		}
	}
	keys := sortedKeys(seen)
	if !sort.StringsAreSorted(keys) {
		t.Fatal("sortedKeys not sorted")
	}
}
