package alexa

import (
	"fmt"
	"math"
)

// Scale is a temperature scale as Alexa names it.
type Scale string

// Temperature scales.
const (
	Celsius    Scale = "CELSIUS"
	Fahrenheit Scale = "FAHRENHEIT"
	Kelvin     Scale = "KELVIN"
)

// ParseScale checks a scale name; "" is CELSIUS.
func ParseScale(s string) (Scale, error) {
	switch Scale(s) {
	case "":
		return Celsius, nil
	case Celsius, Fahrenheit, Kelvin:
		return Scale(s), nil
	}
	return "", fmt.Errorf("unknown temperature scale %q", s)
}

// ToCelsius converts an absolute temperature in scale s to °C.
func ToCelsius(v float64, s Scale) float64 {
	switch s {
	case Fahrenheit:
		return (v - 32) * 5 / 9
	case Kelvin:
		return v - 273.15
	}
	return v
}

// FromCelsius converts an absolute temperature in °C to scale s.
func FromCelsius(c float64, s Scale) float64 {
	switch s {
	case Fahrenheit:
		return c*9/5 + 32
	case Kelvin:
		return c + 273.15
	}
	return c
}

// IntervalToCelsius converts a temperature difference in scale s to °C
// (no offset: 9 °F of difference are 5 °C, 1 K is 1 °C).
func IntervalToCelsius(d float64, s Scale) float64 {
	if s == Fahrenheit {
		return d * 5 / 9
	}
	return d
}

// IntervalFromCelsius converts a temperature difference in °C to scale s.
func IntervalFromCelsius(d float64, s Scale) float64 {
	if s == Fahrenheit {
		return d * 9 / 5
	}
	return d
}

// round rounds v to n decimals.
func round(v float64, n int) float64 {
	p := math.Pow10(n)
	r := math.Round(v*p) / p
	if r == 0 {
		return 0 // no "-0"
	}
	return r
}

// clamp limits v to [lo, hi].
func clamp(v, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, v))
}

// snap rounds v to the grid min + k·step (step ≤ 0 leaves v alone) and clamps
// the result to [min, max].
func snap(v, min, max, step float64) float64 {
	if step > 0 {
		v = min + math.Round((v-min)/step)*step
		v = round(v, 6)
	}
	return clamp(v, min, max)
}
