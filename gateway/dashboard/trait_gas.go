package dashboard

import "github.com/avshub/avshub/discovery/model"

// gas: a binary_sensor of device_class gas; state "gas" ON/OFF.
func init() {
	register(model.TraitGas, binarySensor{"gas", "gas", "Gas", false,
		func(t model.Traits) bool { return t.Gas != nil }, func(s model.State) *bool { return s.Gas }}.trait())
}
