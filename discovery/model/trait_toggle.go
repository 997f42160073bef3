package model

import "fmt"

// The toggle trait's hand-written part: command validation and its log form.

func (c Command) validateToggle(t Traits, _ State) error {
	tg := findToggle(t.Toggles, c.Instance)
	if tg == nil || tg.NonControllable {
		return notSupported(c)
	}
	if c.Toggle == nil {
		return invalid(c, "toggle value is missing")
	}
	return nil
}

func (c Command) describeToggle() (string, bool) {
	if c.Toggle == nil {
		return "", false
	}
	return fmt.Sprintf("toggle[%s]=%t", c.Instance, *c.Toggle), true
}
