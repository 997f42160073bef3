package dashboard

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// The Home Assistant side of the cover, sensor, fan and siren traits.

// binarySensorKinds are the read-only detected/clear traits: state key,
// component id, Home Assistant device_class and the state value.
var binarySensorKinds = []struct {
	key, class, name string
	has              func(model.Traits) bool
	get              func(model.State) *bool
}{
	{"contact", "door", "Contact", func(t model.Traits) bool { return t.Contact != nil }, func(s model.State) *bool { return s.ContactOpen }},
	{"occupancy", "motion", "Motion", func(t model.Traits) bool { return t.Motion != nil }, func(s model.State) *bool { return s.Motion }},
	{"water_leak", "moisture", "Water leak", func(t model.Traits) bool { return t.WaterLeak != nil }, func(s model.State) *bool { return s.WaterLeak }},
	{"smoke", "smoke", "Smoke", func(t model.Traits) bool { return t.Smoke != nil }, func(s model.State) *bool { return s.Smoke }},
	{"gas", "gas", "Gas", func(t model.Traits) bool { return t.Gas != nil }, func(s model.State) *bool { return s.Gas }},
	{"tamper", "tamper", "Tamper", func(t model.Traits) bool { return t.Tamper != nil }, func(s model.State) *bool { return s.Tamper }},
	{"battery_low", "battery", "Battery low", func(t model.Traits) bool { return t.Battery != nil }, func(s model.State) *bool { return s.BatteryLow }},
}

// sensorKinds are the read-only readings: state key, device_class, unit,
// state_class, display precision and the value.
var sensorKinds = []struct {
	key, class, unit, stateClass, name string
	precision                          int
	diagnostic                         bool
	has                                func(model.Traits) bool
	get                                func(model.State) (float64, bool)
}{
	{"humidity", "humidity", "%", "measurement", "Humidity", 0, false,
		func(t model.Traits) bool { return t.Humidity != nil }, func(s model.State) (float64, bool) { return deref(s.Humidity) }},
	{"illuminance", "illuminance", "lx", "measurement", "Illuminance", 0, false,
		func(t model.Traits) bool { return t.Illuminance != nil }, func(s model.State) (float64, bool) { return deref(s.Illuminance) }},
	{"power", "power", "W", "measurement", "Power", 1, false,
		func(t model.Traits) bool { return t.Power != nil }, func(s model.State) (float64, bool) { return deref(s.Watts) }},
	{"energy", "energy", "kWh", "total_increasing", "Energy", 2, false,
		func(t model.Traits) bool { return t.Energy != nil }, func(s model.State) (float64, bool) { return deref(s.EnergyKWh) }},
	{"battery", "battery", "%", "measurement", "Battery", 0, true,
		func(t model.Traits) bool { return t.Battery != nil }, func(s model.State) (float64, bool) {
			if s.Battery == nil {
				return 0, false
			}
			return float64(*s.Battery), true
		}},
}

func deref(p *float64) (float64, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

// kindComponents adds the components of the cover, sensor, fan and siren
// traits; name gives the component's name (nil for the device's main feature).
func kindComponents(out map[string]map[string]any, ep model.Endpoint, st, ct string, uid func(string) string, name func(string) any) {
	t := ep.Traits
	if t.Cover != nil {
		class := "blind"
		if ep.Category == model.CategoryExteriorBlind {
			class = "shutter"
		}
		out["cover"] = map[string]any{"p": "cover", "unique_id": uid("cover"), "name": name("Cover"), "device_class": class,
			"command_topic": ct, "payload_open": `{"position":100}`, "payload_close": `{"position":0}`, "payload_stop": nil,
			"position_topic": st, "position_template": "{{ value_json.position }}", "position_open": 100, "position_closed": 0,
			"set_position_topic": ct, "set_position_template": `{"position":{{ position }}}`}
	}
	if f := t.Fan; f != nil {
		c := map[string]any{"p": "fan", "unique_id": uid("fan"), "name": name("Fan"),
			"command_topic": ct, "payload_on": `{"state":"ON"}`, "payload_off": `{"state":"OFF"}`,
			"state_topic": st, "state_value_template": "{{ value_json.state }}",
			"percentage_command_topic": ct, "percentage_command_template": `{"percentage":{{ value }}}`,
			"percentage_state_topic": st, "percentage_value_template": "{{ value_json.percentage }}",
			"speed_range_min": 1, "speed_range_max": 100}
		if names := fanPresetNames(f); len(names) > 0 {
			c["preset_modes"] = names
			c["preset_mode_command_topic"] = ct
			c["preset_mode_command_template"] = `{"fan_preset":"{{ value }}"}`
			c["preset_mode_state_topic"] = st
			c["preset_mode_value_template"] = "{{ value_json.fan_preset }}"
		}
		out["fan"] = c
	}
	if t.Siren != nil {
		out["siren"] = map[string]any{"p": "siren", "unique_id": uid("siren"), "name": name("Siren"),
			"command_topic": ct, "payload_on": `{"siren":"ON"}`, "payload_off": `{"siren":"OFF"}`,
			"state_topic": st, "value_template": "{{ value_json.siren }}", "state_on": "ON", "state_off": "OFF"}
	}
	for _, b := range binarySensorKinds {
		if b.has(t) {
			c := map[string]any{"p": "binary_sensor", "unique_id": uid(b.key), "name": name(b.name), "device_class": b.class,
				"state_topic": st, "value_template": fmt.Sprintf("{{ value_json.%s }}", b.key), "payload_on": "ON", "payload_off": "OFF"}
			if b.key == "battery_low" {
				c["entity_category"] = "diagnostic"
			}
			out[b.key] = c
		}
	}
	for _, s := range sensorKinds {
		if s.has(t) {
			c := map[string]any{"p": "sensor", "unique_id": uid(s.key), "name": name(s.name), "device_class": s.class,
				"state_topic": st, "value_template": fmt.Sprintf("{{ value_json.%s }}", s.key),
				"unit_of_measurement": s.unit, "state_class": s.stateClass, "suggested_display_precision": s.precision}
			if s.diagnostic {
				c["entity_category"] = "diagnostic"
			}
			out[s.key] = c
		}
	}
}

// fanPresetNames are the names of a fan's presets on the dashboard.
func fanPresetNames(f *model.Fan) []string {
	var out []string
	for _, pr := range f.Presets {
		out = append(out, displayName(pr.Names, fmt.Sprint(pr.Value)))
	}
	return out
}

// kindState adds the state of the cover, sensor, fan and siren traits to the
// state document.
func kindState(out map[string]any, t model.Traits, s model.State) {
	if s.CoverPosition != nil {
		out["position"] = *s.CoverPosition
	}
	if s.FanSpeed != nil {
		out["percentage"] = *s.FanSpeed
		if t.Fan != nil {
			for _, pr := range t.Fan.Presets {
				if int(pr.Value) == *s.FanSpeed {
					out["fan_preset"] = displayName(pr.Names, fmt.Sprint(pr.Value))
				}
			}
		}
	}
	if s.Siren != nil {
		out["siren"] = onOff(*s.Siren)
	}
	for _, b := range binarySensorKinds {
		if v := b.get(s); v != nil {
			out[b.key] = onOff(*v)
		}
	}
	for _, k := range sensorKinds {
		if v, ok := k.get(s); ok {
			out[k.key] = v
		}
	}
}

// fanPreset is the command setting a fan to the preset named name.
func fanPreset(ep model.Endpoint, name string) (model.Command, error) {
	if f := ep.Traits.Fan; f != nil {
		for _, pr := range f.Presets {
			if displayName(pr.Names, fmt.Sprint(pr.Value)) == name {
				return model.SetFanSpeed(toInt(pr.Value)), nil
			}
		}
	}
	return model.Command{}, bad("fan preset %q is not one of the fan's presets", model.Abbreviate(name, 40))
}
