package dashboard

import "github.com/avshub/avshub/discovery/model"

// tamper: a binary_sensor of device_class tamper; state "tamper" ON/OFF.
func init() {
	register(model.TraitTamper, binarySensor{"tamper", "tamper", "Tamper", false,
		func(t model.Traits) bool { return t.Tamper != nil }, func(s model.State) *bool { return s.Tamper }}.trait())
}
