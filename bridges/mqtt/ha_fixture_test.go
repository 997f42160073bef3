package mqtt

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// haFixtureModels are real products of every kind, with the primary
// function (coverageTraits' key) each must reach Alexa with; a remote
// reaches with nothing by default.
var haFixtureModels = []struct{ kind, model string }{
	{"light", "LED1836G9"},       // IKEA TRADFRI bulb, warm white
	{"light", "9290022166"},      // Philips Hue white and color ambiance
	{"power", "TS011F_plug_1"},   // Tuya smart plug with power monitoring
	{"thermostat", "SRTS-A01"},   // Aqara radiator thermostat E1
	{"lock", "YRD256HA20BP"},     // Yale Assure lock SL
	{"cover", "E1757"},           // IKEA FYRTUR roller blind
	{"occupancy", "9290012607"},  // Philips Hue motion sensor
	{"contact", "MCCGQ11LM"},     // Aqara door and window sensor
	{"contact", "HS2VTD"},        // Heiman 4 in 1 door sensor (an IAS contact_alarm_1)
	{"water_leak", "SJCGQ11LM"},  // Aqara water leak sensor
	{"smoke", "JTYJ-GD-01LM/BW"}, // Xiaomi Mijia Honeywell smoke detector
	{"siren", "SIRZB-110"},       // Develco customizable siren (a warning and an alarm)
	{"fan", "99432"},             // Hampton Bay ceiling fan with its light
	{"remote", "E1524/E1810"},    // IKEA TRADFRI remote control
}

const (
	haFixtureDevices = "testdata/z2mha/devices.json"
	haFixtureConfigs = "testdata/z2mha/ha.json"
)

// testdata/z2mha holds zigbee2mqtt's own output for haFixtureModels:
// bridge/devices (devices.json) and its Home Assistant discovery of the
// same devices (ha.json, [topic, payload] pairs), both from gen.js with the
// real zigbee2mqtt. Regenerated here, they must be what is committed; -update
// rewrites them (go test -run TestHAFixtureFromZigbee2MQTT -update).
func TestHAFixtureFromZigbee2MQTT(t *testing.T) {
	var models []string
	for _, m := range haFixtureModels {
		models = append(models, m.model)
	}
	ha := filepath.Join(t.TempDir(), "ha.json")
	devices := generate(t, []string{strings.Join(models, ","), "--ha", ha})
	configs, err := os.ReadFile(ha)
	if err != nil {
		t.Fatal(err)
	}
	for path, got := range map[string][]byte{haFixtureDevices: devices, haFixtureConfigs: configs} {
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		committed, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
		}
		if string(got) != string(committed) {
			t.Errorf("%s is not what zigbee2mqtt's code generates for %s (go test -run %s -update rewrites it)", path, strings.Join(models, ", "), t.Name())
		}
	}
}

// loadHAFixture feeds the committed fixture to both sources: zigbee2mqtt's
// bridge/devices to a zigbee2mqtt source, its Home Assistant discovery to a
// Home Assistant source; it also returns the devices as parsed.
func loadHAFixture(t *testing.T) ([]z2mDeviceJSON, *z2mSource, *haSource) {
	t.Helper()
	devices, err := os.ReadFile(haFixtureDevices)
	if err != nil {
		t.Fatal(err)
	}
	configs, err := os.ReadFile(haFixtureConfigs)
	if err != nil {
		t.Fatal(err)
	}
	var raw []z2mDeviceJSON
	if err := json.Unmarshal(devices, &raw); err != nil {
		t.Fatal(err)
	}
	var msgs [][2]string
	if err := json.Unmarshal(configs, &msgs); err != nil {
		t.Fatal(err)
	}
	z := newZ2MSource("zigbee2mqtt", newOnceLog(quietLog()))
	z.handle("zigbee2mqtt/bridge/devices", devices)
	h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
	for _, m := range msgs {
		h.handle(m[0], []byte(m[1]))
	}
	return raw, z, h
}

// The same real devices through either source give the same endpoints:
// zigbee2mqtt's bridge/devices fed to the zigbee2mqtt source (exposes) and
// zigbee2mqtt's Home Assistant discovery fed to the Home Assistant source
// give each device the same endpoints, with the same names and traits, and
// the primary function of each reaches Alexa (a remote: no endpoint).
func TestHAAndExposesAgree(t *testing.T) {
	raw, z, h := loadHAFixture(t)
	viaExposes := map[string][]*unit{}
	for _, u := range z.units() {
		ieee, _, _ := strings.Cut(strings.TrimPrefix(u.dev.Endpoint.DeviceID, "z2m:"), ":")
		viaExposes[ieee] = append(viaExposes[ieee], u)
	}
	viaHA := map[string][]*unit{}
	for _, u := range h.units() {
		ieee, _, _ := strings.Cut(strings.TrimPrefix(u.dev.Endpoint.DeviceID, "ha:"), "_")
		viaHA[ieee] = append(viaHA[ieee], u)
	}
	byModel := map[string]*z2mDeviceJSON{}
	for i := range raw {
		byModel[raw[i].Definition.Model] = &raw[i]
	}
	for _, m := range haFixtureModels {
		d := byModel[m.model]
		if d == nil {
			t.Errorf("%s: not in %s", m.model, haFixtureDevices)
			continue
		}
		exposes, ha := describeUnits(viaExposes[d.IEEE]), describeUnits(viaHA[d.IEEE])
		if !slices.Equal(exposes, ha) {
			t.Errorf("%s (%s): the two sources differ\n exposes:        %s\n Home Assistant: %s", m.model, m.kind,
				strings.Join(exposes, "\n                 "), strings.Join(ha, "\n                 "))
		}
		us := viaExposes[d.IEEE]
		if m.kind == "remote" {
			if len(us) != 0 {
				t.Errorf("%s (a remote): %d endpoints by default", m.model, len(us))
			}
			continue
		}
		reached := false
		for _, u := range us {
			reached = reached || coverageTraits[m.kind](u.dev.Endpoint.Traits, u.dev.Endpoint.Category)
		}
		if !reached || len(us) == 0 {
			t.Errorf("%s: its %s does not reach Alexa: %s", m.model, m.kind, strings.Join(exposes, "; "))
		}
	}
}

// The fan of the fixture (zigbee2mqtt's fan_mode) and its siren are driven
// alike through either source: the same messages for the same command, the
// same state from the same zigbee2mqtt state message.
func TestHAAndExposesDriveAlike(t *testing.T) {
	raw, z, h := loadHAFixture(t)
	find := func(us []*unit, name string) *unit {
		for _, u := range us {
			if u.dev.Endpoint.FriendlyName == name {
				return u
			}
		}
		t.Fatalf("no endpoint %q", name)
		return nil
	}
	topic, ieee := map[string]string{}, map[string]string{} // by model: zigbee2mqtt's name, the address
	for _, d := range raw {
		topic[d.Definition.Model], ieee[d.Definition.Model] = d.FriendlyName, d.IEEE
	}
	cases := []struct {
		model string
		cmd   model.Command
	}{
		{"99432", model.SetFanSpeed(33)}, {"99432", model.SetFanSpeed(100)}, {"99432", model.SetFanSpeed(0)},
		{"99432", model.SetPower(true)}, {"SIRZB-110", model.SetSiren(true)}, {"SIRZB-110", model.SetSiren(false)},
	}
	zs, hs := z.units(), h.units()
	// name is the device's own endpoint's name, as the zigbee2mqtt source gives it.
	name := func(model string) string {
		for _, u := range zs {
			if u.dev.Endpoint.DeviceID == "z2m:"+ieee[model] {
				return u.dev.Endpoint.FriendlyName
			}
		}
		t.Fatalf("%s: no endpoint", model)
		return ""
	}
	for _, c := range cases {
		n := name(c.model)
		zm, zerr := find(zs, n).command(c.cmd, model.State{})
		hm, herr := find(hs, n).command(c.cmd, model.State{})
		if zerr != nil || herr != nil {
			t.Errorf("%s %+v: %v / %v", c.model, c.cmd, zerr, herr)
			continue
		}
		if got, want := outMsgs(hm), outMsgs(zm); !slices.Equal(got, want) {
			t.Errorf("%s %+v: Home Assistant source sends %v, zigbee2mqtt source %v", c.model, c.cmd, got, want)
		}
	}
	for _, st := range []string{`{"fan_mode":"medium","fan_state":"ON","state":"OFF"}`, `{"fan_mode":"high","fan_state":"OFF","state":"ON"}`} {
		z.handle("zigbee2mqtt/"+topic["99432"], []byte(st))
		h.handle("zigbee2mqtt/"+topic["99432"], []byte(st))
		fan := name("99432")
		zs, hs := z.units(), h.units()
		for _, n := range []string{fan, fan + " light"} {
			if zv, hv := find(zs, n).dev.State, find(hs, n).dev.State; !reflect.DeepEqual(zv, hv) {
				t.Errorf("%s after %s: Home Assistant source %+v, zigbee2mqtt source %+v", n, st, hv, zv)
			}
		}
	}
}

// outMsgs lists messages as zigbee2mqtt reads them: <device>/set/<property>
// with a value is <device>/set with {"<property>": value} (zigbee2mqtt's
// set topics), and a JSON payload is re-encoded (key order does not matter).
func outMsgs(ms []outMsg) []string {
	var out []string
	for _, m := range ms {
		var v any
		if json.Unmarshal(m.payload, &v) != nil {
			v = string(m.payload)
		}
		topic := m.topic
		if i := strings.LastIndex(topic, "/set/"); i >= 0 {
			topic, v = topic[:i+len("/set")], map[string]any{topic[i+len("/set/"):]: v}
		}
		b, _ := json.Marshal(v)
		out = append(out, topic+" "+string(b))
	}
	return out
}

// describeUnits lists endpoints as their names and traits, sorted.
func describeUnits(us []*unit) []string {
	var out []string
	for _, u := range us {
		tr, _ := json.Marshal(u.dev.Endpoint.Traits)
		out = append(out, fmt.Sprintf("%q %s", u.dev.Endpoint.FriendlyName, tr))
	}
	slices.Sort(out)
	return out
}
