package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// range: "<instance> 42" per range (by instance); on the page by name with the unit.
func init() {
	register(model.TraitRange, words{
		text: func(s model.State) []string {
			var p []string
			for _, k := range sortedKeys(s.Ranges) {
				p = append(p, fmt.Sprintf("%s %g", k, s.Ranges[k]))
			}
			return p
		},
		lines: func(t model.Traits, s model.State) []StateLine {
			var out []StateLine
			for _, x := range t.Ranges {
				if v, ok := s.Ranges[x.Instance]; ok {
					out = append(out, StateLine{instanceName(x.Instance, x.Names), fmt.Sprintf("%g%s", v, unitSuffix(x.Unit))})
				}
			}
			return out
		},
	})
}
