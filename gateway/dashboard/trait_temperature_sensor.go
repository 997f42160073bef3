package dashboard

import "github.com/avshub/avshub/discovery/model"

// temperature_sensor: a temperature sensor component (and the climate's
// current temperature); state "current_temperature" (°C).
func init() {
	register(model.TraitTemperatureSensor, haTrait{
		components: func(c *components) {
			if c.ep.Traits.TemperatureSensor == nil {
				return
			}
			c.out["temperature"] = map[string]any{"p": "sensor", "unique_id": c.uid("temperature"), "name": c.name("Temperature"),
				"state_topic": c.st, "value_template": "{{ value_json.current_temperature }}",
				"device_class": "temperature", "unit_of_measurement": "°C", "state_class": "measurement",
				"suggested_display_precision": 1}
		},
		state: func(out map[string]any, n *node) {
			if s := n.entry.State; s.Temperature != nil {
				out["current_temperature"] = *s.Temperature
			}
		},
	})
}
