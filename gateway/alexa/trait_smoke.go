package alexa

import "github.com/avshub/avshub/discovery/model"

// smoke: a read-only InstanceSmoke ModeController in both profiles.
func init() {
	register(model.TraitSmoke, binarySensor{InstanceSmoke, txtSmoke, "Smoke.Detected", txtSmokeDetected, "Smoke.Clear", txtClear,
		func(t model.Traits) bool { return t.Smoke != nil }, func(s model.State) *bool { return s.Smoke }, ""}.renderings())
}
