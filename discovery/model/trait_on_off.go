package model

import "fmt"

// The on_off trait's hand-written part: command validation and its log form.

func (c Command) validateOnOff(t Traits, _ State) error {
	if t.OnOff == nil {
		return notSupported(c)
	}
	if c.Power == nil {
		return invalid(c, "power is missing")
	}
	return nil
}

func (c Command) describeOnOff() (string, bool) {
	if c.Power == nil {
		return "", false
	}
	return fmt.Sprintf("on_off=%t", *c.Power), true
}
