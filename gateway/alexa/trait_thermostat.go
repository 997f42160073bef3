package alexa

import (
	"fmt"
	"math"
	"slices"

	"github.com/avshub/avshub/discovery/model"
)

// thermostat: the Thermostat.Mode ModeController and the setpoint
// RangeControllers in the thermostat's scale (avs),
// Alexa.ThermostatController (smarthome).
func init() {
	register(model.TraitThermostat, traitRendering{
		avs: rendering{
			caps: func(p *profile, t model.Traits) ([]capability, error) {
				if t.Thermostat == nil {
					return nil, nil
				}
				return p.thermostatCaps(t.Thermostat)
			},
			props:  avsThermostatProps,
			decode: avsDecodeThermostat,
		},
		smartHome: rendering{
			caps:  smartHomeThermostatCaps,
			props: smartHomeThermostatProps,
			decode: func(_ *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
				if d.Header.Namespace != nsThermostat || t.Thermostat == nil {
					return Intent{}, false, nil
				}
				in, err := decodeThermostat(d, t.Thermostat, st)
				return in, true, err
			},
		},
	})
}

// checkThermostat refuses a thermostat Alexa cannot show.
func checkThermostat(th *model.Thermostat) error {
	if th.MaxC < th.MinC || math.IsNaN(th.MinC) || math.IsNaN(th.MaxC) {
		return fmt.Errorf("thermostat range %g–%g °C is invalid", th.MinC, th.MaxC)
	}
	return nil
}

// thermostatModeEntry is one value of the Thermostat.Mode ModeController.
type thermostatModeEntry struct {
	mode  model.ThermostatMode
	value string
	asset string
	key   textKey
}

var thermostatModeValues = []thermostatModeEntry{
	{model.ModeHeat, "Thermostat.Heat", assetSettingHeat, txtHeat},
	{model.ModeCool, "Thermostat.Cool", "", txtCool},
	{model.ModeAuto, "Thermostat.Auto", assetSettingAuto, txtAuto},
	{model.ModeEco, "Thermostat.Eco", "", txtEco},
	{model.ModeOff, "Thermostat.Off", "", txtOff},
}

func thermostatModeValue(m model.ThermostatMode) string {
	for _, v := range thermostatModeValues {
		if v.mode == m {
			return v.value
		}
	}
	return ""
}

func (p *profile) thermostatCaps(th *model.Thermostat) ([]capability, error) {
	if err := checkThermostat(th); err != nil {
		return nil, err
	}
	if len(th.Modes) == 0 && !th.TargetSetpoint && !th.DualSetpoints {
		return nil, fmt.Errorf("thermostat has neither modes nor setpoints")
	}
	var caps []capability
	modes := modeConfig{}
	for _, mv := range thermostatModeValues {
		if th.SupportsMode(mv.mode) {
			modes.SupportedModes = append(modes.SupportedModes, modeValue{Value: mv.value, ModeResources: resources{p.builtinNames(mv.asset, mv.key)}})
		}
	}
	if len(modes.SupportedModes) > 0 {
		mc := modeCap(InstanceThermostatMode, p.builtinNames(assetSettingMode, txtThermostatMode), modes, false)
		mc.Semantics = ecoSemantics(th)
		caps = append(caps, mc)
	}
	s := p.thermostatScale(th)
	spec := setpointSpec(th, s)
	cfg := func(presets bool) rangeConfig {
		c := rangeConfig{
			SupportedRange: supportedRange{Min: spec.min, Max: spec.max, Precision: spec.precision},
			UnitOfMeasure:  unitFor(s),
		}
		if presets {
			seen := map[float64]bool{}
			for _, pr := range []struct {
				c   float64
				key textKey
			}{{PresetComfortC, txtComfort}, {PresetEcoC, txtEco}} {
				v := snap(FromCelsius(pr.c, s), spec.min, spec.max, spec.precision)
				if !seen[v] {
					seen[v] = true
					c.Presets = append(c.Presets, rangePreset{RangeValue: v, PresetResources: resources{p.builtinNames("", pr.key)}})
				}
			}
		}
		return c
	}
	if th.TargetSetpoint {
		rc := rangeCap(InstanceTargetSetpoint, p.builtinNames(assetSettingTemperature, txtTargetTemp), cfg(true), false)
		// "Raise"/"lower" the thermostat: one degree in its scale.
		adjust := func(delta float64) semanticCommand {
			return semanticCommand{Name: "AdjustRangeValue", Payload: map[string]any{"rangeValueDelta": delta, "rangeValueDeltaDefault": false}}
		}
		rc.Semantics = &semantics{ActionMappings: []actionMapping{
			{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Raise"}, Directive: adjust(1)},
			{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Lower"}, Directive: adjust(-1)},
		}}
		caps = append(caps, rc)
	}
	if th.DualSetpoints {
		caps = append(caps,
			rangeCap(InstanceLowerSetpoint, p.builtinNames("", txtLowerTemp), cfg(false), false),
			rangeCap(InstanceUpperSetpoint, p.builtinNames("", txtUpperTemp), cfg(false), false))
	}
	return caps, nil
}

// ecoSemantics maps Alexa.Actions.SetEcoOn to the ECO mode and SetEcoOff to
// the first of HEAT, AUTO and COOL the thermostat has; nil without ECO.
func ecoSemantics(th *model.Thermostat) *semantics {
	if !th.SupportsMode(model.ModeEco) {
		return nil
	}
	set := func(m model.ThermostatMode) semanticCommand {
		return semanticCommand{Name: "SetMode", Payload: map[string]string{"mode": thermostatModeValue(m)}}
	}
	s := &semantics{ActionMappings: []actionMapping{{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.SetEcoOn"}, Directive: set(model.ModeEco)}}}
	for _, m := range []model.ThermostatMode{model.ModeHeat, model.ModeAuto, model.ModeCool} {
		if th.SupportsMode(m) {
			s.ActionMappings = append(s.ActionMappings, actionMapping{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.SetEcoOff"}, Directive: set(m)})
			break
		}
	}
	return s
}

func avsThermostatProps(p *profile, t model.Traits, st model.State, prop propFunc) []Property {
	th := t.Thermostat
	if th == nil || st.Thermostat == nil {
		return nil
	}
	var out []Property
	ts := st.Thermostat
	s := p.thermostatScale(th)
	if v := thermostatModeValue(ts.Mode); v != "" && th.SupportsMode(ts.Mode) {
		out = append(out, prop(nsMode, InstanceThermostatMode, "mode", v))
	}
	if th.TargetSetpoint && ts.Target != nil {
		out = append(out, prop(nsRange, InstanceTargetSetpoint, "rangeValue", reportTemp(*ts.Target, s)))
	}
	if th.DualSetpoints && ts.Lower != nil {
		out = append(out, prop(nsRange, InstanceLowerSetpoint, "rangeValue", reportTemp(*ts.Lower, s)))
	}
	if th.DualSetpoints && ts.Upper != nil {
		out = append(out, prop(nsRange, InstanceUpperSetpoint, "rangeValue", reportTemp(*ts.Upper, s)))
	}
	return out
}

// avsDecodeThermostat decodes the setpoint ranges and the mode of the avs profile.
func avsDecodeThermostat(p *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
	th := t.Thermostat
	if th == nil {
		return Intent{}, false, nil
	}
	switch inst := d.Header.Instance; d.Header.Namespace {
	case nsRange:
		if inst == InstanceTargetSetpoint && th.TargetSetpoint ||
			(inst == InstanceLowerSetpoint || inst == InstanceUpperSetpoint) && th.DualSetpoints {
			in, err := p.decodeSetpoint(d, th, st)
			return in, true, err
		}
	case nsMode:
		if inst != InstanceThermostatMode || !slices.ContainsFunc(thermostatModeValues, func(mv thermostatModeEntry) bool {
			return th.SupportsMode(mv.mode)
		}) {
			break
		}
		v, err := decodeMode(d, "", nil, false)
		if err != nil {
			return Intent{}, true, err
		}
		for _, mv := range thermostatModeValues {
			if mv.value == v {
				return Intent{Command: model.SetThermostat(model.ThermostatState{Mode: mv.mode})}, true, nil
			}
		}
		return Intent{}, true, model.Errorf(model.ErrUnsupportedThermostatMode, "%s has no value %q", InstanceThermostatMode, v)
	}
	return Intent{}, false, nil
}

// decodeSetpoint decodes Set/AdjustRangeValue of a thermostat setpoint; the
// value is in the thermostat's scale and becomes °C.
func (p *profile) decodeSetpoint(d *Directive, th *model.Thermostat, st model.State) (Intent, error) {
	s := p.thermostatScale(th)
	spec := setpointSpec(th, s)
	var curC *float64
	if ts := st.Thermostat; ts != nil {
		switch d.Header.Instance {
		case InstanceTargetSetpoint:
			curC = ts.Target
		case InstanceLowerSetpoint:
			curC = ts.Lower
		case InstanceUpperSetpoint:
			curC = ts.Upper
		}
		if ts.Mode == model.ModeOff && d.Header.Name == "AdjustRangeValue" {
			return Intent{}, model.Errorf(model.ErrThermostatIsOff, "the thermostat is off")
		}
	}
	var cur *float64
	if curC != nil {
		cur = model.Ptr(FromCelsius(*curC, s))
	}
	v, err := decodeRange(d, cur, spec)
	if err != nil {
		return Intent{}, err
	}
	c := inputTemp(v, s)
	var cmd model.ThermostatState
	switch d.Header.Instance {
	case InstanceTargetSetpoint:
		cmd.Target = &c
	case InstanceLowerSetpoint:
		cmd.Lower = &c
	case InstanceUpperSetpoint:
		cmd.Upper = &c
	}
	return Intent{Command: model.SetThermostat(cmd), Scale: string(s)}, nil
}

// thermostatConfig is the ThermostatController configuration.
type thermostatConfig struct {
	SupportedModes     []string `json:"supportedModes,omitempty"`
	SupportsScheduling bool     `json:"supportsScheduling"`
}

var alexaThermostatModes = []model.ThermostatMode{model.ModeAuto, model.ModeCool, model.ModeHeat, model.ModeEco, model.ModeOff}

func smartHomeThermostatCaps(_ *profile, t model.Traits) ([]capability, error) {
	th := t.Thermostat
	if th == nil {
		return nil, nil
	}
	if err := checkThermostat(th); err != nil {
		return nil, err
	}
	var props []string
	if th.TargetSetpoint {
		props = append(props, "targetSetpoint")
	}
	if th.DualSetpoints {
		props = append(props, "lowerSetpoint", "upperSetpoint")
	}
	cfg := thermostatConfig{}
	for _, m := range alexaThermostatModes {
		if th.SupportsMode(m) {
			cfg.SupportedModes = append(cfg.SupportedModes, string(m))
		}
	}
	if len(cfg.SupportedModes) > 0 {
		props = append(props, "thermostatMode")
	}
	if len(props) == 0 {
		return nil, fmt.Errorf("thermostat has neither modes nor setpoints")
	}
	c := iface(nsThermostat, "", props...)
	c.Configuration = cfg
	return []capability{c}, nil
}

func smartHomeThermostatProps(p *profile, t model.Traits, st model.State, prop propFunc) []Property {
	th := t.Thermostat
	if th == nil || st.Thermostat == nil {
		return nil
	}
	var out []Property
	ts := st.Thermostat
	sc := p.thermostatScale(th)
	if slices.Contains(alexaThermostatModes, ts.Mode) && th.SupportsMode(ts.Mode) {
		out = append(out, prop(nsThermostat, "", "thermostatMode", string(ts.Mode)))
	}
	for _, sp := range []struct {
		ok   bool
		v    *float64
		name string
	}{{th.TargetSetpoint, ts.Target, "targetSetpoint"}, {th.DualSetpoints, ts.Lower, "lowerSetpoint"}, {th.DualSetpoints, ts.Upper, "upperSetpoint"}} {
		if sp.ok && sp.v != nil && !math.IsNaN(*sp.v) {
			out = append(out, prop(nsThermostat, "", sp.name, temperatureProp{reportTemp(*sp.v, sc), string(sc)}))
		}
	}
	return out
}

// temperatureValue is Alexa's {"value":…, "scale":…}.
type temperatureValue struct {
	Value *float64 `json:"value"`
	Scale string   `json:"scale"`
}

func (tv *temperatureValue) parse(d *Directive, field string) (float64, Scale, error) {
	if tv.Value == nil {
		return 0, "", missing(d, field+".value")
	}
	s, err := ParseScale(tv.Scale)
	if err != nil {
		return 0, "", model.Errorf(model.ErrInvalidValue, "%s.%s: %s: %v", d.Header.Namespace, d.Header.Name, field, err)
	}
	return *tv.Value, s, nil
}

func decodeThermostat(d *Directive, th *model.Thermostat, st model.State) (Intent, error) {
	switch d.Header.Name {
	case "SetTargetTemperature":
		var pl struct {
			Target *temperatureValue `json:"targetSetpoint"`
			Lower  *temperatureValue `json:"lowerSetpoint"`
			Upper  *temperatureValue `json:"upperSetpoint"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return Intent{}, err
		}
		if pl.Target != nil && pl.Lower != nil && pl.Upper != nil {
			return Intent{}, model.Errorf(model.ErrTripleSetpointsUnsupported, "the thermostat does not take a target, a lower and an upper setpoint at once")
		}
		var cmd model.ThermostatState
		var scale Scale
		for _, f := range []struct {
			name string
			tv   *temperatureValue
			dst  **float64
		}{{"targetSetpoint", pl.Target, &cmd.Target}, {"lowerSetpoint", pl.Lower, &cmd.Lower}, {"upperSetpoint", pl.Upper, &cmd.Upper}} {
			if f.tv == nil {
				continue
			}
			v, s, err := f.tv.parse(d, f.name)
			if err != nil {
				return Intent{}, err
			}
			if scale == "" {
				scale = s
			}
			*f.dst = model.Ptr(inputTemp(v, s))
		}
		if scale == "" {
			return Intent{}, missing(d, "targetSetpoint, lowerSetpoint or upperSetpoint")
		}
		return Intent{Command: model.SetThermostat(cmd), Scale: string(scale)}, nil
	case "AdjustTargetTemperature":
		var pl struct {
			Delta *temperatureValue `json:"targetSetpointDelta"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return Intent{}, err
		}
		if pl.Delta == nil {
			return Intent{}, missing(d, "targetSetpointDelta")
		}
		v, s, err := pl.Delta.parse(d, "targetSetpointDelta")
		if err != nil {
			return Intent{}, err
		}
		cmd, err := adjustThermostat(d, th, st, IntervalToCelsius(v, s))
		if err != nil {
			return Intent{}, err
		}
		return Intent{Command: model.SetThermostat(cmd), Scale: string(s)}, nil
	case "SetThermostatMode":
		var pl struct {
			Mode *struct {
				Value      string `json:"value"`
				CustomName string `json:"customName"`
			} `json:"thermostatMode"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return Intent{}, err
		}
		if pl.Mode == nil || pl.Mode.Value == "" {
			return Intent{}, missing(d, "thermostatMode.value")
		}
		m := model.ThermostatMode(pl.Mode.Value)
		if !slices.Contains(alexaThermostatModes, m) {
			name := pl.Mode.Value
			if pl.Mode.CustomName != "" {
				name += " " + pl.Mode.CustomName
			}
			return Intent{}, model.Errorf(model.ErrUnsupportedThermostatMode, "the thermostat has no %s mode", model.Truncate(name, 64))
		}
		return Intent{Command: model.SetThermostat(model.ThermostatState{Mode: m})}, nil
	}
	return Intent{}, unsupported(d)
}
