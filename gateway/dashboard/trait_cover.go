package dashboard

import (
	"encoding/json"

	"github.com/avshub/avshub/discovery/model"
)

// cover: a cover component (blind, or shutter for an exterior blind); state
// and command "position" 0–100; Home Assistant's stop button sends
// payload_stop, {"stop":true}, which stops a moving cover where it is.
func init() {
	register(model.TraitCover, haTrait{
		components: func(c *components) {
			if c.ep.Traits.Cover == nil {
				return
			}
			class := "blind"
			if c.ep.Category == model.CategoryExteriorBlind {
				class = "shutter"
			}
			c.out["cover"] = map[string]any{"p": "cover", "unique_id": c.uid("cover"), "name": c.name("Cover"), "device_class": class,
				"command_topic": c.ct, "payload_open": `{"position":100}`, "payload_close": `{"position":0}`, "payload_stop": `{"stop":true}`,
				"position_topic": c.st, "position_template": "{{ value_json.position }}", "position_open": 100, "position_closed": 0,
				"set_position_topic": c.ct, "set_position_template": `{"position":{{ position }}}`}
		},
		state: func(out map[string]any, n *node) {
			if s := n.entry.State; s.CoverPosition != nil {
				out["position"] = *s.CoverPosition
			}
		},
		commands: map[string]keyDecoder{
			"position": func(d *commandDecoder, k string, raw json.RawMessage) error {
				v, err := num(k, raw)
				if err != nil {
					return err
				}
				d.middle = append(d.middle, model.SetCoverPosition(toInt(v)))
				return nil
			},
			"stop": func(d *commandDecoder, k string, raw json.RawMessage) error {
				var on bool
				if err := json.Unmarshal(raw, &on); err != nil || !on {
					return bad("%s must be true", k)
				}
				d.middle = append(d.middle, model.StopCover())
				return nil
			},
		},
	})
}
