package dashboard

import (
	"encoding/json"

	"github.com/avshub/avshub/discovery/model"
)

// color_temperature: the light's "color_temp" colour mode in kelvin; state
// and command "color_temp".
func init() {
	register(model.TraitColorTemperature, haTrait{
		components: func(c *components) {
			if c.ep.Traits.ColorTemperature != nil {
				lightComponent(c)
			}
		},
		state: func(out map[string]any, n *node) {
			if s := n.entry.State; s.ColorTemperature != nil {
				out["color_temp"] = *s.ColorTemperature
			}
			lightState(out, n)
		},
		commands: map[string]keyDecoder{"color_temp": func(d *commandDecoder, k string, raw json.RawMessage) error {
			v, err := num(k, raw)
			if err != nil {
				return err
			}
			d.middle = append(d.middle, model.SetColorTemperature(toInt(v)))
			return nil
		}},
	})
}
