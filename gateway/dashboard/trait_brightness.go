package dashboard

import (
	"encoding/json"

	"github.com/avshub/avshub/discovery/model"
)

// brightness: part of the light component (JSON schema, brightness_scale
// 100); state and command "brightness" 0–100.
func init() {
	register(model.TraitBrightness, haTrait{
		components: func(c *components) {
			if c.ep.Traits.Brightness != nil {
				lightComponent(c)
			}
		},
		state: func(out map[string]any, n *node) {
			if s := n.entry.State; s.Brightness != nil {
				out["brightness"] = *s.Brightness
			}
			lightState(out, n)
		},
		commands: map[string]keyDecoder{"brightness": func(d *commandDecoder, k string, raw json.RawMessage) error {
			v, err := num(k, raw)
			if err != nil {
				return err
			}
			d.middle = append(d.middle, model.SetBrightness(toInt(v)))
			return nil
		}},
	})
}

// isLight says whether an endpoint's on/off is shown as a light (else a switch).
func isLight(ep model.Endpoint) bool {
	t := ep.Traits
	return t.Brightness != nil || t.Color != nil || t.ColorTemperature != nil ||
		(t.OnOff != nil && ep.Category == model.CategoryLight)
}

// lightComponent adds the light component, once, for the on/off,
// brightness, colour and colour temperature an endpoint has.
func lightComponent(c *components) {
	if _, done := c.out["light"]; done {
		return
	}
	t := c.ep.Traits
	var modes []string
	if t.Color != nil {
		modes = append(modes, "hs")
	}
	if t.ColorTemperature != nil {
		modes = append(modes, "color_temp")
	}
	if len(modes) == 0 {
		if t.Brightness != nil {
			modes = []string{"brightness"}
		} else {
			modes = []string{"onoff"}
		}
	}
	l := map[string]any{"p": "light", "unique_id": c.uid("light"), "name": c.name("Light"), "schema": "json",
		"state_topic": c.st, "command_topic": c.ct, "supported_color_modes": modes}
	if t.Brightness != nil {
		l["brightness"] = true
		l["brightness_scale"] = 100
	}
	if ctr := t.ColorTemperature; ctr != nil {
		l["color_temp_kelvin"] = true
		l["min_kelvin"] = ctr.MinKelvin
		l["max_kelvin"] = ctr.MaxKelvin
	}
	c.out["light"] = l
}

// lightState adds the light's colour mode to the state document.
func lightState(out map[string]any, n *node) {
	if isLight(n.entry.Endpoint) {
		out["color_mode"] = n.colorMode()
	}
}
