package alexa

import "github.com/avshub/avshub/discovery/model"

// illuminance: a non-controllable InstanceIlluminance RangeController in both profiles.
func init() {
	register(model.TraitIlluminance, numericSensor{InstanceIlluminance, txtIlluminance, 0, 200000, 1, "",
		func(t model.Traits) bool { return t.Illuminance != nil }, func(s model.State) (float64, bool) { return fptr(s.Illuminance) }}.renderings())
}
