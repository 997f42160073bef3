package mqtt

import "github.com/avshub/avshub/discovery/colorconv"

// hsToXY converts an Alexa hue/saturation to the xy sent to a light, with
// avshub's one colour conversion (discovery/colorconv): the Zigbee bridge
// sends the same xy for the same colour. g is the light's gamut (nil: none known).
func hsToXY(hue, sat float64, g *colorconv.Gamut) (x, y float64) {
	p := colorconv.HSToXY(hue, sat, g)
	return p.X, p.Y
}

// xyToHS converts a light's xy to hue (0–360) and saturation (0–1).
func xyToHS(x, y float64) (hue, sat float64) { return colorconv.XYToHS(colorconv.Point{X: x, Y: y}) }
