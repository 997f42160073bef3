package colorconv

import (
	"math"
	"testing"
)

// Reference values:
//   - The Hue gamut triangles: Philips Hue developer documentation, "Color
//     conversion formulas RGB to xy and back" (the hue bulb, gamut B: red
//     0.675, 0.322, green 0.4091, 0.518 — 0.409 in the supported-lights table,
//     used here —, blue 0.167, 0.04; LivingColors Bloom,
//     Aura and Iris, gamut A: red 0.704, 0.296, green 0.2151, 0.7106, blue
//     0.138, 0.08) and its supported-lights table (gamut C: red 0.6915,
//     0.3083, green 0.17, 0.7, blue 0.1532, 0.0475; which model has which).
//   - The sRGB primaries and D65 white: IEC 61966-2-1:1999 (see
//     colorconv_test.go).
//   - A colour outside a lamp's gamut goes to the closest point of the
//     triangle (the same documentation: "calculate the closest point on the
//     line"); the expected points below were computed from the published
//     corners with an independent implementation and rounded to 4 decimals.
func TestHueGamutClamp(t *testing.T) {
	for _, c := range []struct {
		model    string
		hue, sat float64
		want     Point
	}{
		// Gamut A (LivingColors): sRGB red and green lie inside, sRGB blue does not.
		{"LLC010", 0, 1, Point{0.6400, 0.3300}},
		{"LLC010", 120, 1, Point{0.3000, 0.6000}},
		{"LLC010", 240, 1, Point{0.1418, 0.0815}},
		{"LLC010", 0, 0, Point{0.3127, 0.3290}},
		// Gamut B (the first Hue bulb): green, blue and even D65 lie outside.
		{"LCT001", 0, 1, Point{0.6400, 0.3300}},
		{"LCT001", 120, 1, Point{0.4090, 0.5180}},
		{"LCT001", 240, 1, Point{0.1716, 0.0491}},
		{"LCT001", 0, 0, Point{0.3132, 0.3288}},
		// Gamut C (Hue since 2015): only sRGB blue lies outside.
		{"LCT015", 0, 1, Point{0.6400, 0.3300}},
		{"LCT015", 120, 1, Point{0.3000, 0.6000}},
		{"LCT015", 240, 1, Point{0.1535, 0.0599}},
		{"LCT015", 0, 0, Point{0.3127, 0.3290}},
	} {
		g := HueGamut(c.model)
		if g == nil {
			t.Fatalf("HueGamut(%s) = nil", c.model)
		}
		if got := HSToXY(c.hue, c.sat, g); math.Abs(got.X-c.want.X) > 1e-4 || math.Abs(got.Y-c.want.Y) > 1e-4 {
			t.Errorf("%s: HSToXY(%g, %g) = %v, want %v", c.model, c.hue, c.sat, got, c.want)
		}
	}
}

func TestHueGamutByModel(t *testing.T) {
	for model, want := range map[string]*Gamut{
		"LST001": &HueGamutA, "LLC007": &HueGamutA,
		"LCT001": &HueGamutB, "LCT003": &HueGamutB, "LLM001": &HueGamutB,
		"LCT010": &HueGamutC, "LCT016": &HueGamutC, "LST002": &HueGamutC, " lct015 ": &HueGamutC,
		"TRADFRI bulb E27 CWS opal 600lm": nil, "": nil,
	} {
		if got := HueGamut(model); got != want {
			t.Errorf("HueGamut(%q) = %v, want %v", model, got, want)
		}
	}
}

// A gamut's corners are inside it; a point outside moves onto its edge.
func TestClampKeepsCorners(t *testing.T) {
	for _, g := range []Gamut{HueGamutA, HueGamutB, HueGamutC} {
		for _, p := range []Point{g.R, g.G, g.B} {
			if got := g.Clamp(p); got != p {
				t.Errorf("Clamp(%v) = %v, want the corner itself", p, got)
			}
		}
		got := g.Clamp(Point{0.9, 0.9})
		if again := g.Clamp(got); math.Hypot(again.X-got.X, again.Y-got.Y) > 1e-9 {
			t.Errorf("Clamp of a point far outside gives %v, which is not on the gamut (clamps again to %v)", got, again)
		}
	}
}

func TestPrimariesGamut(t *testing.T) {
	enc := func(v float64) uint16 { return uint16(math.Round(v * 65536)) }
	c := HueGamutC
	g := PrimariesGamut(3, [3][2]uint16{{enc(c.R.X), enc(c.R.Y)}, {enc(c.G.X), enc(c.G.Y)}, {enc(c.B.X), enc(c.B.Y)}})
	if g == nil {
		t.Fatal("three primaries gave no gamut")
	}
	for _, p := range [][2]Point{{g.R, c.R}, {g.G, c.G}, {g.B, c.B}} {
		if math.Abs(p[0].X-p[1].X) > 1e-4 || math.Abs(p[0].Y-p[1].Y) > 1e-4 {
			t.Errorf("primary %v, want %v", p[0], p[1])
		}
	}
	if got := HSToXY(240, 1, g); math.Abs(got.X-0.1535) > 1e-4 || math.Abs(got.Y-0.0599) > 1e-4 {
		t.Errorf("blue clamped by the declared primaries = %v, want gamut C's (0.1535, 0.0599)", got)
	}
	for _, tc := range []struct {
		name string
		n    uint8
		xy   [3][2]uint16
	}{
		{"two primaries", 2, [3][2]uint16{{45318, 20205}, {11141, 45875}, {10040, 3113}}},
		{"an unknown number (0xFF)", 0xFF, [3][2]uint16{{45318, 20205}, {11141, 45875}, {10040, 3113}}},
		{"primaries in a line", 3, [3][2]uint16{{100, 100}, {200, 200}, {300, 300}}},
		{"all zero (a light that fills them with nothing)", 3, [3][2]uint16{}},
		{"a coordinate above 0xFEFF", 3, [3][2]uint16{{0xFFFF, 20205}, {11141, 45875}, {10040, 3113}}},
		{"a point with x + y > 1", 3, [3][2]uint16{{45318, 30000}, {11141, 45875}, {10040, 3113}}},
	} {
		if g := PrimariesGamut(tc.n, tc.xy); g != nil {
			t.Errorf("%s gave a gamut %v", tc.name, *g)
		}
	}
}
