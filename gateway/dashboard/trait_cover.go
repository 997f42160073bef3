package dashboard

import (
	"encoding/json"

	"github.com/avshub/avshub/discovery/model"
)

// cover: a cover component (blind, or shutter for an exterior blind); state
// and command "position" 0–100; Home Assistant's stop button sends
// payload_stop, {"stop":true}, which stops a moving cover where it is. A
// cover with slats (model.Cover.Tilt) has the component's tilt topics: state
// and command "tilt" 0–100 (0 closed, 100 open).
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
			if c.ep.Traits.Cover.Tilt {
				cov := c.out["cover"]
				cov["tilt_status_topic"], cov["tilt_status_template"] = c.st, "{{ value_json.tilt }}"
				cov["tilt_command_topic"], cov["tilt_command_template"] = c.ct, `{"tilt":{{ tilt_position }}}`
				cov["tilt_min"], cov["tilt_max"], cov["tilt_closed_value"], cov["tilt_opened_value"] = 0, 100, 0, 100
			}
		},
		state: func(out map[string]any, n *node) {
			s := n.entry.State
			if s.CoverPosition != nil {
				out["position"] = *s.CoverPosition
			}
			if s.CoverTilt != nil {
				out["tilt"] = *s.CoverTilt
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
			"tilt": func(d *commandDecoder, k string, raw json.RawMessage) error {
				v, err := num(k, raw)
				if err != nil {
					return err
				}
				d.middle = append(d.middle, model.SetCoverTilt(toInt(v)))
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
