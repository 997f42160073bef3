package dashboard

import (
	"encoding/json"

	"github.com/avshub/avshub/discovery/model"
)

// siren: the siren component; state and command "siren" ON/OFF.
func init() {
	register(model.TraitSiren, haTrait{
		components: func(c *components) {
			if c.ep.Traits.Siren == nil {
				return
			}
			c.out["siren"] = map[string]any{"p": "siren", "unique_id": c.uid("siren"), "name": c.name("Siren"),
				"command_topic": c.ct, "payload_on": `{"siren":"ON"}`, "payload_off": `{"siren":"OFF"}`,
				"state_topic": c.st, "value_template": "{{ value_json.siren }}", "state_on": "ON", "state_off": "OFF"}
		},
		state: func(out map[string]any, n *node) {
			if s := n.entry.State; s.Siren != nil {
				out["siren"] = onOff(*s.Siren)
			}
		},
		commands: map[string]keyDecoder{"siren": func(d *commandDecoder, k string, raw json.RawMessage) error {
			on, err := toggleValue(k, raw)
			if err != nil {
				return err
			}
			d.middle = append(d.middle, model.SetSiren(on))
			return nil
		}},
	})
}
