package dashboard

import "github.com/avshub/avshub/discovery/model"

// humidity: a sensor of device_class humidity (%); state "humidity".
func init() {
	register(model.TraitHumidity, sensor{"humidity", "humidity", "%", "measurement", "Humidity", 0, false,
		func(t model.Traits) bool { return t.Humidity != nil }, func(s model.State) (float64, bool) { return deref(s.Humidity) }}.trait())
}
