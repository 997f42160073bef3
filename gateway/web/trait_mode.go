package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// mode: "<instance> <value>" per mode (by instance); on the page by name.
func init() {
	register(model.TraitMode, words{
		text: func(s model.State) []string {
			var p []string
			for _, k := range sortedKeys(s.Modes) {
				p = append(p, fmt.Sprintf("%s %s", k, s.Modes[k]))
			}
			return p
		},
		lines: func(t model.Traits, s model.State) []StateLine {
			var out []StateLine
			for _, x := range t.Modes {
				if v, ok := s.Modes[x.Instance]; ok {
					out = append(out, StateLine{instanceName(x.Instance, x.Names), v})
				}
			}
			return out
		},
	})
}
