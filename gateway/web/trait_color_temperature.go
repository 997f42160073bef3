package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// color_temperature: "2700 K"; White "warm white (2700 K)".
func init() {
	register(model.TraitColorTemperature, words{
		text: func(s model.State) []string {
			if s.ColorTemperature == nil {
				return nil
			}
			return []string{fmt.Sprintf("%d K", *s.ColorTemperature)}
		},
		lines: func(t model.Traits, s model.State) []StateLine {
			if t.ColorTemperature == nil || s.ColorTemperature == nil {
				return nil
			}
			k := *s.ColorTemperature
			w := "neutral white"
			switch {
			case k <= 3000:
				w = "warm white"
			case k >= 5000:
				w = "cool white"
			}
			return []StateLine{{"White", fmt.Sprintf("%s (%d K)", w, k)}}
		},
	})
}
