package web

import "github.com/avshub/avshub/discovery/model"

// smoke: Smoke "smoke!" or "no smoke".
func init() {
	register(model.TraitSmoke, yesNo("Smoke", func(s model.State) *bool { return s.Smoke }, "smoke!", "no smoke"))
}
