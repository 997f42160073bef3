package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// power: Power "60.0 W" or "1.2 kW".
func init() {
	register(model.TraitPower, fromLines(func(s model.State) []kindLine {
		if s.Watts == nil {
			return nil
		}
		if w := *s.Watts; w >= 1000 || w <= -1000 {
			return []kindLine{{StateLine{"Power", fmt.Sprintf("%.1f kW", w/1000)}, ""}}
		}
		return []kindLine{{StateLine{"Power", fmt.Sprintf("%.1f W", *s.Watts)}, ""}}
	}))
}
