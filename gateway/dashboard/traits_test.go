package dashboard

import (
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
