package alexa

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/avshub/avshub/discovery/model"
)

// Interface namespaces.
const (
	nsAlexa            = "Alexa"
	nsPower            = "Alexa.PowerController"
	nsToggle           = "Alexa.ToggleController"
	nsRange            = "Alexa.RangeController"
	nsMode             = "Alexa.ModeController"
	nsBrightness       = "Alexa.BrightnessController"
	nsColor            = "Alexa.ColorController"
	nsColorTemperature = "Alexa.ColorTemperatureController"
	nsLock             = "Alexa.LockController"
	nsThermostat       = "Alexa.ThermostatController"
	nsTemperature      = "Alexa.TemperatureSensor"
	nsHealth           = "Alexa.EndpointHealth"
)

type rangeConfig struct {
	SupportedRange supportedRange `json:"supportedRange"`
	UnitOfMeasure  string         `json:"unitOfMeasure,omitempty"`
	Presets        []rangePreset  `json:"presets,omitempty"`
}

type supportedRange struct {
	Min       float64 `json:"minimumValue"`
	Max       float64 `json:"maximumValue"`
	Precision float64 `json:"precision"`
}

type rangePreset struct {
	RangeValue      float64   `json:"rangeValue"`
	PresetResources resources `json:"presetResources"`
}

type modeConfig struct {
	Ordered        bool        `json:"ordered"`
	SupportedModes []modeValue `json:"supportedModes"`
}

type modeValue struct {
	Value         string    `json:"value"`
	ModeResources resources `json:"modeResources"`
}

// rangeSpec is a range as the decoder needs it.
type rangeSpec struct {
	min, max, precision float64
	// step is the adjustment used when Alexa chose the amount
	// (rangeValueDeltaDefault); 0 means a tenth of the range.
	step float64
}

func precisionOr1(p float64) float64 {
	if p <= 0 || math.IsNaN(p) {
		return 1
	}
	return p
}

// toggleCap renders a ToggleController.
func (p *profile) toggleCap(instance string, names []label, nonControllable bool) capability {
	c := iface(nsToggle, instance, "toggleState")
	c.Properties.NonControllable = nonControllable
	c.CapabilityResources = &resources{names}
	return c
}

// rangeCap renders a RangeController.
func rangeCap(instance string, names []label, cfg rangeConfig, nonControllable bool) capability {
	c := iface(nsRange, instance, "rangeValue")
	c.Properties.NonControllable = nonControllable
	c.CapabilityResources = &resources{names}
	c.Configuration = cfg
	return c
}

// modeCap renders a ModeController.
func modeCap(instance string, names []label, cfg modeConfig, nonControllable bool) capability {
	c := iface(nsMode, instance, "mode")
	c.Properties.NonControllable = nonControllable
	c.CapabilityResources = &resources{names}
	c.Configuration = cfg
	return c
}

// checkGeneric refuses generic traits Alexa would reject: an empty instance,
// a range whose minimum exceeds its maximum or with a preset outside it, a mode
// without values or with a value twice.
func checkGeneric(t model.Traits) error {
	for _, tg := range t.Toggles {
		if tg.Instance == "" {
			return fmt.Errorf("toggle without an instance name")
		}
	}
	for _, r := range t.Ranges {
		switch {
		case r.Instance == "":
			return fmt.Errorf("range without an instance name")
		case !(r.Min <= r.Max):
			return fmt.Errorf("range %s: minimum %g is above maximum %g", r.Instance, r.Min, r.Max)
		}
		for _, pr := range r.Presets {
			if pr.Value < r.Min || pr.Value > r.Max {
				return fmt.Errorf("range %s: preset %g is outside %g–%g", r.Instance, pr.Value, r.Min, r.Max)
			}
		}
	}
	for _, m := range t.Modes {
		if m.Instance == "" || len(m.Values) == 0 {
			return fmt.Errorf("mode %q needs an instance name and at least one value", m.Instance)
		}
		seen := map[string]bool{}
		for _, v := range m.Values {
			if v.Value == "" || seen[v.Value] {
				return fmt.Errorf("mode %s: value %q is empty or repeated", m.Instance, v.Value)
			}
			seen[v.Value] = true
		}
	}
	return nil
}

// genericCaps renders the generic toggles, ranges and modes of t.
func (p *profile) genericCaps(t model.Traits) []capability {
	var caps []capability
	for _, tg := range t.Toggles {
		caps = append(caps, p.toggleCap(tg.Instance, p.genericNames(tg.Names, tg.Instance), tg.NonControllable))
	}
	for _, r := range t.Ranges {
		cfg := rangeConfig{
			SupportedRange: supportedRange{Min: r.Min, Max: r.Max, Precision: precisionOr1(r.Precision)},
			UnitOfMeasure:  r.Unit,
		}
		for _, pr := range r.Presets {
			cfg.Presets = append(cfg.Presets, rangePreset{RangeValue: pr.Value,
				PresetResources: resources{p.genericNames(pr.Names, fmt.Sprint(pr.Value))}})
		}
		caps = append(caps, rangeCap(r.Instance, p.genericNames(r.Names, r.Instance), cfg, r.NonControllable))
	}
	for _, m := range t.Modes {
		cfg := modeConfig{Ordered: m.Ordered}
		for _, v := range m.Values {
			cfg.SupportedModes = append(cfg.SupportedModes, modeValue{Value: v.Value,
				ModeResources: resources{p.genericNames(v.Names, v.Value)}})
		}
		caps = append(caps, modeCap(m.Instance, p.genericNames(m.Names, m.Instance), cfg, m.NonControllable))
	}
	return caps
}

// genericProperties reports the generic traits' state.
func genericProperties(t model.Traits, st model.State, prop func(ns, instance, name string, v any) Property) []Property {
	var out []Property
	for _, tg := range t.Toggles {
		if v, ok := st.Toggles[tg.Instance]; ok {
			out = append(out, prop(nsToggle, tg.Instance, "toggleState", onOff(v)))
		}
	}
	for _, r := range t.Ranges {
		if v, ok := st.Ranges[r.Instance]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, prop(nsRange, r.Instance, "rangeValue", v))
		}
	}
	for _, m := range t.Modes {
		if v, ok := st.Modes[m.Instance]; ok && v != "" {
			out = append(out, prop(nsMode, m.Instance, "mode", v))
		}
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}

// decodeGeneric decodes a Toggle/Range/ModeController directive for one of
// the endpoint's generic traits.
func decodeGeneric(d *Directive, t model.Traits, st model.State) (Intent, error) {
	h := d.Header
	inst := h.Instance
	switch h.Namespace {
	case nsToggle:
		tg := t.Toggle(inst)
		if tg == nil {
			return Intent{}, unknownInstance(d)
		}
		on, err := decodeTurn(d)
		if err != nil {
			return Intent{}, err
		}
		return Intent{Command: model.SetToggle(inst, on)}, nil
	case nsRange:
		r := t.Range(inst)
		if r == nil {
			return Intent{}, unknownInstance(d)
		}
		cur, ok := st.Ranges[inst]
		var curP *float64
		if ok {
			curP = &cur
		}
		v, err := decodeRange(d, curP, rangeSpec{min: r.Min, max: r.Max, precision: precisionOr1(r.Precision)})
		if err != nil {
			return Intent{}, err
		}
		return Intent{Command: model.SetRange(inst, v)}, nil
	case nsMode:
		m := t.Mode(inst)
		if m == nil {
			return Intent{}, unknownInstance(d)
		}
		values := make([]string, len(m.Values))
		for i, v := range m.Values {
			values[i] = v.Value
		}
		v, err := decodeMode(d, st.Modes[inst], values, m.Ordered)
		if err != nil {
			return Intent{}, err
		}
		return Intent{Command: model.SetMode(inst, v)}, nil
	}
	return Intent{}, unsupported(d)
}

// decodeCommon decodes what both profiles express alike: no directive,
// Alexa.ReportState and Alexa.PowerController (for an endpoint with OnOff).
// done is false when the profile must decode d itself.
func decodeCommon(d *Directive, t model.Traits) (in Intent, done bool, err error) {
	switch {
	case d == nil:
		return Intent{}, true, model.Errorf(model.ErrNotSupported, "no directive")
	case d.IsReportState():
		return Intent{ReportState: true}, true, nil
	case d.Header.Namespace == nsPower && t.OnOff != nil:
		on, err := decodeTurn(d)
		if err != nil {
			return Intent{}, true, err
		}
		return Intent{Command: model.SetPower(on)}, true, nil
	}
	return Intent{}, false, nil
}

// decodeTurn decodes TurnOn/TurnOff.
func decodeTurn(d *Directive) (bool, error) {
	switch d.Header.Name {
	case "TurnOn":
		return true, nil
	case "TurnOff":
		return false, nil
	}
	return false, unsupported(d)
}

// decodeRange decodes SetRangeValue/AdjustRangeValue into an absolute value.
// An adjustment is resolved against cur, snapped to the precision grid and
// clamped to the range; with rangeValueDeltaDefault (Alexa chose the amount)
// the sign of the delta is kept and the amount is spec.step (a tenth of the
// range when 0, at least one precision step).
func decodeRange(d *Directive, cur *float64, spec rangeSpec) (float64, error) {
	switch d.Header.Name {
	case "SetRangeValue":
		var pl struct {
			RangeValue *float64 `json:"rangeValue"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return 0, err
		}
		if pl.RangeValue == nil {
			return 0, missing(d, "rangeValue")
		}
		return *pl.RangeValue, nil
	case "AdjustRangeValue":
		var pl struct {
			Delta   *float64 `json:"rangeValueDelta"`
			Default bool     `json:"rangeValueDeltaDefault"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return 0, err
		}
		if pl.Delta == nil {
			return 0, missing(d, "rangeValueDelta")
		}
		if cur == nil {
			return 0, unknownCurrent(d)
		}
		return adjustRange(*cur, *pl.Delta, pl.Default, spec), nil
	}
	return 0, unsupported(d)
}

// adjustRange resolves a relative range adjustment (see decodeRange).
func adjustRange(cur, delta float64, isDefault bool, spec rangeSpec) float64 {
	if isDefault && delta != 0 {
		step := spec.step
		if step <= 0 {
			step = (spec.max - spec.min) / 10
		}
		step = math.Max(step, precisionOr1(spec.precision))
		delta = math.Copysign(step, delta)
	}
	return snap(cur+delta, spec.min, spec.max, spec.precision)
}

// decodeMode decodes SetMode/AdjustMode into a mode value. AdjustMode needs an
// ordered mode; the index is clamped to the list.
func decodeMode(d *Directive, cur string, values []string, ordered bool) (string, error) {
	switch d.Header.Name {
	case "SetMode":
		var pl struct {
			Mode *string `json:"mode"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return "", err
		}
		if pl.Mode == nil || *pl.Mode == "" {
			return "", missing(d, "mode")
		}
		return *pl.Mode, nil
	case "AdjustMode":
		if !ordered {
			return "", model.Errorf(model.ErrNotSupported, "%s %s is not ordered; AdjustMode is not supported", d.Header.Namespace, d.Header.Instance)
		}
		var pl struct {
			Delta *float64 `json:"modeDelta"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return "", err
		}
		if pl.Delta == nil || *pl.Delta != math.Trunc(*pl.Delta) {
			return "", model.Errorf(model.ErrInvalidValue, "%s.AdjustMode: modeDelta must be a whole number", d.Header.Namespace)
		}
		i := slices.Index(values, cur)
		if i < 0 {
			return "", unknownCurrent(d)
		}
		return values[int(clamp(float64(i)+*pl.Delta, 0, float64(len(values)-1)))], nil
	}
	return "", unsupported(d)
}

// decodePayload unmarshals the directive's payload into v.
func decodePayload(d *Directive, v any) error {
	if err := json.Unmarshal(d.Payload, v); err != nil {
		return model.Errorf(model.ErrInvalidValue, "%s.%s: bad payload: %v", d.Header.Namespace, d.Header.Name, err)
	}
	return nil
}

func unsupported(d *Directive) error {
	return model.Errorf(model.ErrNotSupported, "directive %s.%s is not supported by this endpoint", d.Header.Namespace, d.Header.Name)
}

func unknownInstance(d *Directive) error {
	return model.Errorf(model.ErrNotSupported, "the endpoint has no %s instance %q", d.Header.Namespace, d.Header.Instance)
}

func missing(d *Directive, field string) error {
	return model.Errorf(model.ErrInvalidValue, "%s.%s: payload has no %s", d.Header.Namespace, d.Header.Name, field)
}

func unknownCurrent(d *Directive) error {
	what := d.Header.Namespace
	if d.Header.Instance != "" {
		what += " " + d.Header.Instance
	}
	return model.Errorf(model.ErrInvalidValue, "%s.%s: the current value of %s is unknown, so a relative change cannot be resolved; ask for an absolute value",
		d.Header.Namespace, d.Header.Name, what)
}

// toInt converts a decoded number to int, keeping out-of-range values out of
// range (for Validate to refuse) without overflowing.
func toInt(v float64) int {
	return int(math.Round(clamp(v, -1e9, 1e9)))
}

// currentBrightness is the level a relative brightness change starts from: 0
// for a light that is off (so "brighten" from off gives a dim light, as
// Amazon's BrightnessController test plan expects), else the known level.
func currentBrightness(st model.State) *float64 {
	if st.On != nil && !*st.On {
		return model.Ptr(0.0)
	}
	if st.Brightness == nil {
		return nil
	}
	return model.Ptr(float64(*st.Brightness))
}
