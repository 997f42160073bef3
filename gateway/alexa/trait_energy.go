package alexa

import "github.com/avshub/avshub/discovery/model"

// energy: a non-controllable InstanceEnergy RangeController in both profiles.
func init() {
	register(model.TraitEnergy, numericSensor{InstanceEnergy, txtEnergy, 0, 10000000, 0.01, "",
		func(t model.Traits) bool { return t.Energy != nil }, func(s model.State) (float64, bool) { return fptr(s.EnergyKWh) }}.renderings())
}
