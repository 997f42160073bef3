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
		x, y := hsbToXY(model.HSB{Hue: c.Hue, Saturation: c.Saturation, Brightness: 1})
		want := colorconv.HSToXY(c.Hue, c.Saturation, nil)
		for _, v := range []struct{ got, want float64 }{{x, want.X}, {y, want.Y}} {
			if d := math.Abs(float64(xyToZCL(v.got))/65536 - v.want); d > 1.0/65536 {
				t.Errorf("%s: sent %d/65536, want %g", c.Name, xyToZCL(v.got), v.want)
			}
		}
	}
}
