package model

import "fmt"

// The mode trait's hand-written part: command validation and its log form.

func (c Command) validateMode(t Traits, _ State) error {
	m := findMode(t.Modes, c.Instance)
	if m == nil || m.NonControllable {
		return notSupported(c)
	}
	for _, v := range m.Values {
		if v.Value == c.Mode {
			return nil
		}
	}
	return &Error{Kind: ErrInvalidValue, Message: fmt.Sprintf("%s has no mode %q", c.Instance, c.Mode)}
}

func (c Command) describeMode() (string, bool) {
	return fmt.Sprintf("mode[%s]=%s", c.Instance, c.Mode), true
}
