package dashboard

import "github.com/avshub/avshub/discovery/model"

// motion: a binary_sensor of device_class motion; state "occupancy" ON/OFF.
func init() {
	register(model.TraitMotion, binarySensor{"occupancy", "motion", "Motion", false,
		func(t model.Traits) bool { return t.Motion != nil }, func(s model.State) *bool { return s.Motion }}.trait())
}
