package dashboard

import (
	"encoding/json"
	"math"
	"strings"

	"github.com/avshub/avshub/discovery/model"
)

// thermostat: the climate component (its current temperature from the
// temperature_sensor trait, ECO as the "eco" preset); state and commands
// "mode", "preset", "temperature", "temperature_low", "temperature_high" (°C).
func init() {
	register(model.TraitThermostat, haTrait{
		components: climateComponent,
		state:      thermostatState,
		commands: map[string]keyDecoder{
			"mode": decodeThermostatMode, "preset": decodeThermostatPreset,
			"temperature": decodeSetpoint, "temperature_low": decodeSetpoint, "temperature_high": decodeSetpoint,
		},
	})
}

// haMode maps model thermostat modes to Home Assistant climate modes. ECO is
// a Home Assistant preset, not a mode.
var haMode = map[model.ThermostatMode]string{
	model.ModeHeat: "heat", model.ModeCool: "cool", model.ModeAuto: "heat_cool", model.ModeOff: "off",
}

func modelMode(ha string) (model.ThermostatMode, bool) {
	for m, s := range haMode {
		if s == ha {
			return m, true
		}
	}
	return "", false
}

// ecoBase is the mode a thermostat in ECO shows in Home Assistant, and the mode
// the preset "none" returns to: HEAT if it has it, else its first other mode.
func ecoBase(t *model.Thermostat) model.ThermostatMode {
	if t.SupportsMode(model.ModeHeat) {
		return model.ModeHeat
	}
	for _, m := range t.Modes {
		if m != model.ModeEco && m != model.ModeOff {
			return m
		}
	}
	return ""
}

func climateComponent(c *components) {
	t := c.ep.Traits
	th := t.Thermostat
	if th == nil {
		return
	}
	st, ct := c.st, c.ct
	var modes []string
	for _, m := range th.Modes {
		if s, ok := haMode[m]; ok {
			modes = append(modes, s)
		}
	}
	step := th.StepC
	if step <= 0 {
		step = 0.5
	}
	precision := 0.1
	if step >= 1 {
		precision = 1.0
	} else if math.Mod(step, 0.5) == 0 {
		precision = 0.5
	}
	cl := map[string]any{"p": "climate", "unique_id": c.uid("climate"), "name": c.name("Thermostat"),
		"modes": modes, "mode_command_topic": ct, "mode_command_template": `{"mode":"{{ value }}"}`,
		"mode_state_topic": st, "mode_state_template": "{{ value_json.mode }}",
		"min_temp": th.MinC, "max_temp": th.MaxC, "temp_step": step, "precision": precision, "temperature_unit": "C"}
	if th.TargetSetpoint {
		cl["temperature_command_topic"] = ct
		cl["temperature_command_template"] = `{"temperature":{{ value }}}`
		cl["temperature_state_topic"] = st
		cl["temperature_state_template"] = "{{ value_json.temperature }}"
	}
	if th.DualSetpoints {
		cl["temperature_low_command_topic"] = ct
		cl["temperature_low_command_template"] = `{"temperature_low":{{ value }}}`
		cl["temperature_low_state_topic"] = st
		cl["temperature_low_state_template"] = "{{ value_json.temperature_low }}"
		cl["temperature_high_command_topic"] = ct
		cl["temperature_high_command_template"] = `{"temperature_high":{{ value }}}`
		cl["temperature_high_state_topic"] = st
		cl["temperature_high_state_template"] = "{{ value_json.temperature_high }}"
	}
	if t.TemperatureSensor != nil {
		cl["current_temperature_topic"] = st
		cl["current_temperature_template"] = "{{ value_json.current_temperature }}"
	}
	if th.SupportsMode(model.ModeEco) {
		cl["preset_modes"] = []string{"eco"}
		cl["preset_mode_command_topic"] = ct
		cl["preset_mode_command_template"] = `{"preset":"{{ value }}"}`
		cl["preset_mode_state_topic"] = st
		cl["preset_mode_value_template"] = "{{ value_json.preset }}"
	}
	c.out["climate"] = cl
}

func thermostatState(out map[string]any, n *node) {
	t, s := n.entry.Endpoint.Traits, n.entry.State
	th := s.Thermostat
	if th == nil || t.Thermostat == nil {
		return
	}
	if th.Mode == model.ModeEco {
		if b := ecoBase(t.Thermostat); b != "" {
			out["mode"] = haMode[b]
		}
	} else if m, ok := haMode[th.Mode]; ok {
		out["mode"] = m
	}
	if t.Thermostat.SupportsMode(model.ModeEco) {
		out["preset"] = "none"
		if th.Mode == model.ModeEco {
			out["preset"] = "eco"
		}
	}
	for k, v := range map[string]*float64{"temperature": th.Target, "temperature_low": th.Lower, "temperature_high": th.Upper} {
		if v != nil {
			out[k] = *v
		}
	}
}

func decodeThermostatMode(d *commandDecoder, k string, raw json.RawMessage) error {
	s, err := str(k, raw)
	if err != nil {
		return err
	}
	m, ok := modelMode(strings.ToLower(s))
	if !ok {
		return bad("mode must be one of off, heat, cool, heat_cool, not %q", s)
	}
	if d.thermo.Mode == "" { // a preset given alongside wins
		d.thermo.Mode = m
	}
	d.hasThermo = true
	return nil
}

func decodeThermostatPreset(d *commandDecoder, k string, raw json.RawMessage) error {
	s, err := str(k, raw)
	if err != nil {
		return err
	}
	switch strings.ToLower(s) {
	case "eco":
		d.thermo.Mode = model.ModeEco
	case "none":
		if d.current.Thermostat != nil && d.current.Thermostat.Mode != model.ModeEco {
			// Not in eco: nothing to leave; keep any mode given alongside.
			break
		}
		if d.ep.Traits.Thermostat == nil {
			return &model.Error{Kind: model.ErrNotSupported, Message: "the endpoint has no thermostat trait"}
		}
		if _, given := d.fields["mode"]; !given {
			d.thermo.Mode = ecoBase(d.ep.Traits.Thermostat)
		}
	default:
		return bad("preset must be eco or none, not %q", s)
	}
	d.hasThermo = true
	return nil
}

func decodeSetpoint(d *commandDecoder, k string, raw json.RawMessage) error {
	v, err := num(k, raw)
	if err != nil {
		return err
	}
	switch k {
	case "temperature":
		d.thermo.Target = &v
	case "temperature_low":
		d.thermo.Lower = &v
	default:
		d.thermo.Upper = &v
	}
	d.hasThermo = true
	return nil
}
