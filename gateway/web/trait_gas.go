package web

import "github.com/avshub/avshub/discovery/model"

// gas: Gas "gas!" or "no gas".
func init() {
	register(model.TraitGas, yesNo("Gas", func(s model.State) *bool { return s.Gas }, "gas!", "no gas"))
}
