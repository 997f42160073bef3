package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// temperature_sensor: "21.5 °C".
func init() {
	register(model.TraitTemperatureSensor, words{
		text: func(s model.State) []string {
			if s.Temperature == nil {
				return nil
			}
			return []string{fmt.Sprintf("%.1f °C", *s.Temperature)}
		},
		lines: func(t model.Traits, s model.State) []StateLine {
			if s.Temperature == nil {
				return nil
			}
			return []StateLine{{"Temperature", fmt.Sprintf("%.1f °C", *s.Temperature)}}
		},
	})
}
