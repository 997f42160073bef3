package web

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/avshub/avshub/discovery/model"
)

// The words the page, the status list and the CLI show for each trait's
// state live in one file per trait, trait_<kind>.go.
// TestEveryTraitHasWords fails for a trait of model.AllTraitKinds without one.

// words renders one trait's state for people.
type words struct {
	// text is the compact form of StateText ("40%"); nothing when the state
	// does not know the trait.
	text func(s model.State) []string
	// lines are the device page's labelled lines (StateLines).
	lines func(t model.Traits, s model.State) []StateLine
}

var traitWords = map[model.TraitKind]words{}

// register records the words of trait k; called from its file.
func register(k model.TraitKind, w words) {
	if _, dup := traitWords[k]; dup {
		panic(fmt.Sprintf("web: trait %s registered twice", k))
	}
	traitWords[k] = w
}

// wordOrder is the order of a state's words; a trait missing from it comes
// after the listed ones, before the generic toggles, ranges and modes, in
// model.AllTraitKinds order.
var wordOrder = []model.TraitKind{
	model.TraitOnOff, model.TraitBrightness, model.TraitColor, model.TraitColorTemperature, model.TraitLock,
	model.TraitThermostat, model.TraitTemperatureSensor, model.TraitCover,
	model.TraitContact, model.TraitMotion, model.TraitWaterLeak, model.TraitSmoke, model.TraitGas, model.TraitTamper,
	model.TraitHumidity, model.TraitIlluminance, model.TraitPower, model.TraitEnergy, model.TraitFan, model.TraitSiren,
	model.TraitBattery,
}

var genericKinds = []model.TraitKind{model.TraitToggle, model.TraitRange, model.TraitMode}

// orderedWords are the registered words in order, computed once every trait
// file has registered.
var orderedWords = sync.OnceValue(func() []words {
	kinds := slices.Clone(wordOrder)
	for _, k := range model.AllTraitKinds() {
		if !slices.Contains(kinds, k) && !slices.Contains(genericKinds, k) {
			kinds = append(kinds, k)
		}
	}
	var out []words
	for _, k := range append(kinds, genericKinds...) {
		if w, ok := traitWords[k]; ok {
			out = append(out, w)
		}
	}
	return out
})

// word renders a yes/no reading.
func word(v *bool, yes, no string) []string {
	if v == nil {
		return nil
	}
	return []string{map[bool]string{true: yes, false: no}[*v]}
}

// kindLine is a labelled line whose compact form (short) says what it is
// when the text alone would not ("fan 33 %" for "33 %"; "" = the text).
type kindLine struct {
	StateLine
	short string
}

// fromLines is the words of a trait the state alone describes: the page shows
// the lines, StateText their compact forms.
func fromLines(f func(s model.State) []kindLine) words {
	return words{
		text: func(s model.State) []string {
			var p []string
			for _, l := range f(s) {
				p = append(p, cmp.Or(l.short, l.Text))
			}
			return p
		},
		lines: func(_ model.Traits, s model.State) []StateLine {
			var out []StateLine
			for _, l := range f(s) {
				out = append(out, l.StateLine)
			}
			return out
		},
	}
}

// yesNo is the words of a detected/clear reading labelled label.
func yesNo(label string, get func(model.State) *bool, yes, no string) words {
	return fromLines(func(s model.State) []kindLine {
		if v := get(s); v != nil {
			return []kindLine{{StateLine{label, map[bool]string{true: yes, false: no}[*v]}, ""}}
		}
		return nil
	})
}
