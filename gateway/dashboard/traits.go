package dashboard

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/avshub/avshub/discovery/model"
)

// The Home Assistant side of each trait lives in one file per trait,
// trait_<kind>.go, which registers its components, its part of the state
// document and the command keys it accepts. TestEveryTraitHasItsParts fails
// for a trait of model.AllTraitKinds that has no file.

// haTrait is the Home Assistant side of one trait.
type haTrait struct {
	// components adds the trait's components; nothing when the endpoint
	// lacks the trait.
	components func(c *components)
	// state adds the trait's part of the state document.
	state func(out map[string]any, n *node)
	// commands decode the command keys the trait accepts; none for a
	// read-only trait.
	commands map[string]keyDecoder
	// bare are the payloads accepted without JSON (ON, LOCK…), in order.
	bare []bareWord
}

// bareWord is a bare command payload, matched without regard to case.
type bareWord struct {
	word string
	cmd  model.Command
}

// components is what a trait's components are rendered from and into.
type components struct {
	out    map[string]map[string]any
	ep     model.Endpoint
	st, ct string              // the node's state and command topics
	uid    func(string) string // unique id of a component id
	name   func(string) any    // a component's name (nil for the first: the device's main feature)
}

// keyDecoder decodes the value of one command key into d.
type keyDecoder func(d *commandDecoder, key string, raw json.RawMessage) error

// commandDecoder collects the commands of one payload (see DecodeCommand).
type commandDecoder struct {
	fields            map[string]json.RawMessage
	ep                model.Endpoint
	current           model.State
	powerOn, powerOff []model.Command
	middle            []model.Command
	thermo            model.ThermostatState
	hasThermo         bool
}

var haTraits = map[model.TraitKind]haTrait{}

// register records the Home Assistant side of trait k; called from its file.
func register(k model.TraitKind, h haTrait) {
	if _, dup := haTraits[k]; dup {
		panic(fmt.Sprintf("dashboard: trait %s registered twice", k))
	}
	haTraits[k] = h
}

// componentOrder is the order traits add their components in (the first one
// is the device's main feature, named null); the golden files fix it. A
// trait missing from it comes after the listed ones, before the generic
// toggles, ranges and modes, in model.AllTraitKinds order.
var componentOrder = []model.TraitKind{
	model.TraitOnOff, model.TraitBrightness, model.TraitColor, model.TraitColorTemperature, model.TraitLock,
	model.TraitThermostat, model.TraitTemperatureSensor, model.TraitCover, model.TraitFan, model.TraitSiren,
	model.TraitContact, model.TraitMotion, model.TraitWaterLeak, model.TraitSmoke, model.TraitGas, model.TraitTamper,
	model.TraitBattery, model.TraitHumidity, model.TraitIlluminance, model.TraitPower, model.TraitEnergy,
}

// genericKinds come last: their component ids avoid those already taken.
var genericKinds = []model.TraitKind{model.TraitToggle, model.TraitRange, model.TraitMode}

type registry struct {
	ordered []haTrait             // in componentOrder, then the rest, then genericKinds
	keys    map[string]keyDecoder // every command key
	bare    []bareWord
}

// traitRegistry is the registered traits in order, computed once every trait
// file has registered.
var traitRegistry = sync.OnceValue(func() registry {
	kinds := slices.Clone(componentOrder)
	for _, k := range model.AllTraitKinds() {
		if !slices.Contains(kinds, k) && !slices.Contains(genericKinds, k) {
			kinds = append(kinds, k)
		}
	}
	kinds = append(kinds, genericKinds...)
	r := registry{keys: map[string]keyDecoder{}}
	for _, k := range kinds {
		h, ok := haTraits[k]
		if !ok {
			continue
		}
		r.ordered = append(r.ordered, h)
		r.bare = append(r.bare, h.bare...)
		for key, dec := range h.commands {
			if _, dup := r.keys[key]; dup {
				panic(fmt.Sprintf("dashboard: command key %q of trait %s is another trait's", key, k))
			}
			r.keys[key] = dec
		}
	}
	return r
})
