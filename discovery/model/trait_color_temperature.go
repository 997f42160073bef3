package model

import "fmt"

// The color_temperature trait's hand-written part: command validation and its log form.

func (c Command) validateColorTemperature(t Traits, _ State) error {
	ct := t.ColorTemperature
	if ct == nil {
		return notSupported(c)
	}
	if c.ColorTemperature == nil {
		return invalid(c, "colour temperature is missing")
	}
	if k := *c.ColorTemperature; k < ct.MinKelvin || k > ct.MaxKelvin {
		return OutOfRange(fmt.Sprintf("colour temperature %d K is outside %d–%d K", k, ct.MinKelvin, ct.MaxKelvin),
			float64(ct.MinKelvin), float64(ct.MaxKelvin))
	}
	return nil
}

func (c Command) describeColorTemperature() (string, bool) {
	if c.ColorTemperature == nil {
		return "", false
	}
	return fmt.Sprintf("color_temperature=%dK", *c.ColorTemperature), true
}
