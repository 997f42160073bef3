package colorconv

import (
	"math"
	"testing"
)

// Reference values:
//   - sRGB primaries and white point: IEC 61966-2-1:1999 (the primaries of
//     ITU-R BT.709-6, Table 1, items 1.3 and 1.4): red (0.6400, 0.3300), green
//     (0.3000, 0.6000), blue (0.1500, 0.0600), D65 (0.3127, 0.3290).
//   - CIE standard illuminants and their correlated colour temperatures:
//     CIE 15:2004 Colorimetry, Table T.3 (2° observer): A (0.44757, 0.40745)
//     2856 K, D50 (0.34567, 0.35850) 5003 K, D55 (0.33242, 0.34743) 5503 K,
//     D65 (0.31271, 0.32902) 6504 K, D75 (0.29902, 0.31485) 7504 K.
//   - Illuminant A is a Planckian radiator at 2856 K (CIE 15:2004 §3.1), so the
//     Planckian locus passes through its chromaticity.
func TestSRGBPrimariesAndWhite(t *testing.T) {
	for _, c := range []struct {
		name     string
		hue, sat float64
		want     Point
	}{
		{"red primary", 0, 1, Point{0.6400, 0.3300}},
		{"green primary", 120, 1, Point{0.3000, 0.6000}},
		{"blue primary", 240, 1, Point{0.1500, 0.0600}},
		{"D65 white", 0, 0, Point{0.3127, 0.3290}},
	} {
		got := HSToXY(c.hue, c.sat, nil)
		if !near(got, c.want, 0.0002) {
			t.Errorf("%s: HSToXY(%g, %g) = %v, want %v", c.name, c.hue, c.sat, got, c.want)
		}
		h, s := XYToHS(c.want)
		if math.Abs(s-c.sat) > 0.002 || (c.sat > 0 && angle(h, c.hue) > 0.5) {
			t.Errorf("%s: XYToHS(%v) = %g, %g; want %g, %g", c.name, c.want, h, s, c.hue, c.sat)
		}
	}
}

func TestCIEIlluminantCCT(t *testing.T) {
	for _, c := range []struct {
		name string
		xy   Point
		cct  float64
	}{
		{"A", Point{0.44757, 0.40745}, 2856},
		{"D50", Point{0.34567, 0.35850}, 5003},
		{"D55", Point{0.33242, 0.34743}, 5503},
		{"D65", Point{0.31271, 0.32902}, 6504},
		{"D75", Point{0.29902, 0.31485}, 7504},
	} {
		// McCamy's formula is within a few kelvin of the exact CCT in this range.
		if got := XYToKelvin(c.xy); math.Abs(got-c.cct) > 10 {
			t.Errorf("XYToKelvin(%s %v) = %.1f, want %g", c.name, c.xy, got, c.cct)
		}
	}
	if got := KelvinToXY(2856); !near(got, Point{0.44757, 0.40745}, 0.001) {
		t.Errorf("KelvinToXY(2856) = %v, want illuminant A (0.44757, 0.40745)", got)
	}
}

func TestKelvinRoundTrip(t *testing.T) {
	for k := 2000.0; k <= 6500; k += 250 {
		if got := XYToKelvin(KelvinToXY(k)); math.Abs(got-k)/k > 0.015 { // McCamy drifts to ~1 % at 2000 K
			t.Errorf("XYToKelvin(KelvinToXY(%g)) = %.0f", k, got)
		}
	}
}

func TestHueRoundTrip(t *testing.T) {
	for h := 0.0; h < 360; h += 7.5 {
		for _, s := range []float64{0.25, 0.6, 1} {
			gh, gs := XYToHS(HSToXY(h, s, nil))
			if angle(gh, h) > 1.5 || math.Abs(gs-s) > 0.01 {
				t.Errorf("HS(%g, %g) → xy → HS = %.2f, %.3f", h, s, gh, gs)
			}
		}
	}
}

// TestGamutClamp: a lamp with Philips' gamut B (its published primaries)
// cannot show sRGB's blue; the clamped point lies on its edge, and colours
// inside are untouched.
func TestGamutClamp(t *testing.T) {
	gamutB := Gamut{R: Point{0.675, 0.322}, G: Point{0.409, 0.518}, B: Point{0.167, 0.04}}
	// An orange well inside the gamut stays where it is.
	if in, want := HSToXY(30, 0.6, &gamutB), HSToXY(30, 0.6, nil); in != want {
		t.Errorf("orange inside the gamut moved from %v to %v", want, in)
	}
	green := HSToXY(120, 1, &gamutB)
	if !gamutB.contains(green) && !onEdge(gamutB, green) {
		t.Errorf("clamped green %v is outside the gamut", green)
	}
	if green == HSToXY(120, 1, nil) {
		t.Errorf("green (0.30, 0.60) lies outside gamut B but was not clamped")
	}
}

func TestDegenerateInput(t *testing.T) {
	for _, p := range []Point{{0, 0}, {0.3, -1}, {math.NaN(), 0.3}, {math.Inf(1), 0.2}, {2, 3}} {
		h, s := XYToHS(p)
		if math.IsNaN(h) || math.IsNaN(s) || h < 0 || h >= 360 || s < 0 || s > 1 {
			t.Errorf("XYToHS(%v) = %g, %g", p, h, s)
		}
	}
	if p := HSToXY(math.NaN(), 1, nil); p != White {
		t.Errorf("HSToXY(NaN) = %v", p)
	}
}

func near(a, b Point, tol float64) bool { return math.Abs(a.X-b.X) <= tol && math.Abs(a.Y-b.Y) <= tol }

func angle(a, b float64) float64 {
	d := math.Abs(math.Mod(a-b+540, 360) - 180)
	return d
}

func onEdge(g Gamut, p Point) bool {
	for _, e := range [][2]Point{{g.R, g.G}, {g.G, g.B}, {g.B, g.R}} {
		q := closest(e[0], e[1], p)
		if near(q, p, 1e-3) {
			return true
		}
	}
	return false
}
