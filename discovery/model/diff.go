package model

// DiffState returns the fields of next that are set and differ from prev: what
// a change from prev to next changed. Fields next leaves unset are not changes.
func DiffState(prev, next State) State {
	var d State
	if next.On != nil && !eqP(prev.On, next.On) {
		d.On = cloneP(next.On)
	}
	if next.Brightness != nil && !eqP(prev.Brightness, next.Brightness) {
		d.Brightness = cloneP(next.Brightness)
	}
	if next.Color != nil && !eqP(prev.Color, next.Color) {
		d.Color = cloneP(next.Color)
	}
	if next.ColorTemperature != nil && !eqP(prev.ColorTemperature, next.ColorTemperature) {
		d.ColorTemperature = cloneP(next.ColorTemperature)
	}
	if next.Lock != "" && next.Lock != prev.Lock {
		d.Lock = next.Lock
	}
	if next.Thermostat != nil {
		var p ThermostatState
		if prev.Thermostat != nil {
			p = *prev.Thermostat
		}
		n := *next.Thermostat
		var t ThermostatState
		changed := false
		if n.Mode != "" && n.Mode != p.Mode {
			t.Mode, changed = n.Mode, true
		}
		if n.Target != nil && !eqP(p.Target, n.Target) {
			t.Target, changed = cloneP(n.Target), true
		}
		if n.Lower != nil && !eqP(p.Lower, n.Lower) {
			t.Lower, changed = cloneP(n.Lower), true
		}
		if n.Upper != nil && !eqP(p.Upper, n.Upper) {
			t.Upper, changed = cloneP(n.Upper), true
		}
		if changed {
			d.Thermostat = &t
		}
	}
	if next.Temperature != nil && !eqP(prev.Temperature, next.Temperature) {
		d.Temperature = cloneP(next.Temperature)
	}
	d.Toggles = diffMap(prev.Toggles, next.Toggles)
	d.Ranges = diffMap(prev.Ranges, next.Ranges)
	d.Modes = diffMap(prev.Modes, next.Modes)
	return d
}

// IsZero reports whether s sets no field.
func (s State) IsZero() bool {
	return s.On == nil && s.Brightness == nil && s.Color == nil && s.ColorTemperature == nil && s.Lock == "" &&
		s.Thermostat == nil && s.Temperature == nil && len(s.Toggles) == 0 && len(s.Ranges) == 0 && len(s.Modes) == 0
}

func eqP[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func diffMap[V comparable](prev, next map[string]V) map[string]V {
	var d map[string]V
	for k, v := range next {
		if pv, ok := prev[k]; !ok || pv != v {
			if d == nil {
				d = map[string]V{}
			}
			d[k] = v
		}
	}
	return d
}
