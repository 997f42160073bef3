package dashboard

import (
	"encoding/json"
	"strings"

	"github.com/avshub/avshub/discovery/model"
)

// on_off: the light's power (see trait_brightness.go) or a switch; a fan's
// power is the fan component's. State "state" ON/OFF (null when unknown),
// command "state" ON/OFF/TOGGLE or a bare ON/OFF.
func init() {
	register(model.TraitOnOff, haTrait{
		components: func(c *components) {
			t := c.ep.Traits
			if isLight(c.ep) {
				lightComponent(c)
			} else if t.OnOff != nil && t.Fan == nil {
				c.out["switch"] = map[string]any{"p": "switch", "unique_id": c.uid("switch"), "name": c.name("Power"),
					"state_topic": c.st, "command_topic": c.ct, "value_template": "{{ value_json.state }}",
					"payload_on": `{"state":"ON"}`, "payload_off": `{"state":"OFF"}`, "state_on": "ON", "state_off": "OFF"}
			}
		},
		state: func(out map[string]any, n *node) {
			if s := n.entry.State; s.On != nil {
				out["state"] = onOff(*s.On)
			} else if n.entry.Endpoint.Traits.OnOff != nil {
				out["state"] = nil // unknown
			}
			lightState(out, n)
		},
		commands: map[string]keyDecoder{"state": decodePower},
		bare:     []bareWord{{"ON", model.SetPower(true)}, {"OFF", model.SetPower(false)}},
	})
}

func decodePower(d *commandDecoder, k string, raw json.RawMessage) error {
	s, err := str(k, raw)
	if err != nil {
		return err
	}
	switch strings.ToUpper(s) {
	case "ON":
		d.powerOn = append(d.powerOn, model.SetPower(true))
	case "OFF":
		d.powerOff = append(d.powerOff, model.SetPower(false))
	case "TOGGLE":
		on := d.current.On == nil || !*d.current.On
		if on {
			d.powerOn = append(d.powerOn, model.SetPower(true))
		} else {
			d.powerOff = append(d.powerOff, model.SetPower(false))
		}
	default:
		return bad("state must be ON, OFF or TOGGLE, not %q", s)
	}
	return nil
}
