package dashboard

import (
	"encoding/json"
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// range: a number slider (or a sensor when non-controllable) per generic
// range; state and command "ranges" {instance: number}. A read-only range
// of a known quantity (model.Quantities) is a sensor of its device class and
// unit ("carbon_dioxide", "ppm").
func init() {
	register(model.TraitRange, haTrait{
		components: func(c *components) {
			for _, r := range c.ep.Traits.Ranges {
				inst, _ := json.Marshal(r.Instance)
				id := genericID(c.out, "range", r.Instance)
				cm := map[string]any{"unique_id": c.uid(id), "name": displayName(r.Names, r.Instance),
					"state_topic": c.st, "value_template": fmt.Sprintf("{{ value_json.ranges[%s] }}", inst)}
				if u := haUnit[r.Unit]; u != "" {
					cm["unit_of_measurement"] = u
				}
				if q, ok := model.QuantityOf(r); ok && r.NonControllable {
					cm["name"] = q.Name
					if q.HAClass != "" {
						cm["device_class"] = q.HAClass
					}
					delete(cm, "unit_of_measurement")
					if q.Unit != "" {
						cm["unit_of_measurement"] = q.Unit
					}
				}
				if r.NonControllable {
					cm["p"] = "sensor"
					cm["state_class"] = "measurement"
					if q, ok := model.QuantityOf(r); ok && q.Total {
						cm["state_class"] = "total_increasing" // a meter's index
					}
				} else {
					step := r.Precision
					if step <= 0 {
						step = 1
					}
					cm["p"] = "number"
					cm["command_topic"] = c.ct
					cm["command_template"] = fmt.Sprintf(`{"ranges":{%s:{{ value }}}}`, inst)
					cm["min"], cm["max"], cm["step"] = r.Min, r.Max, step
					cm["mode"] = "slider"
				}
				c.out[id] = cm
			}
		},
		state: func(out map[string]any, n *node) {
			if s := n.entry.State; len(s.Ranges) > 0 {
				out["ranges"] = s.Ranges
			}
		},
		commands: map[string]keyDecoder{"ranges": func(d *commandDecoder, _ string, raw json.RawMessage) error {
			var rs map[string]json.RawMessage
			if err := json.Unmarshal(raw, &rs); err != nil || len(rs) == 0 {
				return bad("ranges must be a non-empty object of instance: number")
			}
			for _, inst := range sortedKeys(rs) {
				v, err := num("ranges."+model.Abbreviate(inst, 40), rs[inst])
				if err != nil {
					return err
				}
				d.middle = append(d.middle, model.SetRange(inst, v))
			}
			return nil
		}},
	})
}

// haUnit maps Alexa units of measure to Home Assistant units.
var haUnit = map[string]string{
	"Alexa.Unit.Percent":             "%",
	"Alexa.Unit.Temperature.Celsius": "°C",
	"Alexa.Unit.Angle.Degrees":       "°",
	"Alexa.Unit.Distance.Meters":     "m",
	"Alexa.Unit.Distance.Inches":     "in",
	"Alexa.Unit.Volume.Liters":       "L",
	"Alexa.Unit.Mass.Kilograms":      "kg",
}
