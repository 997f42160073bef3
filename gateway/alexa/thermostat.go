package alexa

import (
	"math"

	"github.com/avshub/avshub/discovery/model"
)

// thermostatScale is the scale a thermostat is shown in: its own Scale, else
// the profile's; KELVIN never (people do not set thermostats in kelvin).
func (p *profile) thermostatScale(th *model.Thermostat) Scale {
	if th != nil {
		switch Scale(th.Scale) {
		case Celsius, Fahrenheit:
			return Scale(th.Scale)
		}
	}
	return p.scale
}

// sensorScale is the scale an endpoint's temperature is reported in.
func (p *profile) sensorScale(t model.Traits) Scale {
	return p.thermostatScale(t.Thermostat)
}

// setpointSpec is the range of a thermostat setpoint in scale s: the device
// range converted, narrowed to whole precision steps so that every value Alexa
// may send is inside the device range. Precision is the device step in °C
// (0.5 when unset), or 1 °F.
func setpointSpec(th *model.Thermostat, s Scale) rangeSpec {
	prec := th.StepC
	if prec <= 0 {
		prec = 0.5
	}
	if s == Fahrenheit {
		prec = 1
	}
	lo := math.Ceil(round(FromCelsius(th.MinC, s)/prec, 6)) * prec
	hi := math.Floor(round(FromCelsius(th.MaxC, s)/prec, 6)) * prec
	if hi < lo {
		lo, hi = FromCelsius(th.MinC, s), FromCelsius(th.MaxC, s)
	}
	return rangeSpec{min: round(lo, 4), max: round(hi, 4), precision: prec, step: 1}
}

// reportTemp converts a °C state value to scale s for reporting (0.1 resolution).
func reportTemp(c float64, s Scale) float64 { return round(FromCelsius(c, s), 1) }

// inputTemp converts a temperature a directive gave in scale s to °C (0.01 resolution).
func inputTemp(v float64, s Scale) float64 { return round(ToCelsius(v, s), 2) }

// adjustThermostat resolves AdjustTargetTemperature (deltaC in °C) against the
// current state: a thermostat with dual setpoints in AUTO (or with dual only)
// shifts both setpoints by the same amount, limited so both stay in range;
// otherwise the target setpoint moves, clamped to the range.
func adjustThermostat(d *Directive, th *model.Thermostat, st model.State, deltaC float64) (model.ThermostatState, error) {
	cur := st.Thermostat
	if cur != nil && cur.Mode == model.ModeOff {
		return model.ThermostatState{}, model.Errorf(model.ErrThermostatIsOff, "the thermostat is off")
	}
	if cur == nil {
		return model.ThermostatState{}, unknownCurrent(d)
	}
	dual := th.DualSetpoints && (!th.TargetSetpoint || cur.Mode == model.ModeAuto)
	switch {
	case dual:
		if cur.Lower == nil || cur.Upper == nil {
			return model.ThermostatState{}, unknownCurrent(d)
		}
		lo, hi := th.MinC-*cur.Lower, th.MaxC-*cur.Upper
		delta := deltaC
		if lo <= hi {
			delta = clamp(deltaC, lo, hi)
		}
		l := round(clamp(*cur.Lower+delta, th.MinC, th.MaxC), 2)
		u := round(clamp(*cur.Upper+delta, th.MinC, th.MaxC), 2)
		return model.ThermostatState{Lower: &l, Upper: &u}, nil
	case th.TargetSetpoint:
		if cur.Target == nil {
			return model.ThermostatState{}, unknownCurrent(d)
		}
		t := round(clamp(*cur.Target+deltaC, th.MinC, th.MaxC), 2)
		return model.ThermostatState{Target: &t}, nil
	}
	return model.ThermostatState{}, unsupported(d)
}
