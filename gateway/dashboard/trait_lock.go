package dashboard

import (
	"encoding/json"
	"strings"

	"github.com/avshub/avshub/discovery/model"
)

// lock: the lock component; state "lock" LOCKED/UNLOCKED/JAMMED, command
// "lock" LOCK/UNLOCK or a bare LOCK/UNLOCK.
func init() {
	register(model.TraitLock, haTrait{
		components: func(c *components) {
			if c.ep.Traits.Lock == nil {
				return
			}
			c.out["lock"] = map[string]any{"p": "lock", "unique_id": c.uid("lock"), "name": c.name("Lock"),
				"state_topic": c.st, "value_template": "{{ value_json.lock }}",
				"command_topic": c.ct, "command_template": `{"lock":"{{ value }}"}`,
				"payload_lock": "LOCK", "payload_unlock": "UNLOCK",
				"state_locked": "LOCKED", "state_unlocked": "UNLOCKED", "state_jammed": "JAMMED"}
		},
		state: func(out map[string]any, n *node) {
			if s := n.entry.State; s.Lock != "" {
				out["lock"] = string(s.Lock)
			}
		},
		commands: map[string]keyDecoder{"lock": func(d *commandDecoder, k string, raw json.RawMessage) error {
			s, err := str(k, raw)
			if err != nil {
				return err
			}
			switch strings.ToUpper(s) {
			case "LOCK", "LOCKED":
				d.middle = append(d.middle, model.SetLock(model.Locked))
			case "UNLOCK", "UNLOCKED":
				d.middle = append(d.middle, model.SetLock(model.Unlocked))
			default:
				return bad("lock must be LOCK or UNLOCK, not %q", s)
			}
			return nil
		}},
		bare: []bareWord{{"LOCK", model.SetLock(model.Locked)}, {"UNLOCK", model.SetLock(model.Unlocked)}},
	})
}
