package model

import (
	"fmt"
	"math"
)

// The color trait's hand-written part: command validation and its log form.

func (c Command) validateColor(t Traits, _ State) error {
	if t.Color == nil {
		return notSupported(c)
	}
	if c.Color == nil {
		return invalid(c, "color is missing")
	}
	h := *c.Color
	if h.Hue < 0 || h.Hue > 360 || h.Saturation < 0 || h.Saturation > 1 || h.Brightness < 0 || h.Brightness > 1 ||
		math.IsNaN(h.Hue) || math.IsNaN(h.Saturation) || math.IsNaN(h.Brightness) {
		return &Error{Kind: ErrInvalidValue, Message: "color must have hue 0–360 and saturation and brightness 0–1"}
	}
	return nil
}

func (c Command) describeColor() (string, bool) {
	if c.Color == nil {
		return "", false
	}
	return fmt.Sprintf("color=h%.1f/s%.3f/b%.3f", c.Color.Hue, c.Color.Saturation, c.Color.Brightness), true
}
