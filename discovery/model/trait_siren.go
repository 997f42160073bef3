package model

import "fmt"

// The siren trait's hand-written part: command validation and its log form.

func (c Command) validateSiren(t Traits, _ State) error {
	if t.Siren == nil {
		return notSupported(c)
	}
	if c.Siren == nil {
		return invalid(c, "siren is missing")
	}
	return nil
}

func (c Command) describeSiren() (string, bool) {
	if c.Siren == nil {
		return "", false
	}
	return fmt.Sprintf("siren=%t", *c.Siren), true
}
