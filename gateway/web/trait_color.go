package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// color: "hue 120 sat 0.50"; Colour by name.
func init() {
	register(model.TraitColor, words{
		text: func(s model.State) []string {
			if s.Color == nil {
				return nil
			}
			return []string{fmt.Sprintf("hue %.0f sat %.2f", s.Color.Hue, s.Color.Saturation)}
		},
		lines: func(t model.Traits, s model.State) []StateLine {
			if t.Color == nil || s.Color == nil {
				return nil
			}
			return []StateLine{{"Colour", colourName(s.Color.Hue, s.Color.Saturation)}}
		},
	})
}
