package model

import "slices"

// Clone returns a deep copy of ep, so callers cannot alias each other's data.
func (ep Endpoint) Clone() Endpoint {
	ep.Connections = slices.Clone(ep.Connections)
	ep.Traits = ep.Traits.Clone()
	return ep
}
