package alexa

import (
	"math"

	"github.com/avshub/avshub/discovery/model"
)

// namedColor is one value of the avs profile's Light.Color mode.
type namedColor struct {
	value string
	key   textKey
	hue   float64
	sat   float64
}

// namedColors are the colours the avs profile offers (ModeController
// Light.Color), with the hue and saturation each sets. Brightness is kept.
var namedColors = []namedColor{
	{"Color.White", txtWhite, 0, 0},
	{"Color.Red", txtRed, 0, 1},
	{"Color.Orange", txtOrange, 30, 1},
	{"Color.Yellow", txtYellow, 60, 1},
	{"Color.Green", txtGreen, 120, 1},
	{"Color.Cyan", txtCyan, 180, 1},
	{"Color.Blue", txtBlue, 240, 1},
	{"Color.Purple", txtPurple, 275, 1},
	{"Color.Magenta", txtMagenta, 300, 1},
	{"Color.Pink", txtPink, 330, 0.5},
}

// colorByValue returns the named colour with that mode value.
func colorByValue(v string) (namedColor, bool) {
	for _, c := range namedColors {
		if c.value == v {
			return c, true
		}
	}
	return namedColor{}, false
}

// nearestColor returns the named colour closest to c on the hue/saturation
// disc (brightness ignored), so any colour reports as one mode value.
func nearestColor(c model.HSB) namedColor {
	x, y := polar(c.Hue, clamp(c.Saturation, 0, 1))
	best, bestD := namedColors[0], math.Inf(1)
	for _, n := range namedColors {
		nx, ny := polar(n.hue, n.sat)
		if d := math.Hypot(x-nx, y-ny); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func polar(hue, sat float64) (float64, float64) {
	r := hue * math.Pi / 180
	return sat * math.Cos(r), sat * math.Sin(r)
}

// miredStep is the colour-temperature step of Increase/DecreaseColorTemperature
// (as Home Assistant does: 50 mireds is a perceptually even step).
const miredStep = 50

// stepColorTemperature moves cur (K) one step cooler (higher K) or warmer and
// clamps the result to [min, max].
func stepColorTemperature(cur int, cooler bool, min, max int) int {
	if cur <= 0 {
		cur = 1
	}
	m := 1e6 / float64(cur)
	if cooler {
		m -= miredStep
	} else {
		m += miredStep
	}
	k := math.Inf(1)
	if m > 0 {
		k = 1e6 / m
	}
	return int(math.Round(clamp(k, float64(min), float64(max))))
}
