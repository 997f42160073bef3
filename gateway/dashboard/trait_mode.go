package dashboard

import (
	"encoding/json"
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// mode: a select (or an enum sensor when non-controllable) per generic mode;
// state and command "modes" {instance: value}.
func init() {
	register(model.TraitMode, haTrait{
		components: func(c *components) {
			for _, m := range c.ep.Traits.Modes {
				inst, _ := json.Marshal(m.Instance)
				id := genericID(c.out, "mode", m.Instance)
				cm := map[string]any{"unique_id": c.uid(id), "name": displayName(m.Names, m.Instance),
					"state_topic": c.st, "value_template": fmt.Sprintf("{{ value_json.modes[%s] }}", inst)}
				options := make([]string, 0, len(m.Values))
				for _, v := range m.Values {
					options = append(options, v.Value)
				}
				if m.NonControllable {
					cm["p"] = "sensor"
					cm["device_class"] = "enum"
					cm["options"] = options
				} else {
					cm["p"] = "select"
					cm["command_topic"] = c.ct
					cm["command_template"] = fmt.Sprintf(`{"modes":{%s:"{{ value }}"}}`, inst)
					cm["options"] = options
				}
				c.out[id] = cm
			}
		},
		state: func(out map[string]any, n *node) {
			if s := n.entry.State; len(s.Modes) > 0 {
				out["modes"] = s.Modes
			}
		},
		commands: map[string]keyDecoder{"modes": func(d *commandDecoder, _ string, raw json.RawMessage) error {
			var ms map[string]json.RawMessage
			if err := json.Unmarshal(raw, &ms); err != nil || len(ms) == 0 {
				return bad("modes must be a non-empty object of instance: value")
			}
			for _, inst := range sortedKeys(ms) {
				v, err := str("modes."+model.Abbreviate(inst, 40), ms[inst])
				if err != nil {
					return err
				}
				d.middle = append(d.middle, model.SetMode(inst, v))
			}
			return nil
		}},
	})
}
