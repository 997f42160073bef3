package dashboard

import (
	"encoding/json"
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// toggle: a switch (or a binary_sensor when non-controllable) per generic
// toggle; state and command "toggles" {instance: ON/OFF}.
func init() {
	register(model.TraitToggle, haTrait{
		components: func(c *components) {
			for _, tg := range c.ep.Traits.Toggles {
				inst, _ := json.Marshal(tg.Instance)
				id := genericID(c.out, "toggle", tg.Instance)
				cm := map[string]any{"unique_id": c.uid(id), "name": displayName(tg.Names, tg.Instance),
					"state_topic": c.st, "value_template": fmt.Sprintf("{{ value_json.toggles[%s] }}", inst)}
				if tg.NonControllable {
					cm["p"] = "binary_sensor"
					cm["payload_on"], cm["payload_off"] = "ON", "OFF"
				} else {
					cm["p"] = "switch"
					cm["command_topic"] = c.ct
					cm["payload_on"] = fmt.Sprintf(`{"toggles":{%s:"ON"}}`, inst)
					cm["payload_off"] = fmt.Sprintf(`{"toggles":{%s:"OFF"}}`, inst)
					cm["state_on"], cm["state_off"] = "ON", "OFF"
				}
				c.out[id] = cm
			}
		},
		state: func(out map[string]any, n *node) {
			if s := n.entry.State; len(s.Toggles) > 0 {
				tg := map[string]string{}
				for k, v := range s.Toggles {
					tg[k] = onOff(v)
				}
				out["toggles"] = tg
			}
		},
		commands: map[string]keyDecoder{"toggles": func(d *commandDecoder, _ string, raw json.RawMessage) error {
			var tg map[string]json.RawMessage
			if err := json.Unmarshal(raw, &tg); err != nil || len(tg) == 0 {
				return bad("toggles must be a non-empty object of instance: ON/OFF")
			}
			for _, inst := range sortedKeys(tg) {
				on, err := toggleValue(inst, tg[inst])
				if err != nil {
					return err
				}
				d.middle = append(d.middle, model.SetToggle(inst, on))
			}
			return nil
		}},
	})
}
