package mqtt

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// haKindDevice is a device's discovery entities (config topic → payload),
// shaped as zigbee2mqtt 2.14.1 and ESPHome publish them.
type haKindDevice map[string]string

// zigbee2mqtt's device block and availability, shared by the payloads below.
const z2mHADevice = `"device":{"identifiers":["zigbee2mqtt_0x00158d0001a2b3c4"],"name":"Hall sensor","manufacturer":"Aqara","model":"Motion sensor (RTCGQ11LM)"},` +
	`"availability":[{"topic":"zigbee2mqtt/bridge/state","value_template":"{{ value_json.state }}"}],"origin":{"name":"Zigbee2MQTT"}`

func haWith(body string) string { return "{" + body + "," + z2mHADevice + "}" }

// Discovery entities of every kind → one endpoint per device with all its
// readings, its category and traits; then state messages → the state.
func TestHAKindsImport(t *testing.T) {
	for _, tc := range []struct {
		name    string
		configs haKindDevice
		cat     model.Category
		traits  []model.TraitKind
		msgs    [][2]string // topic, payload
		want    model.State
	}{
		{
			name: "motion sensor with illuminance, temperature and battery (zigbee2mqtt)",
			configs: haKindDevice{
				"homeassistant/binary_sensor/0x00158d0001a2b3c4/occupancy/config": haWith(`"name":"Occupancy","device_class":"occupancy","state_topic":"zigbee2mqtt/Hall sensor","value_template":"{{ value_json.occupancy }}","payload_on":true,"payload_off":false,"unique_id":"0x00158d0001a2b3c4_occupancy_zigbee2mqtt"`),
				"homeassistant/sensor/0x00158d0001a2b3c4/illuminance/config":      haWith(`"name":"Illuminance","device_class":"illuminance","state_class":"measurement","unit_of_measurement":"lx","state_topic":"zigbee2mqtt/Hall sensor","value_template":"{{ value_json.illuminance }}","unique_id":"0x00158d0001a2b3c4_illuminance_zigbee2mqtt"`),
				"homeassistant/sensor/0x00158d0001a2b3c4/temperature/config":      haWith(`"name":"Temperature","device_class":"temperature","state_class":"measurement","unit_of_measurement":"°C","state_topic":"zigbee2mqtt/Hall sensor","value_template":"{{ value_json.temperature }}","unique_id":"0x00158d0001a2b3c4_temperature_zigbee2mqtt"`),
				"homeassistant/sensor/0x00158d0001a2b3c4/battery/config":          haWith(`"name":"Battery","device_class":"battery","state_class":"measurement","unit_of_measurement":"%","entity_category":"diagnostic","state_topic":"zigbee2mqtt/Hall sensor","value_template":"{{ value_json.battery }}","unique_id":"0x00158d0001a2b3c4_battery_zigbee2mqtt"`),
				"homeassistant/sensor/0x00158d0001a2b3c4/voltage/config":          haWith(`"name":"Voltage","device_class":"voltage","unit_of_measurement":"mV","entity_category":"diagnostic","state_topic":"zigbee2mqtt/Hall sensor","value_template":"{{ value_json.voltage }}","unique_id":"0x00158d0001a2b3c4_voltage_zigbee2mqtt"`),
			},
			cat:    model.CategoryMotionSensor,
			traits: []model.TraitKind{model.TraitTemperatureSensor, model.TraitMotion, model.TraitBattery, model.TraitIlluminance},
			msgs:   [][2]string{{"zigbee2mqtt/Hall sensor", `{"battery":97,"illuminance":120,"occupancy":true,"temperature":21.5,"voltage":3005}`}},
			want:   model.State{Temperature: model.Ptr(21.5), Motion: model.Ptr(true), Battery: model.Ptr(97), Illuminance: model.Ptr(120.0)},
		},
		{
			name: "door contact: zigbee2mqtt's payload_on false is open",
			configs: haKindDevice{
				"homeassistant/binary_sensor/0x00158d0001a2b3c4/contact/config":     haWith(`"name":null,"device_class":"door","state_topic":"zigbee2mqtt/Hall sensor","value_template":"{{ value_json.contact }}","payload_on":false,"payload_off":true,"unique_id":"c1"`),
				"homeassistant/binary_sensor/0x00158d0001a2b3c4/battery_low/config": haWith(`"name":"Battery low","device_class":"battery","entity_category":"diagnostic","state_topic":"zigbee2mqtt/Hall sensor","value_template":"{{ value_json.battery_low }}","payload_on":true,"payload_off":false,"unique_id":"c2"`),
				"homeassistant/binary_sensor/0x00158d0001a2b3c4/tamper/config":      haWith(`"name":"Tamper","device_class":"tamper","state_topic":"zigbee2mqtt/Hall sensor","value_template":"{{ value_json.tamper }}","payload_on":true,"payload_off":false,"unique_id":"c3"`),
			},
			cat:    model.CategoryContactSensor,
			traits: []model.TraitKind{model.TraitContact, model.TraitBattery, model.TraitTamper},
			msgs:   [][2]string{{"zigbee2mqtt/Hall sensor", `{"contact":true,"battery_low":false,"tamper":false}`}},
			want:   model.State{ContactOpen: model.Ptr(false), BatteryLow: model.Ptr(false), Tamper: model.Ptr(false)},
		},
		{
			name: "leak, smoke and gas",
			configs: haKindDevice{
				"homeassistant/binary_sensor/node/leak/config":  `{"name":"Leak","device_class":"moisture","state_topic":"n/leak","unique_id":"l1","device":{"identifiers":["node"],"name":"Utility"}}`,
				"homeassistant/binary_sensor/node/smoke/config": `{"name":"Smoke","device_class":"smoke","state_topic":"n/smoke","unique_id":"l2","device":{"identifiers":["node"],"name":"Utility"}}`,
				"homeassistant/binary_sensor/node/co/config":    `{"name":"CO","device_class":"carbon_monoxide","state_topic":"n/co","unique_id":"l3","device":{"identifiers":["node"],"name":"Utility"}}`,
			},
			cat:    model.CategoryOther,
			traits: []model.TraitKind{model.TraitWaterLeak, model.TraitSmoke, model.TraitGas},
			msgs:   [][2]string{{"n/leak", "ON"}, {"n/smoke", "OFF"}, {"n/co", "OFF"}},
			want:   model.State{WaterLeak: model.Ptr(true), Smoke: model.Ptr(false), Gas: model.Ptr(false)},
		},
		{
			name: "plug with power and energy (ESPHome)",
			configs: haKindDevice{
				"homeassistant/switch/plug/relay/config":  `{"name":"Relay","command_topic":"plug/relay/command","state_topic":"plug/relay/state","unique_id":"p1","device":{"identifiers":["plug"],"name":"Kettle plug"}}`,
				"homeassistant/sensor/plug/power/config":  `{"name":"Power","device_class":"power","unit_of_measurement":"kW","state_topic":"plug/power/state","unique_id":"p2","device":{"identifiers":["plug"],"name":"Kettle plug"}}`,
				"homeassistant/sensor/plug/energy/config": `{"name":"Energy","device_class":"energy","state_class":"total_increasing","unit_of_measurement":"Wh","state_topic":"plug/energy/state","unique_id":"p3","device":{"identifiers":["plug"],"name":"Kettle plug"}}`,
			},
			cat:    model.CategorySwitch,
			traits: []model.TraitKind{model.TraitOnOff, model.TraitPower, model.TraitEnergy},
			msgs:   [][2]string{{"plug/relay/state", "ON"}, {"plug/power/state", "1.2"}, {"plug/energy/state", "3250"}},
			want:   model.State{On: model.Ptr(true), Watts: model.Ptr(1200.0), EnergyKWh: model.Ptr(3.25)},
		},
		{
			name: "cover with position (zigbee2mqtt)",
			configs: haKindDevice{
				"homeassistant/cover/0x00158d0001a2b3c4/cover/config":    haWith(`"name":null,"command_topic":"zigbee2mqtt/Hall sensor/set","state_topic":"zigbee2mqtt/Hall sensor","value_template":"{{ value_json[\"state\"] }}","state_open":"OPEN","state_closed":"CLOSE","state_stopped":"STOP","position_template":"{{ value_json[\"position\"] }}","set_position_template":"{ \"position\": {{ position }} }","set_position_topic":"zigbee2mqtt/Hall sensor/set","position_topic":"zigbee2mqtt/Hall sensor","unique_id":"cv"`),
				"homeassistant/sensor/0x00158d0001a2b3c4/battery/config": haWith(`"name":"Battery","device_class":"battery","unit_of_measurement":"%","entity_category":"diagnostic","state_topic":"zigbee2mqtt/Hall sensor","value_template":"{{ value_json.battery }}","unique_id":"cvb"`),
			},
			cat:    model.CategoryInteriorBlind,
			traits: []model.TraitKind{model.TraitCover, model.TraitBattery},
			msgs:   [][2]string{{"zigbee2mqtt/Hall sensor", `{"battery":80,"position":30,"state":"OPEN"}`}},
			want:   model.State{CoverPosition: model.Ptr(30), Battery: model.Ptr(80)},
		},
		{
			name: "cover that only opens and closes",
			configs: haKindDevice{
				"homeassistant/cover/gate/config": `{"name":"Garage","command_topic":"gate/cmd","state_topic":"gate/state","unique_id":"g"}`,
			},
			cat:    model.CategoryInteriorBlind,
			traits: []model.TraitKind{model.TraitCover},
			msgs:   [][2]string{{"gate/state", "closed"}},
			want:   model.State{CoverPosition: model.Ptr(0)},
		},
		{
			name: "fan with a percentage",
			configs: haKindDevice{
				"homeassistant/fan/ceiling/config": `{"name":"Ceiling fan","command_topic":"fan/on/set","state_topic":"fan/on/state","percentage_command_topic":"fan/speed/set","percentage_state_topic":"fan/speed/state","speed_range_min":1,"speed_range_max":4,"unique_id":"f"}`,
			},
			cat:    model.CategoryFan,
			traits: []model.TraitKind{model.TraitOnOff, model.TraitFan},
			msgs:   [][2]string{{"fan/on/state", "ON"}, {"fan/speed/state", "2"}},
			want:   model.State{On: model.Ptr(true), FanSpeed: model.Ptr(50)},
		},
		{
			name: "air quality monitor: CO2, VOC in ppm, pressure in kPa, with its temperature",
			configs: haKindDevice{
				"homeassistant/sensor/air/co2/config":  `{"name":"CO2","device_class":"carbon_dioxide","unit_of_measurement":"ppm","state_topic":"air/co2","unique_id":"a1","device":{"identifiers":["air"],"name":"Office air"}}`,
				"homeassistant/sensor/air/voc/config":  `{"name":"VOC","device_class":"volatile_organic_compounds_parts","unit_of_measurement":"ppm","state_topic":"air/voc","unique_id":"a2","device":{"identifiers":["air"],"name":"Office air"}}`,
				"homeassistant/sensor/air/pres/config": `{"name":"Pressure","device_class":"atmospheric_pressure","unit_of_measurement":"kPa","state_topic":"air/pres","unique_id":"a3","device":{"identifiers":["air"],"name":"Office air"}}`,
				"homeassistant/sensor/air/temp/config": `{"name":"Temperature","device_class":"temperature","unit_of_measurement":"°C","state_topic":"air/temp","unique_id":"a4","device":{"identifiers":["air"],"name":"Office air"}}`,
			},
			cat:    model.CategoryOther,
			traits: []model.TraitKind{model.TraitTemperatureSensor, model.TraitRange},
			msgs:   [][2]string{{"air/co2", "850"}, {"air/voc", "0.3"}, {"air/pres", "101.3"}, {"air/temp", "22.5"}},
			want: model.State{Temperature: model.Ptr(22.5),
				Ranges: map[string]float64{"CO2.Current": 850, "VOC.Current": 300, "Pressure.Current": 1013}},
		},
		{
			name: "vibration sensor (zigbee2mqtt's device class vibration)",
			configs: haKindDevice{
				"homeassistant/binary_sensor/0x00158d0001a2b3c4/vibration/config": haWith(`"name":"Vibration","device_class":"vibration","state_topic":"zigbee2mqtt/Hall sensor","value_template":"{{ value_json.vibration }}","payload_on":true,"payload_off":false,"unique_id":"vb"`),
			},
			cat:    model.CategoryMotionSensor,
			traits: []model.TraitKind{model.TraitMotion},
			msgs:   [][2]string{{"zigbee2mqtt/Hall sensor", `{"vibration":true}`}},
			want:   model.State{Motion: model.Ptr(true)},
		},
		{
			name: "soil moisture (zigbee2mqtt's device class moisture)",
			configs: haKindDevice{
				"homeassistant/sensor/0x00158d0001a2b3c4/soil_moisture/config": haWith(`"name":"Soil moisture","device_class":"moisture","state_class":"measurement","unit_of_measurement":"%","state_topic":"zigbee2mqtt/Hall sensor","value_template":"{{ value_json.soil_moisture }}","unique_id":"sm"`),
			},
			cat:    model.CategoryOther,
			traits: []model.TraitKind{model.TraitRange},
			msgs:   [][2]string{{"zigbee2mqtt/Hall sensor", `{"soil_moisture":37}`}},
			want:   model.State{Ranges: map[string]float64{"SoilMoisture.Current": 37}},
		},
		{
			name: "siren",
			configs: haKindDevice{
				"homeassistant/siren/hall/config": `{"name":"Hall siren","command_topic":"siren/set","state_topic":"siren/state","unique_id":"s"}`,
			},
			cat:    model.CategorySecurityPanel,
			traits: []model.TraitKind{model.TraitSiren},
			msgs:   [][2]string{{"siren/state", "ON"}},
			want:   model.State{Siren: model.Ptr(true)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
			for topic, p := range tc.configs {
				h.handle(topic, []byte(p))
			}
			for k, s := range h.skips {
				if s.Reason != "diagnostic (entity_category diagnostic), not a function" {
					t.Errorf("skipped %s: %s", k, s.Reason)
				}
			}
			for _, m := range tc.msgs {
				h.handle(m[0], []byte(m[1]))
			}
			us := h.units()
			if len(us) != 1 {
				for _, u := range us {
					t.Logf("endpoint %s %v", u.dev.Endpoint.FriendlyName, u.dev.Endpoint.Traits.Kinds())
				}
				t.Fatalf("%d endpoints, want one", len(us))
			}
			ep := us[0].dev.Endpoint
			if ep.Category != tc.cat || !reflect.DeepEqual(ep.Traits.Kinds(), tc.traits) {
				t.Errorf("endpoint %q %s %v, want %s %v", ep.FriendlyName, ep.Category, ep.Traits.Kinds(), tc.cat, tc.traits)
			}
			if got := us[0].dev.State; !reflect.DeepEqual(got, tc.want) {
				a, _ := json.Marshal(got)
				b, _ := json.Marshal(tc.want)
				t.Errorf("state %s\nwant  %s", a, b)
			}
		})
	}
}

// Commands → the messages Home Assistant would publish for the same
// entities: a cover's position through set_position_template, open and
// close as payload_open/payload_close, stop as payload_stop ("STOP" unless
// given; null or no command_topic: the cover cannot stop); a fan's percentage over its speed
// range; a siren's on and off.
func TestHAKindsCommands(t *testing.T) {
	for _, tc := range []struct {
		config string
		cmd    model.Command
		topic  string
		want   string
	}{
		{`{"command_topic":"z/set","set_position_topic":"z/set","set_position_template":"{ \"position\": {{ position }} }","position_topic":"z"}`, model.SetCoverPosition(40), "z/set", `{ "position": 40 }`},
		{`{"command_topic":"gate/cmd","state_topic":"gate/state"}`, model.SetCoverPosition(100), "gate/cmd", "OPEN"},
		{`{"command_topic":"gate/cmd","state_topic":"gate/state","payload_close":"DOWN"}`, model.SetCoverPosition(0), "gate/cmd", "DOWN"},
		{`{"command_topic":"gate/cmd","state_topic":"gate/state"}`, model.SetCoverPosition(50), "", string(model.ErrInvalidValue)},
		{`{"command_topic":"s/set","set_position_topic":"s/pos","position_open":255,"position_closed":0}`, model.SetCoverPosition(50), "s/pos", "128"},
		{`{"command_topic":"gate/cmd","state_topic":"gate/state"}`, model.StopCover(), "gate/cmd", "STOP"},
		{`{"command_topic":"z/set","set_position_topic":"z/set","payload_stop":"HALT"}`, model.StopCover(), "z/set", "HALT"},
		{`{"command_topic":"gate/cmd","payload_stop":null}`, model.StopCover(), "", string(model.ErrNotSupported)},
		{`{"set_position_topic":"s/pos"}`, model.StopCover(), "", string(model.ErrNotSupported)},
		{`{"command_topic":"fan/on/set","percentage_command_topic":"fan/speed/set","speed_range_min":1,"speed_range_max":4}`, model.SetFanSpeed(50), "fan/speed/set", "2"},
		{`{"command_topic":"fan/on/set","percentage_command_topic":"fan/speed/set","speed_range_min":1,"speed_range_max":4}`, model.SetFanSpeed(0), "fan/on/set", "OFF"},
		{`{"command_topic":"fan/on/set","percentage_command_topic":"fan/speed/set"}`, model.SetPower(true), "fan/on/set", "ON"},
		{`{"command_topic":"siren/set","command_off_template":"{\"warning\": {\"mode\": \"stop\"}}"}`, model.SetSiren(false), "siren/set", `{"warning": {"mode": "stop"}}`},
		{`{"command_topic":"siren/set"}`, model.SetSiren(true), "siren/set", "ON"},
		// a cover's tilt: tilt_closed_value … tilt_opened_value, through tilt_command_template
		{`{"command_topic":"b/set","tilt_command_topic":"b/set/tilt","tilt_status_topic":"b"}`, model.SetCoverTilt(40), "b/set/tilt", "40"},
		{`{"command_topic":"b/set","tilt_command_topic":"b/tilt","tilt_max":180,"tilt_opened_value":180}`, model.SetCoverTilt(50), "b/tilt", "90"},
		{`{"command_topic":"b/set","tilt_command_topic":"b/tilt","tilt_opened_value":0,"tilt_closed_value":100}`, model.SetCoverTilt(30), "b/tilt", "70"},
		{`{"command_topic":"b/set","tilt_command_topic":"b/set","tilt_command_template":"{\"tilt\": {{ tilt_position }}}"}`, model.SetCoverTilt(25), "b/set", `{"tilt": 25}`},
		{`{"command_topic":"b/set"}`, model.SetCoverTilt(10), "", string(model.ErrNotSupported)},
		{`{"command_topic":"b/set","tilt_command_topic":"b/tilt","tilt_opened_value":50}`, model.SetCoverTilt(10), "", string(model.ErrNotSupported)},
	} {
		var platform string
		switch tc.cmd.Trait {
		case model.TraitCover:
			platform = "cover"
		case model.TraitFan, model.TraitOnOff:
			platform = "fan"
		case model.TraitSiren:
			platform = "siren"
		}
		var cfg map[string]any
		if err := json.Unmarshal([]byte(tc.config), &cfg); err != nil {
			t.Fatal(err)
		}
		e, err := parseHAEntity(platform+"/x", platform, cfg)
		if err != nil {
			t.Fatalf("%s %s: %v", platform, tc.config, err)
		}
		out, err := e.command(tc.cmd, model.State{})
		switch {
		case err != nil:
			if string(model.AsError(err).Kind) != tc.want {
				t.Errorf("%s %s: error %v, want %s", tc.config, tc.cmd, err, tc.want)
			}
		case len(out) != 1 || out[0].topic != tc.topic || string(out[0].payload) != tc.want:
			t.Errorf("%s %s: %+v, want %s %s", tc.config, tc.cmd, out, tc.topic, tc.want)
		}
	}
}

// A remote's device triggers and event entities are recognised and skipped
// with the reason; battery alone is never an endpoint.
func TestHARemotes(t *testing.T) {
	h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
	h.handle("homeassistant/device_automation/0x000d6ffffeab1234/action_toggle/config",
		[]byte(`{"automation_type":"trigger","type":"action","subtype":"toggle","payload":"toggle","topic":"zigbee2mqtt/Bedroom Remote/action","device":{"identifiers":["zigbee2mqtt_0x000d6ffffeab1234"],"name":"Bedroom Remote"}}`))
	h.handle("homeassistant/sensor/0x000d6ffffeab1234/battery/config",
		[]byte(`{"name":"Battery","device_class":"battery","unit_of_measurement":"%","entity_category":"diagnostic","state_topic":"zigbee2mqtt/Bedroom Remote","value_template":"{{ value_json.battery }}","unique_id":"r1","device":{"identifiers":["zigbee2mqtt_0x000d6ffffeab1234"],"name":"Bedroom Remote"}}`))
	if us := h.units(); len(us) != 0 {
		t.Errorf("%d endpoints for a remote", len(us))
	}
	s, ok := h.skips["device_automation/0x000d6ffffeab1234/action_toggle"]
	if !ok || s.Reason != remoteReason {
		t.Errorf("device trigger skip = %+v, want %q", s, remoteReason)
	}
	if l, ok := h.loose["sensor/0x000d6ffffeab1234/battery"]; !ok || l.Part == "" {
		t.Errorf("the lone battery is not listed as skipped: %v", h.loose)
	}
}

// A measured quantity in a unit the bridge does not convert is not
// imported, and the skip says why.
func TestHAMeasureUnknownUnit(t *testing.T) {
	h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
	h.handle("homeassistant/sensor/tank/pres/config", []byte(`{"name":"Pressure","device_class":"pressure","unit_of_measurement":"psi","state_topic":"tank/pres","unique_id":"t1"}`))
	if us := h.units(); len(us) != 0 {
		t.Fatalf("%d endpoints for a pressure in psi, want none", len(us))
	}
	found := ""
	for _, s := range h.skips {
		found += s.Reason
	}
	if found != `pressure in "psi", not a unit of Pressure` {
		t.Errorf("skip reasons %q", found)
	}
}

// A cover's tilt through Home Assistant discovery: the tilt trait where
// tilt_opened_value and tilt_closed_value are the ends of tilt_min–tilt_max
// (either way round), a tilt_status_topic's value on the trait's 0
// (closed) … 100 (open); a tilt that opens mid-range is not bridged, and
// the bridge says why.
func TestHACoverTilt(t *testing.T) {
	for _, tc := range []struct {
		name, config string
		tilt         bool
		status       string // tilt_status_topic payload
		want         *int
		why          string // the loose part's reason, "" when the tilt is bridged (or absent)
	}{
		{"zigbee2mqtt's", `"tilt_command_topic":"z/b/set/tilt","tilt_status_topic":"z/b","tilt_status_template":"{{ value_json[\"tilt\"] }}"`, true, `{"tilt":40,"position":100}`, model.Ptr(40), ""},
		{"defaults, a plain payload", `"tilt_command_topic":"b/tilt","tilt_status_topic":"b/tilt/state"`, true, "75", model.Ptr(75), ""},
		{"0–180", `"tilt_command_topic":"b/tilt","tilt_status_topic":"b/tilt/state","tilt_max":180,"tilt_opened_value":180`, true, "45", model.Ptr(25), ""},
		{"inverted: opened at tilt_min", `"tilt_command_topic":"b/tilt","tilt_status_topic":"b/tilt/state","tilt_opened_value":0,"tilt_closed_value":100`, true, "100", model.Ptr(0), ""},
		{"out of range is clamped", `"tilt_command_topic":"b/tilt","tilt_status_topic":"b/tilt/state"`, true, "120", model.Ptr(100), ""},
		{"command only: no state", `"tilt_command_topic":"b/tilt"`, true, "", nil, ""},
		{"no tilt", `"position_topic":"b/pos"`, false, "", nil, ""},
		{"opens mid-range", `"tilt_command_topic":"b/tilt","tilt_status_topic":"b/tilt/state","tilt_opened_value":50`, false, "50", nil,
			"the cover is bridged without its tilt: tilt_opened_value 50 and tilt_closed_value 0 are not the ends of tilt_min–tilt_max 0–100 (a tilt that opens mid-range has no closed-to-open scale)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
			h.handle("homeassistant/cover/b/cover/config", []byte(`{"name":null,"unique_id":"blind1","command_topic":"b/set",`+tc.config+
				`,"device":{"identifiers":["blind1"],"name":"Office blind"}}`))
			us := h.units()
			if len(us) != 1 {
				t.Fatalf("%d endpoints, skips %v", len(us), h.skips)
			}
			c := us[0].dev.Endpoint.Traits.Cover
			if c == nil || c.Tilt != tc.tilt {
				t.Fatalf("cover trait %+v, want tilt %v", c, tc.tilt)
			}
			if tc.status != "" {
				topic := "b/tilt/state"
				if tc.name == "zigbee2mqtt's" {
					topic = "z/b"
				}
				h.handle(topic, []byte(tc.status))
				us = h.units()
			}
			if got := us[0].dev.State.CoverTilt; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("tilt after %q: %v, want %v", tc.status, ptrStr(got), ptrStr(tc.want))
			}
			var why string
			for _, s := range h.loose {
				why = s.Reason
			}
			if why != tc.why {
				t.Errorf("loose reason %q, want %q", why, tc.why)
			}
		})
	}
}

// ptrStr shows an optional int.
func ptrStr(p *int) string {
	if p == nil {
		return "none"
	}
	return strconv.Itoa(*p)
}
