package model

import (
	"fmt"
	"math"
)

// TraitKind names one trait.
type TraitKind string

// Trait kinds.
const (
	TraitOnOff             TraitKind = "on_off"
	TraitBrightness        TraitKind = "brightness"
	TraitColor             TraitKind = "color"
	TraitColorTemperature  TraitKind = "color_temperature"
	TraitLock              TraitKind = "lock"
	TraitThermostat        TraitKind = "thermostat"
	TraitTemperatureSensor TraitKind = "temperature_sensor"
	TraitToggle            TraitKind = "toggle"
	TraitRange             TraitKind = "range"
	TraitMode              TraitKind = "mode"
)

// Command is one absolute trait command: exactly the field of its Trait is set.
// Relative adjustments never reach a bridge: the hub resolves them first.
type Command struct {
	Trait    TraitKind `json:"trait"`
	Instance string    `json:"instance,omitempty"` // toggle, range and mode only

	Power            *bool            `json:"power,omitempty"`
	Brightness       *int             `json:"brightness,omitempty"`
	Color            *HSB             `json:"color,omitempty"`
	ColorTemperature *int             `json:"colorTemperature,omitempty"`
	Lock             LockState        `json:"lock,omitempty"`
	Thermostat       *ThermostatState `json:"thermostat,omitempty"`
	Toggle           *bool            `json:"toggle,omitempty"`
	Range            *float64         `json:"range,omitempty"`
	Mode             string           `json:"mode,omitempty"`
}

// SetPower turns an on_off endpoint on or off.
func SetPower(on bool) Command { return Command{Trait: TraitOnOff, Power: &on} }

// SetBrightness sets the brightness level (0–100).
func SetBrightness(level int) Command { return Command{Trait: TraitBrightness, Brightness: &level} }

// SetColor sets the colour.
func SetColor(c HSB) Command { return Command{Trait: TraitColor, Color: &c} }

// SetColorTemperature sets the colour temperature in kelvin.
func SetColorTemperature(kelvin int) Command {
	return Command{Trait: TraitColorTemperature, ColorTemperature: &kelvin}
}

// SetLock locks or unlocks.
func SetLock(s LockState) Command { return Command{Trait: TraitLock, Lock: s} }

// SetThermostat changes a thermostat's mode and/or setpoints (°C).
func SetThermostat(t ThermostatState) Command { return Command{Trait: TraitThermostat, Thermostat: &t} }

// SetToggle turns a generic toggle on or off.
func SetToggle(instance string, on bool) Command {
	return Command{Trait: TraitToggle, Instance: instance, Toggle: &on}
}

// SetRange sets a generic range to a value.
func SetRange(instance string, v float64) Command {
	return Command{Trait: TraitRange, Instance: instance, Range: &v}
}

// SetMode sets a generic mode to one of its values.
func SetMode(instance, value string) Command {
	return Command{Trait: TraitMode, Instance: instance, Mode: value}
}

// String describes the command for logs.
func (c Command) String() string {
	switch c.Trait {
	case TraitOnOff:
		if c.Power != nil {
			return fmt.Sprintf("on_off=%t", *c.Power)
		}
	case TraitBrightness:
		if c.Brightness != nil {
			return fmt.Sprintf("brightness=%d", *c.Brightness)
		}
	case TraitColor:
		if c.Color != nil {
			return fmt.Sprintf("color=h%.1f/s%.3f/b%.3f", c.Color.Hue, c.Color.Saturation, c.Color.Brightness)
		}
	case TraitColorTemperature:
		if c.ColorTemperature != nil {
			return fmt.Sprintf("color_temperature=%dK", *c.ColorTemperature)
		}
	case TraitLock:
		return "lock=" + string(c.Lock)
	case TraitThermostat:
		if t := c.Thermostat; t != nil {
			s := "thermostat"
			if t.Mode != "" {
				s += " mode=" + string(t.Mode)
			}
			for _, p := range []struct {
				n string
				v *float64
			}{{"target", t.Target}, {"lower", t.Lower}, {"upper", t.Upper}} {
				if p.v != nil {
					s += fmt.Sprintf(" %s=%gC", p.n, *p.v)
				}
			}
			return s
		}
	case TraitToggle:
		if c.Toggle != nil {
			return fmt.Sprintf("toggle[%s]=%t", c.Instance, *c.Toggle)
		}
	case TraitRange:
		if c.Range != nil {
			return fmt.Sprintf("range[%s]=%g", c.Instance, *c.Range)
		}
	case TraitMode:
		return fmt.Sprintf("mode[%s]=%s", c.Instance, c.Mode)
	}
	return fmt.Sprintf("invalid command (trait %q)", string(c.Trait))
}

// Validate checks the command against the endpoint's traits and their
// configuration, and against the current state where the rule needs it (a
// thermostat that is off takes no setpoint). It returns an *Error whose Kind
// says what is wrong, or nil.
func (c Command) Validate(t Traits, current State) error {
	switch c.Trait {
	case TraitOnOff:
		if t.OnOff == nil {
			return notSupported(c)
		}
		if c.Power == nil {
			return invalid(c, "power is missing")
		}
	case TraitBrightness:
		if t.Brightness == nil {
			return notSupported(c)
		}
		if c.Brightness == nil {
			return invalid(c, "brightness is missing")
		}
		if *c.Brightness < 0 || *c.Brightness > 100 {
			return OutOfRange(fmt.Sprintf("brightness %d is outside 0–100", *c.Brightness), 0, 100)
		}
	case TraitColor:
		if t.Color == nil {
			return notSupported(c)
		}
		if c.Color == nil {
			return invalid(c, "color is missing")
		}
		h := *c.Color
		if h.Hue < 0 || h.Hue > 360 || h.Saturation < 0 || h.Saturation > 1 || h.Brightness < 0 || h.Brightness > 1 ||
			math.IsNaN(h.Hue) || math.IsNaN(h.Saturation) || math.IsNaN(h.Brightness) {
			return &Error{Kind: ErrInvalidValue, Message: "color must have hue 0–360 and saturation and brightness 0–1"}
		}
	case TraitColorTemperature:
		ct := t.ColorTemperature
		if ct == nil {
			return notSupported(c)
		}
		if c.ColorTemperature == nil {
			return invalid(c, "colour temperature is missing")
		}
		if k := *c.ColorTemperature; k < ct.MinKelvin || k > ct.MaxKelvin {
			return OutOfRange(fmt.Sprintf("colour temperature %d K is outside %d–%d K", k, ct.MinKelvin, ct.MaxKelvin),
				float64(ct.MinKelvin), float64(ct.MaxKelvin))
		}
	case TraitLock:
		if t.Lock == nil {
			return notSupported(c)
		}
		if c.Lock != Locked && c.Lock != Unlocked {
			return invalid(c, "lock must be LOCKED or UNLOCKED")
		}
	case TraitThermostat:
		return c.validateThermostat(t.Thermostat, current)
	case TraitToggle:
		tg := findToggle(t.Toggles, c.Instance)
		if tg == nil || tg.NonControllable {
			return notSupported(c)
		}
		if c.Toggle == nil {
			return invalid(c, "toggle value is missing")
		}
	case TraitRange:
		r := findRange(t.Ranges, c.Instance)
		if r == nil || r.NonControllable {
			return notSupported(c)
		}
		if c.Range == nil || math.IsNaN(*c.Range) {
			return invalid(c, "range value is missing")
		}
		if *c.Range < r.Min || *c.Range > r.Max {
			return OutOfRange(fmt.Sprintf("%s %g is outside %g–%g", c.Instance, *c.Range, r.Min, r.Max), r.Min, r.Max)
		}
	case TraitMode:
		m := findMode(t.Modes, c.Instance)
		if m == nil || m.NonControllable {
			return notSupported(c)
		}
		ok := false
		for _, v := range m.Values {
			ok = ok || v.Value == c.Mode
		}
		if !ok {
			return &Error{Kind: ErrInvalidValue, Message: fmt.Sprintf("%s has no mode %q", c.Instance, c.Mode)}
		}
	default:
		return invalid(c, "unknown trait")
	}
	return nil
}

func (c Command) validateThermostat(th *Thermostat, current State) error {
	if th == nil {
		return notSupported(c)
	}
	ts := c.Thermostat
	if ts == nil || (ts.Mode == "" && ts.Target == nil && ts.Lower == nil && ts.Upper == nil) {
		return invalid(c, "thermostat command sets nothing")
	}
	if ts.Mode != "" && !th.SupportsMode(ts.Mode) {
		return &Error{Kind: ErrUnsupportedThermostatMode, Message: fmt.Sprintf("the thermostat has no %s mode", ts.Mode)}
	}
	hasSetpoint := ts.Target != nil || ts.Lower != nil || ts.Upper != nil
	if !hasSetpoint {
		return nil
	}
	mode := ts.Mode
	if mode == "" && current.Thermostat != nil {
		mode = current.Thermostat.Mode
	}
	if mode == ModeOff {
		return &Error{Kind: ErrThermostatIsOff, Message: "the thermostat is off"}
	}
	if ts.Target != nil && ts.Lower != nil && ts.Upper != nil {
		return &Error{Kind: ErrTripleSetpointsUnsupported, Message: "the thermostat does not take three setpoints"}
	}
	if ts.Target != nil && !th.TargetSetpoint {
		return &Error{Kind: ErrInvalidValue, Message: "the thermostat takes a lower and an upper setpoint, not a target"}
	}
	if (ts.Lower != nil || ts.Upper != nil) && !th.DualSetpoints {
		return &Error{Kind: ErrDualSetpointsUnsupported, Message: "the thermostat does not take dual setpoints"}
	}
	for _, v := range []*float64{ts.Target, ts.Lower, ts.Upper} {
		if v == nil {
			continue
		}
		if math.IsNaN(*v) || *v < th.MinC || *v > th.MaxC {
			return &Error{Kind: ErrTemperatureOutOfRange, Message: fmt.Sprintf("%g °C is outside %g–%g °C", *v, th.MinC, th.MaxC),
				Min: th.MinC, Max: th.MaxC}
		}
	}
	lower, upper := ts.Lower, ts.Upper
	if current.Thermostat != nil {
		if lower == nil && upper != nil {
			lower = current.Thermostat.Lower
		}
		if upper == nil && lower != nil {
			upper = current.Thermostat.Upper
		}
	}
	if lower != nil && upper != nil {
		if *upper < *lower || *upper-*lower < th.MinDeltaC-1e-9 {
			return &Error{Kind: ErrSetpointsTooClose,
				Message:  fmt.Sprintf("setpoints %g and %g °C must be at least %g °C apart", *lower, *upper, th.MinDeltaC),
				MinDelta: th.MinDeltaC}
		}
	}
	return nil
}

// Apply returns s with the command's effect: what the device state should be once
// the command is done. A command without its value changes nothing.
func (c Command) Apply(s State) State {
	s = s.Clone()
	switch c.Trait {
	case TraitOnOff:
		if c.Power != nil {
			s.On = cloneP(c.Power)
		}
	case TraitBrightness:
		if c.Brightness != nil {
			s.Brightness = cloneP(c.Brightness)
		}
	case TraitColor:
		if c.Color != nil {
			s.Color = cloneP(c.Color)
		}
	case TraitColorTemperature:
		if c.ColorTemperature != nil {
			s.ColorTemperature = cloneP(c.ColorTemperature)
		}
	case TraitLock:
		if c.Lock != "" {
			s.Lock = c.Lock
		}
	case TraitThermostat:
		if c.Thermostat != nil {
			s.Thermostat = s.Thermostat.merge(c.Thermostat)
		}
	case TraitToggle:
		if c.Toggle != nil {
			if s.Toggles == nil {
				s.Toggles = map[string]bool{}
			}
			s.Toggles[c.Instance] = *c.Toggle
		}
	case TraitRange:
		if c.Range != nil {
			if s.Ranges == nil {
				s.Ranges = map[string]float64{}
			}
			s.Ranges[c.Instance] = *c.Range
		}
	case TraitMode:
		if c.Mode != "" {
			if s.Modes == nil {
				s.Modes = map[string]string{}
			}
			s.Modes[c.Instance] = c.Mode
		}
	}
	return s
}

func notSupported(c Command) error {
	return &Error{Kind: ErrNotSupported, Message: fmt.Sprintf("the endpoint has no %s trait%s", c.Trait, instanceSuffix(c.Instance))}
}

func invalid(c Command, msg string) error {
	return &Error{Kind: ErrInvalidValue, Message: fmt.Sprintf("%s%s: %s", c.Trait, instanceSuffix(c.Instance), msg)}
}

func instanceSuffix(instance string) string {
	if instance == "" {
		return ""
	}
	return " " + instance
}

func findToggle(ts []Toggle, instance string) *Toggle {
	for i := range ts {
		if ts[i].Instance == instance {
			return &ts[i]
		}
	}
	return nil
}

func findRange(rs []Range, instance string) *Range {
	for i := range rs {
		if rs[i].Instance == instance {
			return &rs[i]
		}
	}
	return nil
}

func findMode(ms []Mode, instance string) *Mode {
	for i := range ms {
		if ms[i].Instance == instance {
			return &ms[i]
		}
	}
	return nil
}

// Toggle returns the toggle trait with that instance name, or nil.
func (t Traits) Toggle(instance string) *Toggle { return findToggle(t.Toggles, instance) }

// Range returns the range trait with that instance name, or nil.
func (t Traits) Range(instance string) *Range { return findRange(t.Ranges, instance) }

// Mode returns the mode trait with that instance name, or nil.
func (t Traits) Mode(instance string) *Mode { return findMode(t.Modes, instance) }
