package zigbee

import (
	"math"
	"testing"

	"github.com/avshub/avshub/discovery/colorconv"
	"github.com/avshub/avshub/discovery/model"
)

// TestXYIsTheSharedConversion: for every colour of colorconv.AlexaColors, the
// Move to Color command the bridge sends an xy-only lamp (hsbToXY, then
// xyToZCL, as Execute does) carries the xy of avshub's one colour conversion,
// to the ZCL's resolution (1/65536). The MQTT bridge's test of the same name
// checks the same table, so both bridges send the same xy for the same colour.
func TestXYIsTheSharedConversion(t *testing.T) {
	for _, c := range colorconv.AlexaColors {
		x, y := hsbToXY(model.HSB{Hue: c.Hue, Saturation: c.Saturation, Brightness: 1}, nil)
		want := colorconv.HSToXY(c.Hue, c.Saturation, nil)
		for _, v := range []struct{ got, want float64 }{{x, want.X}, {y, want.Y}} {
			if d := math.Abs(float64(xyToZCL(v.got))/65536 - v.want); d > 1.0/65536 {
				t.Errorf("%s: sent %d/65536, want %g", c.Name, xyToZCL(v.got), v.want)
			}
		}
	}
}

// TestXYKeepsToTheLampsGamut: a lamp whose Basic cluster model identifier is
// a Hue model Philips lists (LCT001, gamut B) gets xy inside its gamut: sRGB
// green, outside gamut B, goes to the gamut's green corner, the xy the MQTT
// bridge's test of the same name sends for the same model.
func TestXYKeepsToTheLampsGamut(t *testing.T) {
	r := &record{Model: "LCT001"}
	x, y := r.xy(&model.State{Color: &model.HSB{Hue: 120, Saturation: 1, Brightness: 1}})
	if want := (colorconv.Point{X: 0.409, Y: 0.518}); x != want.X || y != want.Y {
		t.Errorf("green to an LCT001: xy (%g, %g), want gamut B's green corner %v", x, y, want)
	}
	r.Model = "TRADFRI bulb E27 CWS opal 600lm" // no declared gamut: sRGB green as it is
	if x, y := r.xy(&model.State{Color: &model.HSB{Hue: 120, Saturation: 1, Brightness: 1}}); x != 0.3 || y != 0.6 {
		t.Errorf("green to a lamp without a gamut: xy (%g, %g), want (0.3, 0.6)", x, y)
	}
}
