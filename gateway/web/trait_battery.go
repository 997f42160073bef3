package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// battery: Battery "80 %" ("battery 80 %"), and "low!" when it is.
func init() {
	register(model.TraitBattery, fromLines(func(s model.State) []kindLine {
		var p []kindLine
		if s.Battery != nil {
			p = append(p, kindLine{StateLine{"Battery", fmt.Sprintf("%d %%", *s.Battery)}, fmt.Sprintf("battery %d %%", *s.Battery)})
		}
		if s.BatteryLow != nil && *s.BatteryLow {
			p = append(p, kindLine{StateLine{"Battery", "low!"}, "battery low!"})
		}
		return p
	}))
}
