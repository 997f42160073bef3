package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// energy: Energy "12.34 kWh".
func init() {
	register(model.TraitEnergy, fromLines(func(s model.State) []kindLine {
		if s.EnergyKWh == nil {
			return nil
		}
		return []kindLine{{StateLine{"Energy", fmt.Sprintf("%.2f kWh", *s.EnergyKWh)}, ""}}
	}))
}
