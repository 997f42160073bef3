package web

import (
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// TestKindWords: each kind's state reads in the words a person uses, on the
// device page and in the compact form the status page and the CLI show
// (issue 15: "open", "motion", "leak!", "42 %", "1.2 kW").
func TestKindWords(t *testing.T) {
	p := model.Ptr[float64]
	for _, tc := range []struct {
		name   string
		traits model.Traits
		st     model.State
		lines  []StateLine
		words  string
	}{
		{"door open", model.Traits{Contact: &model.Contact{}}, model.State{ContactOpen: model.Ptr(true)},
			[]StateLine{{"Contact", "open"}}, "open"},
		{"motion", model.Traits{Motion: &model.Motion{}}, model.State{Motion: model.Ptr(true)},
			[]StateLine{{"Motion", "motion"}}, "motion"},
		{"leak", model.Traits{WaterLeak: &model.WaterLeak{}}, model.State{WaterLeak: model.Ptr(true)},
			[]StateLine{{"Water", "leak!"}}, "leak!"},
		{"blind 42 % open", model.Traits{Cover: &model.Cover{}}, model.State{CoverPosition: model.Ptr(42)},
			[]StateLine{{"Position", "42 % open"}}, "42 % open"},
		{"venetian blind", model.Traits{Cover: &model.Cover{Tilt: true}}, model.State{CoverPosition: model.Ptr(100), CoverTilt: model.Ptr(40)},
			[]StateLine{{"Position", "open"}, {"Slats", "40 % open"}}, "open, slats 40 % open"},
		{"slats closed", model.Traits{Cover: &model.Cover{Tilt: true}}, model.State{CoverTilt: model.Ptr(0)},
			[]StateLine{{"Slats", "closed"}}, "slats closed"},
		{"humidity 42 %", model.Traits{Humidity: &model.Humidity{}}, model.State{Humidity: p(42)},
			[]StateLine{{"Humidity", "42 %"}}, "42 % humidity"},
		{"plug 1.2 kW", model.Traits{Power: &model.Power{}}, model.State{Watts: p(1200)},
			[]StateLine{{"Power", "1.2 kW"}}, "1.2 kW"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := StateLines(tc.traits, tc.st)
			if len(lines) != len(tc.lines) {
				t.Fatalf("StateLines = %+v, want %+v", lines, tc.lines)
			}
			for i := range lines {
				if lines[i] != tc.lines[i] {
					t.Errorf("StateLines = %+v, want %+v", lines, tc.lines)
				}
			}
			if got := StateText(tc.st); got != tc.words {
				t.Errorf("StateText = %q, want %q", got, tc.words)
			}
		})
	}
}
