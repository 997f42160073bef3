package web

import "github.com/avshub/avshub/discovery/model"

// tamper: Tamper "tampered!" or "not tampered".
func init() {
	register(model.TraitTamper, yesNo("Tamper", func(s model.State) *bool { return s.Tamper }, "tampered!", "not tampered"))
}
