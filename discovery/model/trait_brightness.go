package model

import "fmt"

// The brightness trait's hand-written part: command validation and its log form.

func (c Command) validateBrightness(t Traits, _ State) error {
	if t.Brightness == nil {
		return notSupported(c)
	}
	if c.Brightness == nil {
		return invalid(c, "brightness is missing")
	}
	if *c.Brightness < 0 || *c.Brightness > 100 {
		return OutOfRange(fmt.Sprintf("brightness %d is outside 0–100", *c.Brightness), 0, 100)
	}
	return nil
}

func (c Command) describeBrightness() (string, bool) {
	if c.Brightness == nil {
		return "", false
	}
	return fmt.Sprintf("brightness=%d", *c.Brightness), true
}
