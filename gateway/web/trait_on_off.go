package web

import (
	"github.com/avshub/avshub/discovery/model"
)

// on_off: "on" or "off"; Power.
func init() {
	register(model.TraitOnOff, words{
		text: func(s model.State) []string {
			return word(s.On, "on", "off")
		},
		lines: func(t model.Traits, s model.State) []StateLine {
			if t.OnOff == nil || s.On == nil {
				return nil
			}
			return []StateLine{{"Power", map[bool]string{true: "on", false: "off"}[*s.On]}}
		},
	})
}
