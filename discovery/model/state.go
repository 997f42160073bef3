package model

import (
	"maps"
	"slices"
)

func cloneP[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
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

func (t *ThermostatState) clone() *ThermostatState {
	if t == nil {
		return nil
	}
	c := *t
	c.Target, c.Lower, c.Upper = cloneP(t.Target), cloneP(t.Lower), cloneP(t.Upper)
	return &c
}

// diffThermostatState returns the fields of next that are set and differ from
// prev, or nil when none do.
func diffThermostatState(prev, next *ThermostatState) *ThermostatState {
	if next == nil {
		return nil
	}
	var p ThermostatState
	if prev != nil {
		p = *prev
	}
	var t ThermostatState
	changed := false
	if next.Mode != "" && next.Mode != p.Mode {
		t.Mode, changed = next.Mode, true
	}
	if next.Target != nil && !eqP(p.Target, next.Target) {
		t.Target, changed = cloneP(next.Target), true
	}
	if next.Lower != nil && !eqP(p.Lower, next.Lower) {
		t.Lower, changed = cloneP(next.Lower), true
	}
	if next.Upper != nil && !eqP(p.Upper, next.Upper) {
		t.Upper, changed = cloneP(next.Upper), true
	}
	if !changed {
		return nil
	}
	return &t
}

func cloneNames(ns []Name) []Name { return slices.Clone(ns) }

func clonePresets(ps []Preset) []Preset {
	ps = slices.Clone(ps)
	for i := range ps {
		ps[i].Names = cloneNames(ps[i].Names)
	}
	return ps
}

func cloneModeValues(vs []ModeValue) []ModeValue {
	vs = slices.Clone(vs)
	for i := range vs {
		vs[i].Names = cloneNames(vs[i].Names)
	}
	return vs
}

// Ptr returns a pointer to v; handy for building states and commands.
func Ptr[T any](v T) *T { return &v }
