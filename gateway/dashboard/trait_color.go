package dashboard

import (
	"encoding/json"

	"github.com/avshub/avshub/discovery/model"
)

// color: the light's "hs" colour mode; state and command "color" {h: 0–360,
// s: 0–100}.
func init() {
	register(model.TraitColor, haTrait{
		components: func(c *components) {
			if c.ep.Traits.Color != nil {
				lightComponent(c)
			}
		},
		state: func(out map[string]any, n *node) {
			if s := n.entry.State; s.Color != nil {
				out["color"] = map[string]any{"h": round(s.Color.Hue, 2), "s": round(s.Color.Saturation*100, 2)}
			}
			lightState(out, n)
		},
		commands: map[string]keyDecoder{"color": decodeColor},
	})
}

func decodeColor(d *commandDecoder, _ string, raw json.RawMessage) error {
	var c map[string]json.RawMessage
	if err := json.Unmarshal(raw, &c); err != nil || c == nil {
		return bad("color must be an object with h (0–360) and s (0–100)")
	}
	h, hok := c["h"]
	s, sok := c["s"]
	if !hok || !sok || len(c) != 2 {
		return bad("color must have exactly h (0–360) and s (0–100)")
	}
	hv, err := num("color.h", h)
	if err != nil {
		return err
	}
	sv, err := num("color.s", s)
	if err != nil {
		return err
	}
	bri := 1.0
	if d.current.Color != nil {
		bri = d.current.Color.Brightness
	} else if d.current.Brightness != nil {
		bri = float64(*d.current.Brightness) / 100
	}
	d.middle = append(d.middle, model.SetColor(model.HSB{Hue: hv, Saturation: sv / 100, Brightness: bri}))
	return nil
}
