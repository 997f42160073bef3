package dashboard

import "github.com/avshub/avshub/discovery/model"

// battery: two diagnostic entities, the battery-low binary_sensor (state
// "battery_low" ON/OFF) and the level sensor (state "battery", %).
func init() {
	has := func(t model.Traits) bool { return t.Battery != nil }
	low := binarySensor{"battery_low", "battery", "Battery low", true, has, func(s model.State) *bool { return s.BatteryLow }}
	level := sensor{"battery", "battery", "%", "measurement", "Battery", 0, true, has, func(s model.State) (float64, bool) {
		if s.Battery == nil {
			return 0, false
		}
		return float64(*s.Battery), true
	}}
	register(model.TraitBattery, haTrait{
		components: func(c *components) {
			low.component(c)
			level.component(c)
		},
		state: func(out map[string]any, n *node) {
			low.state(out, n)
			level.state(out, n)
		},
	})
}
