package web

import (
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// TestEveryTraitStateHasWords lists every trait of the model
// (model.AllTraitKinds): the page must show each trait's state in words. A
// new trait fails here until StateText renders it.
func TestEveryTraitStateHasWords(t *testing.T) {
	for _, k := range model.AllTraitKinds() {
		_, st := model.Example(k)
		if got, nothing := StateText(st), StateText(model.State{}); got == "" || got == nothing {
			t.Errorf("the page shows nothing for the state of trait %s", k)
		}
	}
}

// TestEveryTraitHasWords lists every trait of the model: each must have its
// file (trait_<kind>.go) registering its compact words and its page lines,
// and the page must show a line for the trait's example state.
func TestEveryTraitHasWords(t *testing.T) {
	for _, k := range model.AllTraitKinds() {
		w, ok := traitWords[k]
		if !ok || w.text == nil || w.lines == nil {
			t.Errorf("trait %s has no words: add gateway/web/trait_%s.go", k, k)
			continue
		}
		traits, st := model.Example(k)
		if len(StateLines(traits, st)) == 0 {
			t.Errorf("the device page shows no line for the state of trait %s", k)
		}
	}
}
