package dashboard

import "github.com/avshub/avshub/discovery/model"

// smoke: a binary_sensor of device_class smoke; state "smoke" ON/OFF.
func init() {
	register(model.TraitSmoke, binarySensor{"smoke", "smoke", "Smoke", false,
		func(t model.Traits) bool { return t.Smoke != nil }, func(s model.State) *bool { return s.Smoke }}.trait())
}
