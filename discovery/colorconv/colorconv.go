// Package colorconv is the one colour conversion of avshub, shared by every
// bridge: Alexa's hue/saturation (sRGB) ↔ CIE 1931 xy ↔ correlated colour
// temperature, clamped to a device's gamut where it declares one.
//
// xy ↔ RGB uses the sRGB primaries and D65 white of IEC 61966-2-1 (the
// primaries of ITU-R BT.709), with sRGB's transfer function; kelvin → xy
// follows the Planckian locus (Kim et al.'s cubic approximation, 1667–25000
// K); xy → kelvin is McCamy's formula. xy values are rounded to 4 decimals
// (what zigbee2mqtt carries; finer than a lamp resolves), so every bridge sends
// the same xy for the same colour.
package colorconv

import "math"

// Point is a CIE 1931 xy chromaticity.
type Point struct{ X, Y float64 }

// White is the D65 white point (IEC 61966-2-1).
var White = Point{0.3127, 0.3290}

// Gamut is the triangle of colours a lamp can show (its red, green and blue
// primaries in xy), as Zigbee's Color Control cluster and Hue lamps declare it.
type Gamut struct{ R, G, B Point }

// HSToXY converts a hue (degrees) and saturation (0–1) at full brightness to
// xy, clamped into g when g is not nil.
func HSToXY(hue, sat float64, g *Gamut) Point {
	if math.IsNaN(hue) || math.IsNaN(sat) {
		return White
	}
	r, gr, b := HSVToRGB(hue, math.Max(0, math.Min(1, sat)), 1)
	p := RGBToXY(r, gr, b)
	if g != nil {
		p = g.Clamp(p)
	}
	return round(p)
}

// XYToHS converts an xy point to hue (0–360) and saturation (0–1).
func XYToHS(p Point) (hue, sat float64) {
	r, g, b := XYToRGB(p)
	h, s, _ := RGBToHSV(r, g, b)
	return h, s
}

// RGBToXY converts sRGB (gamma-encoded, 0–1) to xy; black gives the white point.
func RGBToXY(r, g, b float64) Point {
	r, g, b = decode(r), decode(g), decode(b)
	X := 0.4124*r + 0.3576*g + 0.1805*b
	Y := 0.2126*r + 0.7152*g + 0.0722*b
	Z := 0.0193*r + 0.1192*g + 0.9505*b
	s := X + Y + Z
	if s <= 0 {
		return White
	}
	return Point{X / s, Y / s}
}

// XYToRGB converts xy to sRGB (gamma-encoded, 0–1) at the brightest level
// whose channels fit; colours outside sRGB are desaturated to fit.
func XYToRGB(p Point) (r, g, b float64) {
	if p.Y <= 0 || math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) {
		return 1, 1, 1
	}
	X := p.X / p.Y
	Z := (1 - p.X - p.Y) / p.Y
	r = 3.2406*X - 1.5372 - 0.4986*Z
	g = -0.9689*X + 1.8758 + 0.0415*Z
	b = 0.0557*X - 0.2040 + 1.0570*Z
	r, g, b = math.Max(r, 0), math.Max(g, 0), math.Max(b, 0)
	m := math.Max(r, math.Max(g, b))
	if m <= 0 {
		return 1, 1, 1
	}
	return encode(r / m), encode(g / m), encode(b / m)
}

// KelvinToXY is the point of the Planckian locus at k kelvin (clamped to 1667–25000 K).
func KelvinToXY(k float64) Point {
	t := math.Max(1667, math.Min(25000, k))
	var x float64
	if t <= 4000 {
		x = -0.2661239e9/(t*t*t) - 0.2343589e6/(t*t) + 0.8776956e3/t + 0.179910
	} else {
		x = -3.0258469e9/(t*t*t) + 2.1070379e6/(t*t) + 0.2226347e3/t + 0.240390
	}
	var y float64
	switch {
	case t <= 2222:
		y = -1.1063814*x*x*x - 1.34811020*x*x + 2.18555832*x - 0.20219683
	case t <= 4000:
		y = -0.9549476*x*x*x - 1.37418593*x*x + 2.09137015*x - 0.16748867
	default:
		y = 3.0817580*x*x*x - 5.87338670*x*x + 3.75112997*x - 0.37001483
	}
	return round(Point{x, y})
}

// XYToKelvin is the correlated colour temperature of an xy point (McCamy).
func XYToKelvin(p Point) float64 {
	if math.Abs(0.1858-p.Y) < 1e-6 {
		return 1e6 // the formula's pole (a deep blue, far from any white)
	}
	n := (p.X - 0.3320) / (0.1858 - p.Y)
	return 449*n*n*n + 3525*n*n + 6823.3*n + 5520.33
}

// MiredToKelvin and KelvinToMired convert between kelvin and mired (ZCL and
// zigbee2mqtt's colour temperature unit), rounding to whole numbers.
func MiredToKelvin(m float64) int {
	if m <= 0 {
		return 0
	}
	return int(math.Round(1e6 / m))
}

// KelvinToMired converts kelvin to mired (see MiredToKelvin).
func KelvinToMired(k float64) int {
	if k <= 0 {
		return 0
	}
	return int(math.Round(1e6 / k))
}

// Clamp returns p if it lies in the gamut, else the closest point on its edge.
func (g Gamut) Clamp(p Point) Point {
	if g.contains(p) {
		return p
	}
	best, bestD := p, math.Inf(1)
	for _, e := range [][2]Point{{g.R, g.G}, {g.G, g.B}, {g.B, g.R}} {
		q := closest(e[0], e[1], p)
		if d := (q.X-p.X)*(q.X-p.X) + (q.Y-p.Y)*(q.Y-p.Y); d < bestD {
			best, bestD = q, d
		}
	}
	return best
}

func (g Gamut) contains(p Point) bool {
	cross := func(a, b, c Point) float64 { return (b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X) }
	d1, d2, d3 := cross(g.R, g.G, p), cross(g.G, g.B, p), cross(g.B, g.R, p)
	neg := d1 < 0 || d2 < 0 || d3 < 0
	pos := d1 > 0 || d2 > 0 || d3 > 0
	return !(neg && pos)
}

func closest(a, b, p Point) Point {
	dx, dy := b.X-a.X, b.Y-a.Y
	l := dx*dx + dy*dy
	if l == 0 {
		return a
	}
	t := math.Max(0, math.Min(1, ((p.X-a.X)*dx+(p.Y-a.Y)*dy)/l))
	return Point{a.X + t*dx, a.Y + t*dy}
}

// RGBToHSV converts RGB (0–1) to hue (0–360), saturation and value (0–1).
func RGBToHSV(r, g, b float64) (h, s, v float64) {
	mx, mn := math.Max(r, math.Max(g, b)), math.Min(r, math.Min(g, b))
	d := mx - mn
	switch {
	case d == 0:
		h = 0
	case mx == r:
		h = 60 * math.Mod((g-b)/d, 6)
	case mx == g:
		h = 60 * ((b-r)/d + 2)
	default:
		h = 60 * ((r-g)/d + 4)
	}
	if h < 0 {
		h += 360
	}
	if mx > 0 {
		s = d / mx
	}
	return h, s, mx
}

// HSVToRGB converts hue (degrees), saturation and value (0–1) to RGB (0–1).
func HSVToRGB(h, s, v float64) (r, g, b float64) {
	h = math.Mod(h, 360)
	if h < 0 {
		h += 360
	}
	h /= 60
	i := math.Floor(h)
	f := h - i
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	switch int(i) {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	}
	return v, p, q
}

func decode(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

func encode(v float64) float64 {
	if v <= 0.0031308 {
		return 12.92 * v
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}

func round(p Point) Point {
	return Point{math.Round(p.X*1e4) / 1e4, math.Round(p.Y*1e4) / 1e4}
}

// AlexaColors are colours Alexa sends for common colour names (hue, saturation,
// brightness as in Alexa.ColorController's SetColor): the bridges' tests use
// them to show they send the xy HSToXY gives.
var AlexaColors = []struct {
	Name            string
	Hue, Saturation float64
}{
	{"red", 0, 1}, {"orange", 39, 1}, {"yellow", 60, 1}, {"green", 120, 1}, {"cyan", 180, 1},
	{"blue", 240, 1}, {"purple", 277.5, 0.8699}, {"magenta", 300, 1}, {"pink", 349.5, 0.2471}, {"white", 0, 0},
	{"warm white", 27.9, 0.3}, {"lavender", 240, 0.0800},
}
