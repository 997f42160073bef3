package alexa

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// Instance names of the avs profile. Decode maps a directive back to a trait by
// them, so they are part of what Alexa stores: never rename one. Generic
// toggles, ranges and modes must not reuse them.
const (
	// InstanceBrightness is the brightness RangeController (0–100, Alexa.Unit.Percent).
	InstanceBrightness = "Light.Brightness"
	// InstanceColorTemperature is the colour-temperature RangeController (kelvin).
	InstanceColorTemperature = "Light.ColorTemperature"
	// InstanceColor is the colour ModeController (named colours, see README).
	InstanceColor = "Light.Color"
	// InstanceLock is the lock ModeController: Lock.Locked, Lock.Unlocked, Lock.Jammed.
	InstanceLock = "Lock.State"
	// InstanceThermostatMode is the thermostat-mode ModeController.
	InstanceThermostatMode = "Thermostat.Mode"
	// InstanceTargetSetpoint is the single-setpoint RangeController (thermostat scale).
	InstanceTargetSetpoint = "Thermostat.TargetSetpoint"
	// InstanceLowerSetpoint is the lower (heating) setpoint of a dual-setpoint thermostat.
	InstanceLowerSetpoint = "Thermostat.LowerSetpoint"
	// InstanceUpperSetpoint is the upper (cooling) setpoint of a dual-setpoint thermostat.
	InstanceUpperSetpoint = "Thermostat.UpperSetpoint"
	// InstanceCurrentTemperature is the non-controllable RangeController of the measured temperature.
	InstanceCurrentTemperature = "Temperature.Current"
)

// Mode values of InstanceLock.
const (
	LockValueLocked   = "Lock.Locked"
	LockValueUnlocked = "Lock.Unlocked"
	LockValueJammed   = "Lock.Jammed"
)

// Comfort and eco presets of the avs profile's target setpoint (°C), clamped
// to the thermostat's range.
const (
	PresetComfortC = 21.0
	PresetEcoC     = 17.0
)

// Units of measure used by the avs profile.
const (
	unitPercent    = "Alexa.Unit.Percent"
	unitKelvin     = "Alexa.Unit.Temperature.Kelvin"
	unitCelsius    = "Alexa.Unit.Temperature.Celsius"
	unitFahrenheit = "Alexa.Unit.Temperature.Fahrenheit"
)

// sensorRangeC bounds the current-temperature range of the avs profile.
const (
	sensorMinC = -40.0
	sensorMaxC = 100.0
)

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

// avsProfile renders traits with the interfaces AVS documents for connected
// endpoints only: Alexa, PowerController, ToggleController, RangeController
// and ModeController.
type avsProfile struct{ *profile }

// Endpoint renders ep with the avs profile's capabilities.
func (a *avsProfile) Endpoint(ep model.Endpoint) (json.RawMessage, error) {
	return a.renderEndpoint(a, ep)
}

// Proactive reports whether p is a declared property of ep (all are proactive).
func (a *avsProfile) Proactive(ep model.Endpoint, p Property) bool {
	return proactive(a.lite, ep, p)
}

func unitFor(s Scale) string {
	if s == Fahrenheit {
		return unitFahrenheit
	}
	return unitCelsius
}

func (a *avsProfile) capabilities(ep model.Endpoint) ([]capability, error) {
	t := ep.Traits
	caps := []capability{iface(nsAlexa, "")}
	if t.OnOff != nil {
		caps = append(caps, iface(nsPower, "", "powerState"))
	}
	if t.Brightness != nil {
		caps = append(caps, rangeCap(InstanceBrightness, a.builtinNames("", txtBrightness), rangeConfig{
			SupportedRange: supportedRange{Min: 0, Max: 100, Precision: 1},
			UnitOfMeasure:  unitPercent,
			Presets: []rangePreset{
				{RangeValue: 100, PresetResources: resources{a.builtinNames(assetValueMaximum)}},
				{RangeValue: 1, PresetResources: resources{a.builtinNames(assetValueMinimum)}},
			},
		}, false))
	}
	if ct := t.ColorTemperature; ct != nil {
		if ct.MinKelvin <= 0 || ct.MaxKelvin < ct.MinKelvin {
			return nil, fmt.Errorf("colour temperature range %d–%d K is invalid", ct.MinKelvin, ct.MaxKelvin)
		}
		cfg := rangeConfig{
			SupportedRange: supportedRange{Min: float64(ct.MinKelvin), Max: float64(ct.MaxKelvin), Precision: 1},
			UnitOfMeasure:  unitKelvin,
		}
		for _, pr := range []struct {
			k   int
			key textKey
		}{{2700, txtWarmWhite}, {3000, txtSoftWhite}, {4000, txtNeutralWhite}, {6500, txtDaylight}} {
			if pr.k >= ct.MinKelvin && pr.k <= ct.MaxKelvin {
				cfg.Presets = append(cfg.Presets, rangePreset{RangeValue: float64(pr.k), PresetResources: resources{a.builtinNames("", pr.key)}})
			}
		}
		caps = append(caps, rangeCap(InstanceColorTemperature, a.builtinNames("", txtColorTemperature), cfg, false))
	}
	if t.Color != nil {
		cfg := modeConfig{}
		for _, c := range namedColors {
			cfg.SupportedModes = append(cfg.SupportedModes, modeValue{Value: c.value, ModeResources: resources{a.builtinNames("", c.key)}})
		}
		caps = append(caps, modeCap(InstanceColor, a.builtinNames("", txtColor), cfg, false))
	}
	if t.Lock != nil {
		c := modeCap(InstanceLock, a.builtinNames("", txtLock), modeConfig{SupportedModes: []modeValue{
			{Value: LockValueLocked, ModeResources: resources{a.builtinNames("", txtLocked)}},
			{Value: LockValueUnlocked, ModeResources: resources{a.builtinNames("", txtUnlocked)}},
			{Value: LockValueJammed, ModeResources: resources{a.builtinNames("", txtJammed)}},
		}}, false)
		// "Close" locks; no action unlocks (unlocking by a generic "open" is
		// a security risk). States answer "is the door closed/open?".
		c.Semantics = &semantics{
			ActionMappings: []actionMapping{{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Close"},
				Directive: semanticCommand{Name: "SetMode", Payload: map[string]string{"mode": LockValueLocked}}}},
			StateMappings: []stateMapping{
				{Type: "StatesToValue", States: []string{"Alexa.States.Closed"}, Value: LockValueLocked},
				{Type: "StatesToValue", States: []string{"Alexa.States.Open"}, Value: LockValueUnlocked},
			},
		}
		caps = append(caps, c)
	}
	if th := t.Thermostat; th != nil {
		tc, err := a.thermostatCaps(th)
		if err != nil {
			return nil, err
		}
		caps = append(caps, tc...)
	}
	if t.TemperatureSensor != nil {
		s := a.sensorScale(t)
		lo, hi := FromCelsius(sensorMinC, s), FromCelsius(sensorMaxC, s)
		caps = append(caps, rangeCap(InstanceCurrentTemperature, a.builtinNames("", txtCurrentTemp), rangeConfig{
			SupportedRange: supportedRange{Min: lo, Max: hi, Precision: 0.1},
			UnitOfMeasure:  unitFor(s),
		}, true))
	}
	caps = append(caps, a.kindCaps(t, false)...)
	if err := checkGeneric(t); err != nil {
		return nil, err
	}
	caps = append(caps, a.genericCaps(t)...)
	if err := checkInstances(caps); err != nil {
		return nil, err
	}
	return caps, nil
}

func (a *avsProfile) thermostatCaps(th *model.Thermostat) ([]capability, error) {
	if th.MaxC < th.MinC || math.IsNaN(th.MinC) || math.IsNaN(th.MaxC) {
		return nil, fmt.Errorf("thermostat range %g–%g °C is invalid", th.MinC, th.MaxC)
	}
	if len(th.Modes) == 0 && !th.TargetSetpoint && !th.DualSetpoints {
		return nil, fmt.Errorf("thermostat has neither modes nor setpoints")
	}
	var caps []capability
	modes := modeConfig{}
	for _, mv := range thermostatModeValues {
		if th.SupportsMode(mv.mode) {
			modes.SupportedModes = append(modes.SupportedModes, modeValue{Value: mv.value, ModeResources: resources{a.builtinNames(mv.asset, mv.key)}})
		}
	}
	if len(modes.SupportedModes) > 0 {
		mc := modeCap(InstanceThermostatMode, a.builtinNames(assetSettingMode, txtThermostatMode), modes, false)
		mc.Semantics = ecoSemantics(th)
		caps = append(caps, mc)
	}
	s := a.thermostatScale(th)
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
					c.Presets = append(c.Presets, rangePreset{RangeValue: v, PresetResources: resources{a.builtinNames("", pr.key)}})
				}
			}
		}
		return c
	}
	if th.TargetSetpoint {
		rc := rangeCap(InstanceTargetSetpoint, a.builtinNames(assetSettingTemperature, txtTargetTemp), cfg(true), false)
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
			rangeCap(InstanceLowerSetpoint, a.builtinNames("", txtLowerTemp), cfg(false), false),
			rangeCap(InstanceUpperSetpoint, a.builtinNames("", txtUpperTemp), cfg(false), false))
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

// Decode maps avs-profile directives back to trait commands. It resolves
// relative adjustments but does not call model.Command.Validate: range and
// mode checks are the router's (it validates every command before a bridge
// sees it). Decode refuses what it cannot even express: unknown namespaces,
// names and instances (ErrNotSupported), malformed payloads and values that
// are not commands, such as Lock.Jammed (ErrInvalidValue).
func (a *avsProfile) Decode(d *Directive, ep model.Endpoint, st model.State) (Intent, error) {
	if in, done, err := decodeCommon(d, ep.Traits); done {
		return in, err
	}
	if in, done, err := decodeKinds(d, ep.Traits, st); done {
		return in, err
	}
	t := ep.Traits
	h := d.Header
	switch h.Namespace {
	case nsRange:
		return a.decodeRange(d, t, st)
	case nsMode:
		return a.decodeMode(d, t, st)
	case nsToggle:
		return decodeGeneric(d, t, st)
	}
	return Intent{}, unsupported(d)
}

func (a *avsProfile) decodeRange(d *Directive, t model.Traits, st model.State) (Intent, error) {
	switch inst := d.Header.Instance; {
	case inst == InstanceBrightness && t.Brightness != nil:
		v, err := decodeRange(d, currentBrightness(st), rangeSpec{min: 0, max: 100, precision: 1})
		if err != nil {
			return Intent{}, err
		}
		return Intent{Command: model.SetBrightness(toInt(v))}, nil
	case inst == InstanceColorTemperature && t.ColorTemperature != nil:
		ct := t.ColorTemperature
		var cur *float64
		if st.ColorTemperature != nil {
			cur = model.Ptr(float64(*st.ColorTemperature))
		}
		v, err := decodeRange(d, cur, rangeSpec{min: float64(ct.MinKelvin), max: float64(ct.MaxKelvin), precision: 1})
		if err != nil {
			return Intent{}, err
		}
		return Intent{Command: model.SetColorTemperature(toInt(v))}, nil
	case t.Thermostat != nil && (inst == InstanceTargetSetpoint && t.Thermostat.TargetSetpoint ||
		(inst == InstanceLowerSetpoint || inst == InstanceUpperSetpoint) && t.Thermostat.DualSetpoints):
		return a.decodeSetpoint(d, t.Thermostat, st)
	case inst == InstanceCurrentTemperature && t.TemperatureSensor != nil:
		return Intent{}, model.Errorf(model.ErrNotSupported, "%s is read-only", InstanceCurrentTemperature)
	}
	return decodeGeneric(d, t, st)
}

// decodeSetpoint decodes Set/AdjustRangeValue of a thermostat setpoint; the
// value is in the thermostat's scale and becomes °C.
func (a *avsProfile) decodeSetpoint(d *Directive, th *model.Thermostat, st model.State) (Intent, error) {
	s := a.thermostatScale(th)
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

func (a *avsProfile) decodeMode(d *Directive, t model.Traits, st model.State) (Intent, error) {
	inst := d.Header.Instance
	switch {
	case inst == InstanceColor && t.Color != nil:
		v, err := decodeMode(d, "", nil, false)
		if err != nil {
			return Intent{}, err
		}
		c, ok := colorByValue(v)
		if !ok {
			return Intent{}, model.Errorf(model.ErrInvalidValue, "%s has no colour %q", InstanceColor, v)
		}
		bri := 1.0
		if st.Color != nil && st.Color.Brightness > 0 {
			bri = st.Color.Brightness
		}
		return Intent{Command: model.SetColor(model.HSB{Hue: c.hue, Saturation: c.sat, Brightness: bri})}, nil
	case inst == InstanceLock && t.Lock != nil:
		v, err := decodeMode(d, "", nil, false)
		if err != nil {
			return Intent{}, err
		}
		switch v {
		case LockValueLocked:
			return Intent{Command: model.SetLock(model.Locked)}, nil
		case LockValueUnlocked:
			return Intent{Command: model.SetLock(model.Unlocked)}, nil
		case LockValueJammed:
			return Intent{}, model.Errorf(model.ErrInvalidValue, "%s is a state a lock reports, not one it can be set to", LockValueJammed)
		}
		return Intent{}, model.Errorf(model.ErrInvalidValue, "%s has no value %q", InstanceLock, v)
	case inst == InstanceThermostatMode && t.Thermostat != nil && slices.ContainsFunc(thermostatModeValues, func(mv thermostatModeEntry) bool {
		return t.Thermostat.SupportsMode(mv.mode)
	}):
		v, err := decodeMode(d, "", nil, false)
		if err != nil {
			return Intent{}, err
		}
		for _, mv := range thermostatModeValues {
			if mv.value == v {
				return Intent{Command: model.SetThermostat(model.ThermostatState{Mode: mv.mode})}, nil
			}
		}
		return Intent{}, model.Errorf(model.ErrUnsupportedThermostatMode, "%s has no value %q", InstanceThermostatMode, v)
	}
	return decodeGeneric(d, t, st)
}

// Properties reports the state of every declared trait; unknown state is left
// out. Temperatures are in the thermostat's (or the profile's) scale.
func (a *avsProfile) Properties(ep model.Endpoint, st model.State, reachable bool, at time.Time) []Property {
	t := ep.Traits
	prop := func(ns, instance, name string, v any) Property {
		return Property{Namespace: ns, Instance: instance, Name: name, Value: v, TimeOfSample: at}
	}
	var out []Property
	if t.OnOff != nil && st.On != nil {
		out = append(out, prop(nsPower, "", "powerState", onOff(*st.On)))
	}
	if t.Brightness != nil && st.Brightness != nil {
		out = append(out, prop(nsRange, InstanceBrightness, "rangeValue", float64(*st.Brightness)))
	}
	if t.ColorTemperature != nil && st.ColorTemperature != nil {
		out = append(out, prop(nsRange, InstanceColorTemperature, "rangeValue", float64(*st.ColorTemperature)))
	}
	if t.Color != nil && st.Color != nil {
		out = append(out, prop(nsMode, InstanceColor, "mode", nearestColor(*st.Color).value))
	}
	if t.Lock != nil && st.Lock != "" {
		v := map[model.LockState]string{model.Locked: LockValueLocked, model.Unlocked: LockValueUnlocked, model.Jammed: LockValueJammed}[st.Lock]
		if v != "" {
			out = append(out, prop(nsMode, InstanceLock, "mode", v))
		}
	}
	if th := t.Thermostat; th != nil && st.Thermostat != nil {
		ts := st.Thermostat
		s := a.thermostatScale(th)
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
	}
	if t.TemperatureSensor != nil && st.Temperature != nil && !math.IsNaN(*st.Temperature) {
		out = append(out, prop(nsRange, InstanceCurrentTemperature, "rangeValue", reportTemp(*st.Temperature, a.sensorScale(t))))
	}
	out = append(out, kindProperties(t, st, false, prop)...)
	return append(out, genericProperties(t, st, prop)...)
}
