package dashboard

import "github.com/avshub/avshub/discovery/model"

// water_leak: a binary_sensor of device_class moisture; state "water_leak" ON/OFF.
func init() {
	register(model.TraitWaterLeak, binarySensor{"water_leak", "moisture", "Water leak", false,
		func(t model.Traits) bool { return t.WaterLeak != nil }, func(s model.State) *bool { return s.WaterLeak }}.trait())
}
