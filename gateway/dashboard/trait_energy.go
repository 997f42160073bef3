package dashboard

import "github.com/avshub/avshub/discovery/model"

// energy: a sensor of device_class energy (kWh); state "energy".
func init() {
	register(model.TraitEnergy, sensor{"energy", "energy", "kWh", "total_increasing", "Energy", 2, false,
		func(t model.Traits) bool { return t.Energy != nil }, func(s model.State) (float64, bool) { return deref(s.EnergyKWh) }}.trait())
}
