package web

import "github.com/avshub/avshub/discovery/model"

// water_leak: Water "leak!" or "dry".
func init() {
	register(model.TraitWaterLeak, yesNo("Water", func(s model.State) *bool { return s.WaterLeak }, "leak!", "dry"))
}
