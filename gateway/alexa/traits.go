package alexa

import (
	"fmt"
	"slices"
	"sync"

	"github.com/avshub/avshub/discovery/model"
)

// The hand-written Alexa side of each trait lives in one file per trait,
// trait_<kind>.go, which registers what both profiles render for it.
// TestEveryTraitHasBothRenderings fails for a trait of model.AllTraitKinds
// that has no file.

// propFunc builds one context property stamped with the report's time.
type propFunc func(ns, instance, name string, v any) Property

// rendering is one profile's Alexa side of a trait.
type rendering struct {
	// caps renders the trait's capabilities; nothing when t lacks the trait.
	caps func(p *profile, t model.Traits) ([]capability, error)
	// props reports the trait's state; nothing when t lacks the trait or
	// the state is unknown.
	props func(p *profile, t model.Traits, st model.State, prop propFunc) []Property
	// decode decodes a directive addressed to the trait (a read-only trait
	// refuses its own); done is false when d is not for it.
	decode func(p *profile, d *Directive, t model.Traits, st model.State) (in Intent, done bool, err error)
}

// traitRendering is a trait's rendering in both profiles.
type traitRendering struct {
	avs, smartHome rendering
}

// both is the rendering of a trait that looks the same in both profiles.
func both(r rendering) traitRendering { return traitRendering{avs: r, smartHome: r} }

var renderings = map[model.TraitKind]traitRendering{}

// register records the rendering of trait k; called from the trait's file.
func register(k model.TraitKind, r traitRendering) {
	if _, dup := renderings[k]; dup {
		panic(fmt.Sprintf("alexa: trait %s registered twice", k))
	}
	renderings[k] = r
}

// genericKinds are the generic traits, rendered after every other trait (and
// after Alexa.EndpointHealth in the smarthome profile's capabilities).
var genericKinds = []model.TraitKind{model.TraitToggle, model.TraitRange, model.TraitMode}

// avsOrder and smartHomeOrder are the order in which each profile renders and
// decodes the traits; the golden files fix it. A trait missing from a list
// comes after the listed ones, in model.AllTraitKinds order.
var (
	avsOrder = []model.TraitKind{
		model.TraitOnOff, model.TraitBrightness, model.TraitColorTemperature, model.TraitColor, model.TraitLock,
		model.TraitThermostat, model.TraitTemperatureSensor, model.TraitCover,
		model.TraitContact, model.TraitMotion, model.TraitWaterLeak, model.TraitSmoke, model.TraitGas, model.TraitTamper,
		model.TraitHumidity, model.TraitIlluminance, model.TraitPower, model.TraitEnergy, model.TraitBattery,
		model.TraitFan, model.TraitSiren,
	}
	smartHomeOrder = []model.TraitKind{
		model.TraitOnOff, model.TraitBrightness, model.TraitColor, model.TraitColorTemperature, model.TraitLock,
		model.TraitThermostat, model.TraitTemperatureSensor, model.TraitCover,
		model.TraitContact, model.TraitMotion, model.TraitWaterLeak, model.TraitSmoke, model.TraitGas, model.TraitTamper,
		model.TraitHumidity, model.TraitIlluminance, model.TraitPower, model.TraitEnergy, model.TraitBattery,
		model.TraitFan, model.TraitSiren,
	}
)

// ordered returns the non-generic traits in the order listed, then any other
// trait in model.AllTraitKinds order.
func ordered(listed []model.TraitKind) []model.TraitKind {
	out := slices.Clone(listed)
	for _, k := range model.AllTraitKinds() {
		if !slices.Contains(out, k) && !slices.Contains(genericKinds, k) {
			out = append(out, k)
		}
	}
	return out
}

// orderedRenderings lists one profile's renderings: the primary traits in
// order, then the generic ones.
type orderedRenderings struct {
	primary, generic []rendering
}

func orderRenderings(listed []model.TraitKind, pick func(traitRendering) rendering) orderedRenderings {
	var o orderedRenderings
	for _, k := range ordered(listed) {
		if r, ok := renderings[k]; ok {
			o.primary = append(o.primary, pick(r))
		}
	}
	for _, k := range genericKinds {
		if r, ok := renderings[k]; ok {
			o.generic = append(o.generic, pick(r))
		}
	}
	return o
}

// all is every rendering, the generic ones last.
func (o orderedRenderings) all() []rendering { return append(slices.Clone(o.primary), o.generic...) }

// renderCaps appends the capabilities of rs to caps.
func (p *profile) renderCaps(caps []capability, rs []rendering, t model.Traits) ([]capability, error) {
	for _, r := range rs {
		c, err := r.caps(p, t)
		if err != nil {
			return nil, err
		}
		caps = append(caps, c...)
	}
	return caps, nil
}

// renderProps appends the properties of rs to out.
func (p *profile) renderProps(out []Property, rs []rendering, t model.Traits, st model.State, prop propFunc) []Property {
	for _, r := range rs {
		out = append(out, r.props(p, t, st, prop)...)
	}
	return out
}

// decodeTraits decodes d with the first trait it is addressed to. Without
// one, a Toggle/Range/ModeController directive names an instance the
// endpoint lacks, anything else is not supported.
func (p *profile) decodeTraits(rs []rendering, d *Directive, t model.Traits, st model.State) (Intent, error) {
	for _, r := range rs {
		if in, done, err := r.decode(p, d, t, st); done {
			return in, err
		}
	}
	switch d.Header.Namespace {
	case nsToggle, nsRange, nsMode:
		return Intent{}, unknownInstance(d)
	}
	return Intent{}, unsupported(d)
}

// noDecode is the decode of a trait no directive of the profile addresses.
func noDecode(*profile, *Directive, model.Traits, model.State) (Intent, bool, error) {
	return Intent{}, false, nil
}

// avsRenderings and smartHomeRenderings are each profile's renderings in
// order, computed once every trait file has registered.
var (
	avsRenderings = sync.OnceValue(func() orderedRenderings {
		return orderRenderings(avsOrder, func(r traitRendering) rendering { return r.avs })
	})
	smartHomeRenderings = sync.OnceValue(func() orderedRenderings {
		return orderRenderings(smartHomeOrder, func(r traitRendering) rendering { return r.smartHome })
	})
)
