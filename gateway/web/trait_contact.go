package web

import "github.com/avshub/avshub/discovery/model"

// contact: Contact "open" or "closed".
func init() {
	register(model.TraitContact, yesNo("Contact", func(s model.State) *bool { return s.ContactOpen }, "open", "closed"))
}
