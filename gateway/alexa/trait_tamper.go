package alexa

import "github.com/avshub/avshub/discovery/model"

// tamper: a read-only InstanceTamper ModeController in both profiles.
func init() {
	register(model.TraitTamper, binarySensor{InstanceTamper, txtTamper, "Tamper.Detected", txtTampered, "Tamper.Clear", txtClear,
		func(t model.Traits) bool { return t.Tamper != nil }, func(s model.State) *bool { return s.Tamper }, ""}.renderings())
}
