package alexa

import "github.com/avshub/avshub/discovery/model"

// gas: a read-only InstanceGas ModeController in both profiles.
func init() {
	register(model.TraitGas, binarySensor{InstanceGas, txtGas, "Gas.Detected", txtGasDetected, "Gas.Clear", txtClear,
		func(t model.Traits) bool { return t.Gas != nil }, func(s model.State) *bool { return s.Gas }, ""}.renderings())
}
