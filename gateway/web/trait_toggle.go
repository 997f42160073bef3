package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// toggle: "<instance> true" per toggle (by instance); on the page by name.
func init() {
	register(model.TraitToggle, words{
		text: func(s model.State) []string {
			var p []string
			for _, k := range sortedKeys(s.Toggles) {
				p = append(p, fmt.Sprintf("%s %t", k, s.Toggles[k]))
			}
			return p
		},
		lines: func(t model.Traits, s model.State) []StateLine {
			var out []StateLine
			for _, x := range t.Toggles {
				if v, ok := s.Toggles[x.Instance]; ok {
					out = append(out, StateLine{instanceName(x.Instance, x.Names), map[bool]string{true: "on", false: "off"}[v]})
				}
			}
			return out
		},
	})
}
