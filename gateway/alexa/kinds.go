package alexa

import (
	"fmt"
	"math"

	"github.com/avshub/avshub/discovery/model"
)

// Instance names of the cover, sensor, fan and siren traits, the same in both
// profiles wherever Smart Home has no native interface. Decode maps a directive
// back to a trait by them, so they are part of what Alexa stores: never rename
// one. Generic toggles, ranges and modes must not reuse them.
const (
	// InstanceCoverPosition is a cover's RangeController (0 % closed – 100 % open),
	// the instance Amazon documents for blinds, with open/close semantics.
	InstanceCoverPosition = "Blind.Lift"
	// InstanceContact is a contact sensor's non-controllable ModeController (avs profile).
	InstanceContact = "Contact.State"
	// InstanceMotion is a motion sensor's non-controllable ModeController (avs profile).
	InstanceMotion = "Motion.State"
	// InstanceWaterLeak is a leak sensor's non-controllable ModeController.
	InstanceWaterLeak = "WaterLeak.State"
	// InstanceSmoke is a smoke sensor's non-controllable ModeController.
	InstanceSmoke = "Smoke.State"
	// InstanceGas is a gas or CO sensor's non-controllable ModeController.
	InstanceGas = "Gas.State"
	// InstanceTamper is a device's tamper switch, a non-controllable ModeController.
	InstanceTamper = "Tamper.State"
	// InstanceHumidity is the relative humidity, a non-controllable RangeController (%).
	InstanceHumidity = "Humidity.Current"
	// InstanceIlluminance is the illuminance, a non-controllable RangeController (lx).
	InstanceIlluminance = "Illuminance.Current"
	// InstancePower is the active power, a non-controllable RangeController (W).
	InstancePower = "Power.Current"
	// InstanceEnergy is the energy counted, a non-controllable RangeController (kWh).
	InstanceEnergy = "Energy.Total"
	// InstanceBattery is the battery level, a non-controllable RangeController (%).
	InstanceBattery = "Battery.Level"
	// InstanceFanSpeed is a fan's speed RangeController (0–100 %).
	InstanceFanSpeed = "Fan.Speed"
	// InstanceSiren is a siren's ToggleController.
	InstanceSiren = "Siren.Alarm"
)

// Smart Home sensor interfaces.
const (
	nsContactSensor = "Alexa.ContactSensor"
	nsMotionSensor  = "Alexa.MotionSensor"
)

// binarySensor is a read-only detected/clear trait rendered as a
// non-controllable ModeController with two values.
type binarySensor struct {
	instance       string
	name           textKey
	onValue, onKey textKey
	offValue       string
	offKey         textKey
	has            func(model.Traits) bool
	get            func(model.State) *bool
	// native is the Smart Home interface (property detectionState), or "".
	native string
}

func (b binarySensor) on() string { return string(b.onValue) }

var binarySensors = []binarySensor{
	{InstanceContact, txtContact, "Contact.Open", txtOpen, "Contact.Closed", txtClosed,
		func(t model.Traits) bool { return t.Contact != nil }, func(s model.State) *bool { return s.ContactOpen }, nsContactSensor},
	{InstanceMotion, txtMotion, "Motion.Detected", txtMotionDetected, "Motion.Clear", txtNoMotion,
		func(t model.Traits) bool { return t.Motion != nil }, func(s model.State) *bool { return s.Motion }, nsMotionSensor},
	{InstanceWaterLeak, txtWaterLeak, "WaterLeak.Detected", txtLeakDetected, "WaterLeak.Dry", txtDry,
		func(t model.Traits) bool { return t.WaterLeak != nil }, func(s model.State) *bool { return s.WaterLeak }, ""},
	{InstanceSmoke, txtSmoke, "Smoke.Detected", txtSmokeDetected, "Smoke.Clear", txtClear,
		func(t model.Traits) bool { return t.Smoke != nil }, func(s model.State) *bool { return s.Smoke }, ""},
	{InstanceGas, txtGas, "Gas.Detected", txtGasDetected, "Gas.Clear", txtClear,
		func(t model.Traits) bool { return t.Gas != nil }, func(s model.State) *bool { return s.Gas }, ""},
	{InstanceTamper, txtTamper, "Tamper.Detected", txtTampered, "Tamper.Clear", txtClear,
		func(t model.Traits) bool { return t.Tamper != nil }, func(s model.State) *bool { return s.Tamper }, ""},
}

// numericSensor is a read-only reading rendered as a non-controllable RangeController.
type numericSensor struct {
	instance            string
	name                textKey
	min, max, precision float64
	unit                string
	has                 func(model.Traits) bool
	get                 func(model.State) (float64, bool)
}

func fptr(p *float64) (float64, bool) {
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		return 0, false
	}
	return *p, true
}

var numericSensors = []numericSensor{
	{InstanceHumidity, txtHumidity, 0, 100, 1, unitPercent,
		func(t model.Traits) bool { return t.Humidity != nil }, func(s model.State) (float64, bool) { return fptr(s.Humidity) }},
	{InstanceIlluminance, txtIlluminance, 0, 200000, 1, "",
		func(t model.Traits) bool { return t.Illuminance != nil }, func(s model.State) (float64, bool) { return fptr(s.Illuminance) }},
	{InstancePower, txtPower, 0, 100000, 0.1, "",
		func(t model.Traits) bool { return t.Power != nil }, func(s model.State) (float64, bool) { return fptr(s.Watts) }},
	{InstanceEnergy, txtEnergy, 0, 10000000, 0.01, "",
		func(t model.Traits) bool { return t.Energy != nil }, func(s model.State) (float64, bool) { return fptr(s.EnergyKWh) }},
	{InstanceBattery, txtBattery, 0, 100, 1, unitPercent,
		func(t model.Traits) bool { return t.Battery != nil }, func(s model.State) (float64, bool) {
			if s.Battery == nil {
				return 0, false
			}
			return float64(*s.Battery), true
		}},
}

// assets returns one asset label per id.
func assets(ids ...string) []label {
	out := make([]label, len(ids))
	for i, id := range ids {
		out[i] = label{Type: "asset", Value: labelValue{AssetID: id}}
	}
	return out
}

// kindCaps renders the cover, sensor, fan and siren traits of t; native uses
// Smart Home's own sensor interfaces where they exist.
func (p *profile) kindCaps(t model.Traits, native bool) []capability {
	var caps []capability
	if t.Cover != nil {
		caps = append(caps, p.coverCap())
	}
	for _, b := range binarySensors {
		if !b.has(t) {
			continue
		}
		if native && b.native != "" {
			caps = append(caps, iface(b.native, "", "detectionState"))
			continue
		}
		caps = append(caps, modeCap(b.instance, p.builtinNames("", b.name), modeConfig{SupportedModes: []modeValue{
			{Value: b.on(), ModeResources: resources{p.builtinNames("", b.onKey)}},
			{Value: b.offValue, ModeResources: resources{p.builtinNames("", b.offKey)}},
		}}, true))
	}
	for _, n := range numericSensors {
		if n.has(t) {
			caps = append(caps, rangeCap(n.instance, p.builtinNames("", n.name), rangeConfig{
				SupportedRange: supportedRange{Min: n.min, Max: n.max, Precision: n.precision},
				UnitOfMeasure:  n.unit,
			}, true))
		}
	}
	if f := t.Fan; f != nil {
		cfg := rangeConfig{SupportedRange: supportedRange{Min: 0, Max: 100, Precision: 1}, UnitOfMeasure: unitPercent}
		for _, pr := range f.Presets {
			if pr.Value >= 0 && pr.Value <= 100 {
				cfg.Presets = append(cfg.Presets, rangePreset{RangeValue: pr.Value,
					PresetResources: resources{p.genericNames(pr.Names, fmt.Sprint(pr.Value))}})
			}
		}
		if len(cfg.Presets) == 0 {
			cfg.Presets = []rangePreset{
				{RangeValue: 100, PresetResources: resources{append(assets(assetValueMaximum, assetValueHigh), p.builtinNames("", txtHigh)...)}},
				{RangeValue: 66, PresetResources: resources{append(assets(assetValueMedium), p.builtinNames("", txtMedium)...)}},
				{RangeValue: 33, PresetResources: resources{append(assets(assetValueMinimum, assetValueLow), p.builtinNames("", txtLow)...)}},
			}
		}
		caps = append(caps, rangeCap(InstanceFanSpeed, p.builtinNames(assetSettingFanSpeed, txtFanSpeed), cfg, false))
	}
	if t.Siren != nil {
		caps = append(caps, p.toggleCap(InstanceSiren, p.builtinNames("", txtSiren), false))
	}
	return caps
}

// coverCap is the cover's RangeController as Amazon documents it for blinds:
// 0–100 %, presets open (100) and closed (0), "open"/"close" and
// "raise"/"lower" actions, and the closed/open states.
func (p *profile) coverCap() capability {
	c := rangeCap(InstanceCoverPosition, p.builtinNames(assetSettingOpening, txtPosition), rangeConfig{
		SupportedRange: supportedRange{Min: 0, Max: 100, Precision: 1},
		UnitOfMeasure:  unitPercent,
		Presets: []rangePreset{
			{RangeValue: 100, PresetResources: resources{append(assets(assetValueMaximum, assetValueOpen), p.builtinNames("", txtOpen)...)}},
			{RangeValue: 0, PresetResources: resources{append(assets(assetValueMinimum, assetValueClose), p.builtinNames("", txtClosed)...)}},
		},
	}, false)
	c.Semantics = &semantics{
		ActionMappings: []actionMapping{
			{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Close"},
				Directive: semanticCommand{Name: "SetRangeValue", Payload: map[string]any{"rangeValue": 0}}},
			{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Open"},
				Directive: semanticCommand{Name: "SetRangeValue", Payload: map[string]any{"rangeValue": 100}}},
			{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Lower"},
				Directive: semanticCommand{Name: "AdjustRangeValue", Payload: map[string]any{"rangeValueDelta": -10, "rangeValueDeltaDefault": false}}},
			{Type: "ActionsToDirective", Actions: []string{"Alexa.Actions.Raise"},
				Directive: semanticCommand{Name: "AdjustRangeValue", Payload: map[string]any{"rangeValueDelta": 10, "rangeValueDeltaDefault": false}}},
		},
		StateMappings: []stateMapping{
			{Type: "StatesToValue", States: []string{"Alexa.States.Closed"}, Value: 0},
			{Type: "StatesToRange", States: []string{"Alexa.States.Open"}, Range: &stateRange{Min: 1, Max: 100}},
		},
	}
	return c
}

// kindProperties reports the state of the cover, sensor, fan and siren traits.
func kindProperties(t model.Traits, st model.State, native bool, prop func(ns, instance, name string, v any) Property) []Property {
	var out []Property
	if t.Cover != nil && st.CoverPosition != nil {
		out = append(out, prop(nsRange, InstanceCoverPosition, "rangeValue", clamp(float64(*st.CoverPosition), 0, 100)))
	}
	for _, b := range binarySensors {
		v := b.get(st)
		if !b.has(t) || v == nil {
			continue
		}
		if native && b.native != "" {
			d := "NOT_DETECTED"
			if *v {
				d = "DETECTED"
			}
			out = append(out, prop(b.native, "", "detectionState", d))
			continue
		}
		m := b.offValue
		if *v {
			m = b.on()
		}
		out = append(out, prop(nsMode, b.instance, "mode", m))
	}
	for _, n := range numericSensors {
		if v, ok := n.get(st); ok && n.has(t) {
			out = append(out, prop(nsRange, n.instance, "rangeValue", clamp(v, n.min, n.max)))
		}
	}
	if t.Fan != nil && st.FanSpeed != nil {
		out = append(out, prop(nsRange, InstanceFanSpeed, "rangeValue", clamp(float64(*st.FanSpeed), 0, 100)))
	}
	if t.Siren != nil && st.Siren != nil {
		out = append(out, prop(nsToggle, InstanceSiren, "toggleState", onOff(*st.Siren)))
	}
	return out
}

// decodeKinds decodes the directives of the cover, fan and siren and refuses
// those of the read-only sensors; done is false when d is for none of them.
func decodeKinds(d *Directive, t model.Traits, st model.State) (in Intent, done bool, err error) {
	h := d.Header
	switch {
	case h.Namespace == nsRange && h.Instance == InstanceCoverPosition && t.Cover != nil:
		var cur *float64
		if st.CoverPosition != nil {
			cur = model.Ptr(float64(*st.CoverPosition))
		}
		v, err := decodeRange(d, cur, rangeSpec{min: 0, max: 100, precision: 1})
		if err != nil {
			return Intent{}, true, err
		}
		return Intent{Command: model.SetCoverPosition(toInt(v))}, true, nil
	case h.Namespace == nsRange && h.Instance == InstanceFanSpeed && t.Fan != nil:
		var cur *float64
		if st.FanSpeed != nil {
			cur = model.Ptr(float64(*st.FanSpeed))
		}
		v, err := decodeRange(d, cur, rangeSpec{min: 0, max: 100, precision: 1})
		if err != nil {
			return Intent{}, true, err
		}
		return Intent{Command: model.SetFanSpeed(toInt(v))}, true, nil
	case h.Namespace == nsToggle && h.Instance == InstanceSiren && t.Siren != nil:
		on, err := decodeTurn(d)
		if err != nil {
			return Intent{}, true, err
		}
		return Intent{Command: model.SetSiren(on)}, true, nil
	}
	for _, b := range binarySensors {
		if b.has(t) && (h.Instance == b.instance || h.Namespace == b.native) {
			return Intent{}, true, model.Errorf(model.ErrNotSupported, "%s is read-only", b.instance)
		}
	}
	for _, n := range numericSensors {
		if n.has(t) && h.Instance == n.instance {
			return Intent{}, true, model.Errorf(model.ErrNotSupported, "%s is read-only", n.instance)
		}
	}
	return Intent{}, false, nil
}
