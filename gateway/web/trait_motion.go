package web

import "github.com/avshub/avshub/discovery/model"

// motion: Motion "motion" or "no motion".
func init() {
	register(model.TraitMotion, yesNo("Motion", func(s model.State) *bool { return s.Motion }, "motion", "no motion"))
}
