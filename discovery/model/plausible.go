package model

import (
	"fmt"
	"math"
	"slices"
)

// Plausible readings of the temperature_sensor trait, in °C. The trait declares
// no range of its own; anything outside this one is a sensor's "invalid" marker
// (Zigbee's 0x7FFF reads as 327.67 °C) or a decoding fault, never a room.
const (
	MinTemperatureC = -100.0
	MaxTemperatureC = 150.0
)

// CheckState checks every value of s against the range its trait declares in t
// (brightness 0–100, a colour's hue 0–360 and saturation/brightness 0–1, the
// colour-temperature and thermostat setpoint ranges, the thermostat's modes,
// lock states, plausible temperatures, each generic range's minimum and
// maximum, each generic mode's values and declared toggle instances). It
// returns s without the values that fail, and one description per dropped
// value; a value whose trait the endpoint does not have is left alone. The hub
// drops what it reports from every bridge, and the conformance kit fails a
// bridge that reports any.
func (t Traits) CheckState(s State) (State, []string) {
	var bad []string
	s = s.Clone()
	out := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	if s.Brightness != nil && t.Brightness != nil && (*s.Brightness < 0 || *s.Brightness > 100) {
		out("brightness %d is outside 0–100", *s.Brightness)
		s.Brightness = nil
	}
	if c := s.Color; c != nil && t.Color != nil && !(c.Hue >= 0 && c.Hue <= 360 && c.Saturation >= 0 && c.Saturation <= 1 &&
		c.Brightness >= 0 && c.Brightness <= 1) {
		out("color hue %g saturation %g brightness %g is outside hue 0–360 and saturation and brightness 0–1", c.Hue, c.Saturation, c.Brightness)
		s.Color = nil
	}
	if ct := t.ColorTemperature; s.ColorTemperature != nil && ct != nil && (*s.ColorTemperature < ct.MinKelvin || *s.ColorTemperature > ct.MaxKelvin) {
		out("colorTemperature %d K is outside %d–%d K", *s.ColorTemperature, ct.MinKelvin, ct.MaxKelvin)
		s.ColorTemperature = nil
	}
	if s.Lock != "" && t.Lock != nil && s.Lock != Locked && s.Lock != Unlocked && s.Lock != Jammed {
		out("lock %q is not LOCKED, UNLOCKED or JAMMED", s.Lock)
		s.Lock = ""
	}
	if s.Temperature != nil && (t.TemperatureSensor != nil || t.Thermostat != nil) &&
		!(*s.Temperature >= MinTemperatureC && *s.Temperature <= MaxTemperatureC) {
		out("temperature %g °C is outside the plausible %g–%g °C", *s.Temperature, MinTemperatureC, MaxTemperatureC)
		s.Temperature = nil
	}
	if th, ts := t.Thermostat, s.Thermostat; th != nil && ts != nil {
		if ts.Mode != "" && !th.SupportsMode(ts.Mode) {
			out("thermostat mode %s is not one of %v", ts.Mode, th.Modes)
			ts.Mode = ""
		}
		for _, p := range []struct {
			name string
			v    **float64
		}{{"target", &ts.Target}, {"lower", &ts.Lower}, {"upper", &ts.Upper}} {
			if *p.v != nil && !(**p.v >= th.MinC && **p.v <= th.MaxC) {
				out("thermostat %s setpoint %g °C is outside %g–%g °C", p.name, **p.v, th.MinC, th.MaxC)
				*p.v = nil
			}
		}
		if ts.Mode == "" && ts.Target == nil && ts.Lower == nil && ts.Upper == nil {
			s.Thermostat = nil
		}
	}
	for _, inst := range sortedKeys(s.Toggles) {
		if len(t.Toggles) > 0 && t.Toggle(inst) == nil {
			out("toggle %q is not declared", inst)
			delete(s.Toggles, inst)
		}
	}
	for _, inst := range sortedKeys(s.Ranges) {
		v := s.Ranges[inst]
		r := t.Range(inst)
		switch {
		case r == nil && len(t.Ranges) > 0:
			out("range %q is not declared", inst)
			delete(s.Ranges, inst)
		case r != nil && !(v >= r.Min && v <= r.Max):
			out("range %s %g is outside %g–%g", inst, v, r.Min, r.Max)
			delete(s.Ranges, inst)
		}
	}
	for _, inst := range sortedKeys(s.Modes) {
		v := s.Modes[inst]
		m := t.Mode(inst)
		switch {
		case m == nil && len(t.Modes) > 0:
			out("mode %q is not declared", inst)
			delete(s.Modes, inst)
		case m != nil && !slices.ContainsFunc(m.Values, func(x ModeValue) bool { return x.Value == v }):
			out("mode %s value %q is not one of its values", inst, v)
			delete(s.Modes, inst)
		}
	}
	percent := func(name string, v **int, has bool) {
		if *v != nil && has && (**v < 0 || **v > 100) {
			out("%s %d is outside 0–100", name, **v)
			*v = nil
		}
	}
	percent("coverPosition", &s.CoverPosition, t.Cover != nil)
	percent("coverTilt", &s.CoverTilt, t.Cover != nil && t.Cover.Tilt)
	percent("fanSpeed", &s.FanSpeed, t.Fan != nil)
	percent("battery", &s.Battery, t.Battery != nil)
	if s.Humidity != nil && t.Humidity != nil && !(*s.Humidity >= 0 && *s.Humidity <= 100) {
		out("humidity %g %% is outside 0–100", *s.Humidity)
		s.Humidity = nil
	}
	for _, r := range []struct {
		name string
		v    **float64
		has  bool
	}{{"illuminance", &s.Illuminance, t.Illuminance != nil}, {"energyKWh", &s.EnergyKWh, t.Energy != nil}, {"watts", &s.Watts, t.Power != nil}} {
		// Meters may read negative power (a solar feed) but never NaN or infinity.
		if *r.v != nil && r.has && (math.IsNaN(**r.v) || math.IsInf(**r.v, 0) || r.name != "watts" && **r.v < 0) {
			out("%s %g is not a plausible reading", r.name, **r.v)
			*r.v = nil
		}
	}
	return s, bad
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	slices.Sort(k)
	return k
}
