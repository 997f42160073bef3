package colorconv

import (
	"math"
	"testing"
)

func TestKnownPoints(t *testing.T) {
	tests := []struct {
		hue, sat float64
		x, y     float64
	}{
		{0, 1, 0.7006, 0.2993},   // Philips red
		{120, 1, 0.1724, 0.7468}, // green
		{240, 1, 0.1355, 0.0399}, // blue
	}
	for _, tc := range tests {
		x, y := HSToXY(tc.hue, tc.sat)
		if math.Abs(x-tc.x) > 1e-3 || math.Abs(y-tc.y) > 1e-3 {
			t.Errorf("HSToXY(%g,%g) = %g,%g want %g,%g", tc.hue, tc.sat, x, y, tc.x, tc.y)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for h := 0.0; h < 360; h += 15 {
		for _, s := range []float64{0.3, 0.6, 1} {
			x, y := HSToXY(h, s)
			h2, s2 := XYToHS(x, y)
			dh := math.Abs(h2 - h)
			dh = math.Min(dh, 360-dh)
			if dh > 3 || math.Abs(s2-s) > 0.03 {
				t.Errorf("hs %g/%g → xy %g/%g → hs %g/%g", h, s, x, y, h2, s2)
			}
		}
	}
}

func TestDegenerateInput(t *testing.T) {
	for _, p := range [][2]float64{{0, 0}, {math.NaN(), 0.3}, {2, -1}} {
		r, g, b := XYToRGB(p[0], p[1])
		for _, v := range []float64{r, g, b} {
			if math.IsNaN(v) || v < 0 || v > 1 {
				t.Errorf("XYToRGB(%v) = %g %g %g", p, r, g, b)
			}
		}
	}
}
