package mqtt

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery/model"
)

// commands every unit is offered in the fuzz targets: none may panic.
var fuzzCommands = []model.Command{
	model.SetPower(true), model.SetBrightness(37), model.SetColorTemperature(2700),
	model.SetColor(model.HSB{Hue: 200, Saturation: 0.6, Brightness: 1}), model.SetLock(model.Unlocked),
	model.SetThermostat(model.ThermostatState{Mode: model.ModeHeat, Target: model.Ptr(21.5)}),
	model.SetThermostat(model.ThermostatState{Lower: model.Ptr(18.0), Upper: model.Ptr(24.0)}),
}

func exerciseUnits(us []*unit) {
	for _, u := range us {
		for _, c := range fuzzCommands {
			if c.Validate(u.dev.Endpoint.Traits, u.dev.State) == nil {
				_, _ = u.command(c, u.dev.State)
			}
		}
	}
}

// FuzzExposes feeds bridge/devices payloads and then device state messages to
// the zigbee2mqtt parser.
func FuzzExposes(f *testing.F) {
	// One device per seed: small inputs keep the fuzzer's minimisation fast.
	var all []json.RawMessage
	_ = json.Unmarshal(z2msim.BridgeDevices(), &all)
	if b, err := os.ReadFile("testdata/z2m/extra_devices.json"); err == nil {
		var extra []json.RawMessage
		_ = json.Unmarshal(b, &extra)
		all = append(all, extra...)
	}
	for _, d := range all {
		f.Add(append(append([]byte("["), d...), ']'), []byte(`{"state":"ON","brightness":300,"color":{"x":0.3,"y":0.3},"color_mode":"xy","current_heating_setpoint":"x","system_mode":"auto","local_temperature":null,"lock_state":"locked"}`))
	}
	f.Add([]byte(`[{"ieee_address":"0x1","friendly_name":"a/b","definition":{"exposes":[{"type":"light","features":[{"type":"binary","name":"state","property":"state","access":7,"value_on":1,"value_off":0}]}]}}]`), []byte(`{"state":1}`))
	f.Add([]byte(`null`), []byte(`[]`))
	f.Fuzz(func(t *testing.T, devices, state []byte) {
		z := newZ2MSource("z", newOnceLog(quietLog()))
		z.handle("z/bridge/devices", devices)
		for _, d := range z.devices {
			z.handle("z/"+d.name, state)
			z.handle("z/"+d.name+"/availability", state)
		}
		z.handle("z/bridge/state", state)
		exerciseUnits(z.units())
		_, _ = z.getRequests(getBatch)
	})
}

// FuzzDiscovery feeds Home Assistant discovery configs (any component, any
// payload) and then messages on every topic the entities listen to.
func FuzzDiscovery(f *testing.F) {
	files, _ := filepath.Glob("testdata/ha/*.json")
	for _, file := range files {
		if strings.HasSuffix(file, ".golden.json") {
			continue
		}
		for _, m := range loadFixture(f, file) {
			if rest, ok := strings.CutPrefix(m.Topic, "homeassistant/"); ok {
				f.Add(rest, m.payload(), []byte(`{"state":"ON","brightness":12,"temperature":"20.5"}`))
			}
		}
	}
	f.Add("device/x/config", []byte(`{"cmps":{"a":{"p":"light","cmd_t":"~/s","~":"b"}},"~":"c"}`), []byte(`ON`))
	f.Fuzz(func(t *testing.T, topic string, config, msg []byte) {
		h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
		h.handle("homeassistant/"+topic, config)
		for _, t := range h.topics() {
			h.handle(t, msg)
		}
		exerciseUnits(h.units())
	})
}

// FuzzTemplate parses and renders value templates.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"{{ value_json.state }}", "{{value_json['DS18B20'].Temperature}}", "{{ value | float | round(1) }}",
		`{"target": {{ value }}}`, "{{ value_json.a[0].b | default('x') | upper }}", "{% if x %}", "{{ value_json.x | int(0) }}",
		`{% if "state" in value_json and value_json["state"] == "ON" %}on{% elif value_json.a[0].b > 1 %}{% if not value_json.x is defined %}b{% endif %}{% else %}x{% endif %}`,
		`{"mode": "{{ tone | default('emergency') }}", "level": "{% if volume_level is defined %}{% if volume_level | float <= 0.25 %}low{% endif %}{% else %}medium{% endif %}"}`,
		`{% set values = {'schedule':'auto','manual':'heat'} %}{% set value = value_json.state %}{{ values[value] if value in values.keys() else 'off' }}`,
		`{% if value_json.state in ['ON', 'OFF', 1, none] %}{{ value_json.state }}{% endif %}`} {
		f.Add(s, []byte(`{"state":"ON","a":[{"b":2}],"DS18B20":{"Temperature":21.5}}`))
	}
	f.Fuzz(func(t *testing.T, src string, payload []byte) {
		tpl, err := parseTemplate(src)
		if err != nil {
			return
		}
		_, _ = tpl.render(payload)
		_, _ = tpl.renderValue(string(payload))
	})
}
