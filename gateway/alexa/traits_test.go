package alexa

import (
	"encoding/json"
	"slices"
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

// TestEveryTraitHasBothRenderings lists every trait of the model: each must
// have its file (trait_<kind>.go) registering the capabilities, the
// properties and the directive decoding of both profiles.
func TestEveryTraitHasBothRenderings(t *testing.T) {
	for _, k := range model.AllTraitKinds() {
		r, ok := renderings[k]
		if !ok {
			t.Errorf("trait %s has no Alexa rendering: add gateway/alexa/trait_%s.go", k, k)
			continue
		}
		for name, pr := range map[string]rendering{ProfileAVS: r.avs, ProfileSmartHome: r.smartHome} {
			if pr.caps == nil || pr.props == nil || pr.decode == nil {
				t.Errorf("trait %s: the %s profile lacks its capabilities, properties or decoding", k, name)
			}
		}
	}
	for k := range renderings {
		if !slices.Contains(model.AllTraitKinds(), k) {
			t.Errorf("rendering registered for %s, which is not a trait of the model", k)
		}
	}
}

// TestEveryQuantityHasNames: every measured quantity (model.Quantities) has
// built-in friendly names in every supported language, so a reading of it
// is named in every configured locale.
func TestEveryQuantityHasNames(t *testing.T) {
	for _, k := range model.QuantityKeys() {
		key, ok := quantityText[k]
		if !ok {
			t.Errorf("quantity %s has no friendly name: add it to quantityText", k)
			continue
		}
		for _, lang := range []string{"en", "de", "fr", "es", "it", "pt", "ja"} {
			if translations[key][lang] == "" {
				t.Errorf("quantity %s has no %s name", k, lang)
			}
		}
	}
}
