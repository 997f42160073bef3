package colorconv

import "strings"

// The gamuts Philips publishes for its Hue lamps (Hue developer
// documentation, "Color conversion formulas RGB to xy and back" and the
// supported-lights table): A for the LivingColors and early LightStrips, B
// for the first Hue bulbs, C for the Hue lamps since 2015.
var (
	HueGamutA = Gamut{R: Point{0.704, 0.296}, G: Point{0.2151, 0.7106}, B: Point{0.138, 0.08}}
	HueGamutB = Gamut{R: Point{0.675, 0.322}, G: Point{0.409, 0.518}, B: Point{0.167, 0.04}}
	HueGamutC = Gamut{R: Point{0.6915, 0.3083}, G: Point{0.17, 0.7}, B: Point{0.1532, 0.0475}}
)

// hueGamuts maps Hue model identifiers (the Zigbee Basic cluster's
// ModelIdentifier, zigbee2mqtt's model_id) to their gamut, from Philips'
// supported-lights table.
var hueGamuts = map[string]*Gamut{
	"LLC005": &HueGamutA, "LLC006": &HueGamutA, "LLC007": &HueGamutA, "LLC010": &HueGamutA,
	"LLC011": &HueGamutA, "LLC012": &HueGamutA, "LLC013": &HueGamutA, "LLC014": &HueGamutA, "LST001": &HueGamutA,
	"LCT001": &HueGamutB, "LCT002": &HueGamutB, "LCT003": &HueGamutB, "LCT007": &HueGamutB, "LLM001": &HueGamutB,
	"LCT010": &HueGamutC, "LCT011": &HueGamutC, "LCT012": &HueGamutC, "LCT014": &HueGamutC, "LCT015": &HueGamutC,
	"LCT016": &HueGamutC, "LLC020": &HueGamutC, "LST002": &HueGamutC,
}

// HueGamut returns the gamut of a Hue lamp by its model identifier, or nil
// when the model is not one Philips lists (nothing is clamped then).
func HueGamut(modelID string) *Gamut {
	return hueGamuts[strings.ToUpper(strings.TrimSpace(modelID))]
}

// PrimariesGamut returns the gamut a Zigbee light declares in its Color
// Control cluster (ZCL 5.2.2.2.2: NumberOfPrimaries 0x0010, Primary1X/Y
// 0x0011/0x0012, Primary2X/Y 0x0015/0x0016, Primary3X/Y 0x0019/0x001A, each
// x or y = value / 65536), or nil when it does not declare three to six
// primaries (0xFF: unknown), a coordinate is out of the ZCL's range (above
// 0xFEFF), a point is no chromaticity (x + y > 1) or they do not span a
// triangle.
func PrimariesGamut(n uint8, xy [3][2]uint16) *Gamut {
	if n < 3 || n > 6 {
		return nil
	}
	var p [3]Point
	for i, v := range xy {
		if v[0] > 0xFEFF || v[1] > 0xFEFF {
			return nil
		}
		p[i] = Point{float64(v[0]) / 65536, float64(v[1]) / 65536}
		if p[i].X+p[i].Y > 1 {
			return nil
		}
	}
	g := Gamut{R: p[0], G: p[1], B: p[2]}
	// Twice the triangle's signed area: zero when the points are in a line.
	if a := (g.G.X-g.R.X)*(g.B.Y-g.R.Y) - (g.G.Y-g.R.Y)*(g.B.X-g.R.X); a < 1e-4 && a > -1e-4 {
		return nil
	}
	return &g
}
