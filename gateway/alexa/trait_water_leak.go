package alexa

import "github.com/avshub/avshub/discovery/model"

// water_leak: a read-only InstanceWaterLeak ModeController in both profiles.
func init() {
	register(model.TraitWaterLeak, binarySensor{InstanceWaterLeak, txtWaterLeak, "WaterLeak.Detected", txtLeakDetected, "WaterLeak.Dry", txtDry,
		func(t model.Traits) bool { return t.WaterLeak != nil }, func(s model.State) *bool { return s.WaterLeak }, ""}.renderings())
}
