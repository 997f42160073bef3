package dashboard

import (
	"encoding/json"
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// fan: the fan component (with the endpoint's power, and its presets as
// preset modes); state and command "percentage" 0–100 and "fan_preset" (a
// preset's name).
func init() {
	register(model.TraitFan, haTrait{
		components: func(c *components) {
			f := c.ep.Traits.Fan
			if f == nil {
				return
			}
			st, ct := c.st, c.ct
			cm := map[string]any{"p": "fan", "unique_id": c.uid("fan"), "name": c.name("Fan"),
				"command_topic": ct, "payload_on": `{"state":"ON"}`, "payload_off": `{"state":"OFF"}`,
				"state_topic": st, "state_value_template": "{{ value_json.state }}",
				"percentage_command_topic": ct, "percentage_command_template": `{"percentage":{{ value }}}`,
				"percentage_state_topic": st, "percentage_value_template": "{{ value_json.percentage }}",
				"speed_range_min": 1, "speed_range_max": 100}
			if names := fanPresetNames(f); len(names) > 0 {
				cm["preset_modes"] = names
				cm["preset_mode_command_topic"] = ct
				cm["preset_mode_command_template"] = `{"fan_preset":"{{ value }}"}`
				cm["preset_mode_state_topic"] = st
				cm["preset_mode_value_template"] = "{{ value_json.fan_preset }}"
			}
			c.out["fan"] = cm
		},
		state: func(out map[string]any, n *node) {
			t, s := n.entry.Endpoint.Traits, n.entry.State
			if s.FanSpeed == nil {
				return
			}
			out["percentage"] = *s.FanSpeed
			if t.Fan != nil {
				for _, pr := range t.Fan.Presets {
					if int(pr.Value) == *s.FanSpeed {
						out["fan_preset"] = displayName(pr.Names, fmt.Sprint(pr.Value))
					}
				}
			}
		},
		commands: map[string]keyDecoder{
			"percentage": func(d *commandDecoder, k string, raw json.RawMessage) error {
				v, err := num(k, raw)
				if err != nil {
					return err
				}
				d.middle = append(d.middle, model.SetFanSpeed(toInt(v)))
				return nil
			},
			"fan_preset": func(d *commandDecoder, k string, raw json.RawMessage) error {
				s, err := str(k, raw)
				if err != nil {
					return err
				}
				c, err := fanPreset(d.ep, s)
				if err != nil {
					return err
				}
				d.middle = append(d.middle, c)
				return nil
			},
		},
	})
}

// fanPresetNames are the names of a fan's presets on the dashboard.
func fanPresetNames(f *model.Fan) []string {
	var out []string
	for _, pr := range f.Presets {
		out = append(out, displayName(pr.Names, fmt.Sprint(pr.Value)))
	}
	return out
}

// fanPreset is the command setting a fan to the preset named name.
func fanPreset(ep model.Endpoint, name string) (model.Command, error) {
	if f := ep.Traits.Fan; f != nil {
		for _, pr := range f.Presets {
			if displayName(pr.Names, fmt.Sprint(pr.Value)) == name {
				return model.SetFanSpeed(toInt(pr.Value)), nil
			}
		}
	}
	return model.Command{}, bad("fan preset %q is not one of the fan's presets", model.Abbreviate(name, 40))
}
