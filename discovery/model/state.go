package model

import "maps"

func cloneP[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Clone returns a deep copy of s.
func (s State) Clone() State {
	s.On = cloneP(s.On)
	s.Brightness = cloneP(s.Brightness)
	s.Color = cloneP(s.Color)
	s.ColorTemperature = cloneP(s.ColorTemperature)
	if s.Thermostat != nil {
		t := *s.Thermostat
		t.Target, t.Lower, t.Upper = cloneP(t.Target), cloneP(t.Lower), cloneP(t.Upper)
		s.Thermostat = &t
	}
	s.Temperature = cloneP(s.Temperature)
	s.Toggles = maps.Clone(s.Toggles)
	s.Ranges = maps.Clone(s.Ranges)
	s.Modes = maps.Clone(s.Modes)
	return s
}

// Merge returns s overlaid with every field that o sets.
func (s State) Merge(o State) State {
	s = s.Clone()
	if o.On != nil {
		s.On = cloneP(o.On)
	}
	if o.Brightness != nil {
		s.Brightness = cloneP(o.Brightness)
	}
	if o.Color != nil {
		s.Color = cloneP(o.Color)
	}
	if o.ColorTemperature != nil {
		s.ColorTemperature = cloneP(o.ColorTemperature)
	}
	if o.Lock != "" {
		s.Lock = o.Lock
	}
	if o.Thermostat != nil {
		s.Thermostat = s.Thermostat.merge(o.Thermostat)
	}
	if o.Temperature != nil {
		s.Temperature = cloneP(o.Temperature)
	}
	s.Toggles = mergeMap(s.Toggles, o.Toggles)
	s.Ranges = mergeMap(s.Ranges, o.Ranges)
	s.Modes = mergeMap(s.Modes, o.Modes)
	return s
}

func mergeMap[V any](a, b map[string]V) map[string]V {
	if len(b) == 0 {
		return a
	}
	if a == nil {
		a = make(map[string]V, len(b))
	}
	maps.Copy(a, b)
	return a
}

func (t *ThermostatState) merge(o *ThermostatState) *ThermostatState {
	var r ThermostatState
	if t != nil {
		r = *t
	}
	if o.Mode != "" {
		r.Mode = o.Mode
	}
	if o.Target != nil {
		r.Target = cloneP(o.Target)
	}
	if o.Lower != nil {
		r.Lower = cloneP(o.Lower)
	}
	if o.Upper != nil {
		r.Upper = cloneP(o.Upper)
	}
	return &r
}

// Ptr returns a pointer to v; handy for building states and commands.
func Ptr[T any](v T) *T { return &v }
