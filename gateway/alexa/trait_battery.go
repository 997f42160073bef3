package alexa

import "github.com/avshub/avshub/discovery/model"

// battery: a non-controllable InstanceBattery RangeController (%) in both profiles.
func init() {
	register(model.TraitBattery, numericSensor{InstanceBattery, txtBattery, 0, 100, 1, unitPercent,
		func(t model.Traits) bool { return t.Battery != nil }, func(s model.State) (float64, bool) {
			if s.Battery == nil {
				return 0, false
			}
			return float64(*s.Battery), true
		}}.renderings())
}
