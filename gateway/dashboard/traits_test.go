package dashboard

import (
	"slices"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// TestEveryTraitHasAComponent lists every trait of the model
// (model.AllTraitKinds, generated from the trait definitions): each, alone on
// an endpoint, must become at least one Home Assistant component. A new trait
// fails here until the dashboard renders it.
func TestEveryTraitHasAComponent(t *testing.T) {
	for _, k := range model.AllTraitKinds() {
		t.Run(string(k), func(t *testing.T) {
			traits, _ := model.Example(k)
			ep := model.Endpoint{ID: "S::b::d", DeviceID: "d", FriendlyName: "Example", Category: model.CategoryOther, Traits: traits}
			if cs := testLayout.components(NodeID(ep), ep); len(cs) == 0 {
				t.Fatalf("trait %s gives no Home Assistant component", k)
			}
		})
	}
}

// TestEveryTraitHasItsParts lists every trait of the model: each must have
// its file (trait_<kind>.go) registering its components and its part of the
// state document, and a trait that takes commands at least one command key
// (a read-only one none).
func TestEveryTraitHasItsParts(t *testing.T) {
	for _, k := range model.AllTraitKinds() {
		h, ok := haTraits[k]
		if !ok {
			t.Errorf("trait %s has no Home Assistant side: add gateway/dashboard/trait_%s.go", k, k)
			continue
		}
		if h.components == nil || h.state == nil {
			t.Errorf("trait %s lacks its components or its state", k)
		}
		if k.ReadOnly() != (len(h.commands) == 0) {
			t.Errorf("trait %s: read-only %t, but %d command keys", k, k.ReadOnly(), len(h.commands))
		}
	}
	for k := range haTraits {
		if !slices.Contains(model.AllTraitKinds(), k) {
			t.Errorf("Home Assistant side registered for %s, which is not a trait of the model", k)
		}
	}
}
