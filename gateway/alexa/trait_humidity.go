package alexa

import "github.com/avshub/avshub/discovery/model"

// humidity: a non-controllable InstanceHumidity RangeController in both profiles.
func init() {
	register(model.TraitHumidity, numericSensor{InstanceHumidity, txtHumidity, 0, 100, 1, unitPercent,
		func(t model.Traits) bool { return t.Humidity != nil }, func(s model.State) (float64, bool) { return fptr(s.Humidity) }}.renderings())
}
