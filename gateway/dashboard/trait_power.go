package dashboard

import "github.com/avshub/avshub/discovery/model"

// power: a sensor of device_class power (W); state "power".
func init() {
	register(model.TraitPower, sensor{"power", "power", "W", "measurement", "Power", 1, false,
		func(t model.Traits) bool { return t.Power != nil }, func(s model.State) (float64, bool) { return deref(s.Watts) }}.trait())
}
