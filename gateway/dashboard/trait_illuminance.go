package dashboard

import "github.com/avshub/avshub/discovery/model"

// illuminance: a sensor of device_class illuminance (lx); state "illuminance".
func init() {
	register(model.TraitIlluminance, sensor{"illuminance", "illuminance", "lx", "measurement", "Illuminance", 0, false,
		func(t model.Traits) bool { return t.Illuminance != nil }, func(s model.State) (float64, bool) { return deref(s.Illuminance) }}.trait())
}
