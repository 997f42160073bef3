package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// humidity: Humidity "45 %" ("45 % humidity").
func init() {
	register(model.TraitHumidity, fromLines(func(s model.State) []kindLine {
		if s.Humidity == nil {
			return nil
		}
		return []kindLine{{StateLine{"Humidity", fmt.Sprintf("%.0f %%", *s.Humidity)}, fmt.Sprintf("%.0f %% humidity", *s.Humidity)}}
	}))
}
