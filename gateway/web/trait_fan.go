package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// fan: Fan speed "66 %" ("fan 66 %").
func init() {
	register(model.TraitFan, fromLines(func(s model.State) []kindLine {
		if s.FanSpeed == nil {
			return nil
		}
		return []kindLine{{StateLine{"Fan speed", fmt.Sprintf("%d %%", *s.FanSpeed)}, fmt.Sprintf("fan %d %%", *s.FanSpeed)}}
	}))
}
