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

// TestMeasuredQuantityWords: a read-only range of a known quantity reads
// as a person writes it, with its unit and precision, on the page and in
// the compact words; a generic range keeps its instance and Alexa unit.
func TestMeasuredQuantityWords(t *testing.T) {
	r := func(key string) model.Range {
		x, ok := model.MeasurementRange(key)
		if !ok {
			t.Fatalf("no quantity %s", key)
		}
		return x
	}
	tests := []struct {
		name      string
		rng       model.Range
		value     float64
		line      StateLine
		wantWords string
	}{
		{"co2", r(model.QuantityCO2), 850, StateLine{"CO2", "850 ppm"}, "CO2 850 ppm"},
		{"pressure", r(model.QuantityPressure), 1013.25, StateLine{"Pressure", "1013.2 hPa"}, "Pressure 1013.2 hPa"},
		{"soil moisture", r(model.QuantitySoilMoisture), 37.4, StateLine{"Soil moisture", "37 %"}, "Soil moisture 37 %"},
		{"pm2.5", r(model.QuantityPM25), 12, StateLine{"PM2.5", "12 µg/m³"}, "PM2.5 12 µg/m³"},
		{"air quality index", r(model.QuantityAQI), 42, StateLine{"Air quality index", "42"}, "Air quality index 42"},
		{"generic", model.Range{Instance: "Fan.Rpm", Max: 3000, NonControllable: true}, 1200, StateLine{"Rpm", "1200"}, "Fan.Rpm 1200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := model.State{Ranges: map[string]float64{tc.rng.Instance: tc.value}}
			lines := StateLines(model.Traits{Ranges: []model.Range{tc.rng}}, st)
			if len(lines) != 1 || lines[0] != tc.line {
				t.Errorf("StateLines = %+v, want [%+v]", lines, tc.line)
			}
			if got := StateText(st); got != tc.wantWords {
				t.Errorf("StateText = %q, want %q", got, tc.wantWords)
			}
		})
	}
}

// TestMotionDetectsWords: the device page names what a motion-like sensor
// detects (a vibration sensor, an emergency button).
func TestMotionDetectsWords(t *testing.T) {
	for _, tc := range []struct {
		detects string
		on      bool
		want    StateLine
	}{
		{"", true, StateLine{"Motion", "motion"}},
		{model.MotionVibration, true, StateLine{"Vibration", "vibration"}},
		{model.MotionVibration, false, StateLine{"Vibration", "still"}},
		{model.MotionSOS, true, StateLine{"SOS", "SOS!"}},
		{model.MotionRain, true, StateLine{"Rain", "raining"}},
		{model.MotionRain, false, StateLine{"Rain", "dry"}},
		{model.MotionHeat, true, StateLine{"Heat alarm", "heat!"}},
	} {
		lines := StateLines(model.Traits{Motion: &model.Motion{Detects: tc.detects}}, model.State{Motion: model.Ptr(tc.on)})
		if len(lines) != 1 || lines[0] != tc.want {
			t.Errorf("%q %v: StateLines = %+v, want [%+v]", tc.detects, tc.on, lines, tc.want)
		}
	}
}
