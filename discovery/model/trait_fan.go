package model

import "fmt"

// The fan trait's hand-written part: command validation and its log form.

func (c Command) validateFan(t Traits, _ State) error {
	if t.Fan == nil {
		return notSupported(c)
	}
	if c.FanSpeed == nil {
		return invalid(c, "fan speed is missing")
	}
	if *c.FanSpeed < 0 || *c.FanSpeed > 100 {
		return OutOfRange(fmt.Sprintf("fan speed %d is outside 0–100", *c.FanSpeed), 0, 100)
	}
	return nil
}

func (c Command) describeFan() (string, bool) {
	if c.FanSpeed == nil {
		return "", false
	}
	return fmt.Sprintf("fanSpeed=%d", *c.FanSpeed), true
}
