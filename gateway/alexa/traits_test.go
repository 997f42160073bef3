package alexa

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// TestEveryTraitRendersInBothProfiles lists every trait of the model
// (model.AllTraitKinds, generated from the trait definitions): each, alone on
// an endpoint, must give at least one capability of its own and report its
// state as a property, in both profiles. A new trait fails here until both
// profiles render it.
func TestEveryTraitRendersInBothProfiles(t *testing.T) {
	base := map[string]bool{"Alexa": true, "Alexa.EndpointHealth": true}
	for _, name := range []string{ProfileAVS, ProfileSmartHome} {
		p, err := ProfileByName(name, ProfileOptions{Locales: []string{"en-US"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range model.AllTraitKinds() {
			t.Run(name+"/"+string(k), func(t *testing.T) {
				traits, st := model.Example(k)
				ep := model.Endpoint{ID: "S::b::d", DeviceID: "d", FriendlyName: "Example", Category: model.CategoryOther, Traits: traits}
				raw, err := p.Endpoint(ep)
				if err != nil {
					t.Fatalf("render: %v", err)
				}
				var out struct {
					Capabilities []struct {
						Interface string `json:"interface"`
					} `json:"capabilities"`
				}
				if err := json.Unmarshal(raw, &out); err != nil {
					t.Fatal(err)
				}
				own := 0
				for _, c := range out.Capabilities {
					if !base[c.Interface] {
						own++
					}
				}
				if own == 0 {
					t.Fatalf("%s renders no capability for trait %s: %s", name, k, raw)
				}
				props := p.Properties(ep, st, true, time.Unix(1_700_000_000, 0))
				ownProps := 0
				for _, pr := range props {
					if !base[pr.Namespace] {
						ownProps++
					}
				}
				if ownProps == 0 {
					t.Fatalf("%s reports no property for the state of trait %s (%+v)", name, k, props)
				}
			})
		}
	}
}
