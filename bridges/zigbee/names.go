package zigbee

import "github.com/avshub/avshub/discovery/model"

// kind says what the device is, in the words a person uses.
func (r *record) kind(t model.Traits) string { return model.DeviceKind(t, r.Model, r.heatOnly()) }

// heatOnly reports whether the device is a heating-only thermostat (a
// radiator valve).
func (r *record) heatOnly() bool { return heatOnlyModels[r.Model] }

// defaultName is the name a device gets before a person names it: who made it
// and what it is ("IKEA bulb", "Yale lock", "Danfoss radiator valve"), never a
// model id or an address. Two devices with the same default name are numbered
// by the hub ("IKEA bulb 2").
func (r *record) defaultName(t model.Traits) string {
	return model.DefaultName(model.Brand(r.Manufacturer), r.kind(t))
}
