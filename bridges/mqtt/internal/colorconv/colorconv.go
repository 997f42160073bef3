// Package colorconv is zigbee2mqtt's own colour conversion, as the simulator
// (z2msim) needs it to behave like zigbee2mqtt: the "wide gamut" RGB D65
// matrices zigbee2mqtt and Philips use. The bridges do not use it: they share
// avshub's one conversion, discovery/colorconv.
package colorconv

import "math"

// XYToHS converts a CIE xy point to hue (0–360) and saturation (0–1).
func XYToHS(x, y float64) (hue, sat float64) {
	r, g, b := XYToRGB(x, y)
	h, s, _ := RGBToHSV(r, g, b)
	return h, s
}

// HSToXY converts hue (0–360) and saturation (0–1) to a CIE xy point, rounded
// to 4 decimals as zigbee2mqtt does.
func HSToXY(hue, sat float64) (x, y float64) {
	r, g, b := HSVToRGB(hue, sat, 1)
	return RGBToXY(r, g, b)
}

// XYToRGB converts a CIE xy point at full brightness to gamma-corrected sRGB (0–1).
func XYToRGB(x, y float64) (r, g, b float64) {
	if y <= 0 || math.IsNaN(x) || math.IsNaN(y) {
		return 1, 1, 1
	}
	z := 1 - x - y
	Y := 1.0
	X := Y / y * x
	Z := Y / y * z
	r = X*1.656492 - Y*0.354851 - Z*0.255038
	g = -X*0.707196 + Y*1.655397 + Z*0.036152
	b = X*0.051713 - Y*0.121364 + Z*1.011530
	if m := math.Max(r, math.Max(g, b)); m > 1 {
		r, g, b = r/m, g/m, b/m
	}
	return gammaEncode(r), gammaEncode(g), gammaEncode(b)
}

// RGBToXY converts gamma-corrected sRGB (0–1) to a CIE xy point (4 decimals).
func RGBToXY(r, g, b float64) (x, y float64) {
	r, g, b = gammaDecode(r), gammaDecode(g), gammaDecode(b)
	X := r*0.664511 + g*0.154324 + b*0.162028
	Y := r*0.283881 + g*0.668433 + b*0.047685
	Z := r*0.000088 + g*0.072310 + b*0.986039
	sum := X + Y + Z
	if sum == 0 {
		return 0, 0
	}
	return round4(X / sum), round4(Y / sum)
}

// RGBToHSV converts RGB (0–1) to hue (0–360), saturation and value (0–1).
func RGBToHSV(r, g, b float64) (h, s, v float64) {
	maxc := math.Max(r, math.Max(g, b))
	minc := math.Min(r, math.Min(g, b))
	v = maxc
	d := maxc - minc
	if maxc > 0 {
		s = d / maxc
	}
	if d == 0 {
		return 0, s, v
	}
	switch maxc {
	case r:
		h = math.Mod((g-b)/d, 6)
	case g:
		h = (b-r)/d + 2
	default:
		h = (r-g)/d + 4
	}
	h *= 60
	if h < 0 {
		h += 360
	}
	return h, s, v
}

// HSVToRGB converts hue (0–360), saturation and value (0–1) to RGB (0–1).
func HSVToRGB(h, s, v float64) (r, g, b float64) {
	h = math.Mod(h, 360)
	if h < 0 {
		h += 360
	}
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := v - c
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	return r + m, g + m, b + m
}

func gammaEncode(v float64) float64 {
	if v <= 0.0031308 {
		v = 12.92 * v
	} else {
		v = 1.055*math.Pow(v, 1/2.4) - 0.055
	}
	return math.Max(0, math.Min(1, v))
}

func gammaDecode(v float64) float64 {
	if v > 0.04045 {
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return v / 12.92
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }
