package web

import (
	"encoding/json"
	"html"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/avshub/avshub/discovery/model"
)

var (
	commandAttr = regexp.MustCompile(`data-command='([^']*)'`)
	inputTrait  = regexp.MustCompile(`<(?:input|select) [^>]*data-trait="([a-z_]+)"`)
)

// TestEveryControllableTraitHasControls renders the device page of one
// endpoint per trait kind (model.Example, with presets added): a kind that
// takes commands (not model's ReadOnly) has its controls,
// every command a button sends validates against the endpoint's traits, and
// a read-only kind has none. A new controllable trait fails here until the
// page can drive it.
func TestEveryControllableTraitHasControls(t *testing.T) {
	for _, k := range model.AllTraitKinds() {
		tr, st := model.Example(k)
		if tr.Fan != nil {
			tr.Fan.Presets = []model.Preset{{Value: 33, Names: []model.Name{{Text: "low"}}}, {Value: 100, Names: []model.Name{{Text: "high"}}}}
		}
		for i := range tr.Ranges {
			tr.Ranges[i].Presets = []model.Preset{{Value: 10, Names: []model.Name{{Text: "maximum"}}}}
		}
		controllable := !k.ReadOnly()
		src := newSource()
		src.eps = []Endpoint{{Endpoint: model.Endpoint{ID: "hub::virtual::x", Bridge: "virtual", FriendlyName: "X " + string(k), Traits: tr}, State: st, Reachable: true}}
		ts := httptest.NewServer(New(src, prometheus.NewRegistry(), nil).Handler())
		code, body := get(t, ts.URL+"/device/hub::virtual::x")
		ts.Close()
		if code != 200 {
			t.Fatalf("%s: device page %d", k, code)
		}
		hasFieldset := strings.Contains(body, `<fieldset data-trait="`+string(k)+`"`)
		switch {
		case controllable && !hasFieldset:
			t.Errorf("%s takes commands but the device page has no control for it", k)
		case !controllable && hasFieldset:
			t.Errorf("%s is read only but the device page has a control for it", k)
		case !controllable && !strings.Contains(body, "Nothing to control"):
			t.Errorf("%s: the page does not say there is nothing to control", k)
		}
		for _, m := range commandAttr.FindAllStringSubmatch(body, -1) {
			var c model.Command
			if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &c); err != nil {
				t.Errorf("%s: button command %s: %v", k, m[1], err)
				continue
			}
			if err := c.Validate(tr, st); err != nil {
				t.Errorf("%s: the page's command %s is refused: %v", k, c, err)
			}
		}
		for _, m := range inputTrait.FindAllStringSubmatch(body, -1) {
			if m[1] != string(k) {
				t.Errorf("%s: an input for trait %s", k, m[1])
			}
		}
	}
}

// TestCoverPageStops: a cover's page has Open, Close and Stop buttons next
// to each other, and Stop sends the cover's stop action (what the router
// validates like any command).
func TestCoverPageStops(t *testing.T) {
	tr, st := model.Example(model.TraitCover)
	src := newSource()
	src.eps = []Endpoint{{Endpoint: model.Endpoint{ID: "hub::virtual::b", Bridge: "virtual", FriendlyName: "Blind", Traits: tr}, State: st, Reachable: true}}
	ts := httptest.NewServer(New(src, prometheus.NewRegistry(), nil).Handler())
	defer ts.Close()
	_, body := get(t, ts.URL+"/device/hub::virtual::b")
	open, cls, stop := strings.Index(body, `id="cover-open"`), strings.Index(body, `id="cover-close"`), strings.Index(body, `id="cover-stop"`)
	if open < 0 || cls < open || stop < cls {
		t.Fatalf("cover buttons open %d, close %d, stop %d: want all three in that order", open, cls, stop)
	}
	m := commandAttr.FindStringSubmatch(body[stop:])
	var c model.Command
	if m == nil || json.Unmarshal([]byte(html.UnescapeString(m[1])), &c) != nil || c.Trait != model.TraitCover || c.CoverStop == nil || !*c.CoverStop || c.CoverPosition != nil {
		t.Fatalf("the Stop button sends %v, want the cover's stop action", m)
	}
}

// TestHexColour: the picker's colour of an HSB state.
func TestHexColour(t *testing.T) {
	for _, c := range []struct {
		in   model.HSB
		want string
	}{
		{model.HSB{Hue: 0, Saturation: 1, Brightness: 1}, "#ff0000"},
		{model.HSB{Hue: 120, Saturation: 1, Brightness: 1}, "#00ff00"},
		{model.HSB{Hue: 240, Saturation: 1, Brightness: 0.5}, "#000080"},
		{model.HSB{Hue: 30, Saturation: 0, Brightness: 1}, "#ffffff"},
		{model.HSB{Hue: 360, Saturation: 1, Brightness: 0}, "#ff0000"},
	} {
		if got := hexColour(c.in); got != c.want {
			t.Errorf("hexColour(%+v) = %s, want %s", c.in, got, c.want)
		}
	}
}
