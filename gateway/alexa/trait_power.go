package alexa

import "github.com/avshub/avshub/discovery/model"

// power: a non-controllable InstancePower RangeController in both profiles.
func init() {
	register(model.TraitPower, numericSensor{InstancePower, txtPower, 0, 100000, 0.1, "",
		func(t model.Traits) bool { return t.Power != nil }, func(s model.State) (float64, bool) { return fptr(s.Watts) }}.renderings())
}
