package alexa

import (
	"encoding/json"
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

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}

// decodeCommon decodes what is no trait's: no directive and
// Alexa.ReportState. done is false when a trait must decode d.
func decodeCommon(d *Directive) (in Intent, done bool, err error) {
	switch {
	case d == nil:
		return Intent{}, true, model.Errorf(model.ErrNotSupported, "no directive")
	case d.IsReportState():
		return Intent{ReportState: true}, true, nil
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

// decodePercent decodes Set/AdjustRangeValue of a 0–100 % range whose
// current value is cur.
func decodePercent(d *Directive, cur *int) (int, error) {
	var c *float64
	if cur != nil {
		c = model.Ptr(float64(*cur))
	}
	v, err := decodeRange(d, c, rangeSpec{min: 0, max: 100, precision: 1})
	return toInt(v), err
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
