package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// illuminance: Light level "320 lx".
func init() {
	register(model.TraitIlluminance, fromLines(func(s model.State) []kindLine {
		if s.Illuminance == nil {
			return nil
		}
		return []kindLine{{StateLine{"Light level", fmt.Sprintf("%.0f lx", *s.Illuminance)}, ""}}
	}))
}
