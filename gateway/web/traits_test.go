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
