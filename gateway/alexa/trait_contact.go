package alexa

import "github.com/avshub/avshub/discovery/model"

// contact: a read-only InstanceContact ModeController (avs), Alexa.ContactSensor (smarthome).
func init() {
	register(model.TraitContact, binarySensor{InstanceContact, txtContact, "Contact.Open", txtOpen, "Contact.Closed", txtClosed,
		func(t model.Traits) bool { return t.Contact != nil }, func(s model.State) *bool { return s.ContactOpen }, nsContactSensor}.renderings())
}
