package model

import (
	"fmt"
	"math"
)

// The thermostat trait's hand-written part: command validation and its log form.

func (c Command) validateThermostat(t Traits, current State) error {
	th := t.Thermostat
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

func (c Command) describeThermostat() (string, bool) {
	t := c.Thermostat
	if t == nil {
		return "", false
	}
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
	return s, true
}
