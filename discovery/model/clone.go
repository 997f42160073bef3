package model

import "slices"

// Clone returns a deep copy of ep, so callers cannot alias each other's data.
func (ep Endpoint) Clone() Endpoint {
	ep.Connections = slices.Clone(ep.Connections)
	t := &ep.Traits
	t.OnOff = cloneP(t.OnOff)
	t.Brightness = cloneP(t.Brightness)
	t.Color = cloneP(t.Color)
	t.ColorTemperature = cloneP(t.ColorTemperature)
	t.Lock = cloneP(t.Lock)
	if t.Thermostat != nil {
		th := *t.Thermostat
		th.Modes = slices.Clone(th.Modes)
		t.Thermostat = &th
	}
	t.TemperatureSensor = cloneP(t.TemperatureSensor)
	if t.Toggles != nil {
		t.Toggles = slices.Clone(t.Toggles)
		for i := range t.Toggles {
			t.Toggles[i].Names = slices.Clone(t.Toggles[i].Names)
		}
	}
	if t.Ranges != nil {
		t.Ranges = slices.Clone(t.Ranges)
		for i := range t.Ranges {
			r := &t.Ranges[i]
			r.Names = slices.Clone(r.Names)
			if r.Presets != nil {
				r.Presets = slices.Clone(r.Presets)
				for j := range r.Presets {
					r.Presets[j].Names = slices.Clone(r.Presets[j].Names)
				}
			}
		}
	}
	if t.Modes != nil {
		t.Modes = slices.Clone(t.Modes)
		for i := range t.Modes {
			m := &t.Modes[i]
			m.Names = slices.Clone(m.Names)
			if m.Values != nil {
				m.Values = slices.Clone(m.Values)
				for j := range m.Values {
					m.Values[j].Names = slices.Clone(m.Values[j].Names)
				}
			}
		}
	}
	return ep
}
