package dashboard

import "github.com/avshub/avshub/discovery/model"

// contact: a binary_sensor of device_class door; state "contact" ON/OFF.
func init() {
	register(model.TraitContact, binarySensor{"contact", "door", "Contact", false,
		func(t model.Traits) bool { return t.Contact != nil }, func(s model.State) *bool { return s.ContactOpen }}.trait())
}
