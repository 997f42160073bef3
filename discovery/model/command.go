package model

import "fmt"

// TraitKind names one trait.
type TraitKind string

// String describes the command for logs.
func (c Command) String() string {
	if d, ok := c.describe(); ok {
		return d
	}
	return fmt.Sprintf("invalid command (trait %q)", string(c.Trait))
}

// Validate checks the command against the endpoint's traits and their
// configuration, and against the current state where the rule needs it (a
// thermostat that is off takes no setpoint). It returns an *Error whose Kind
// says what is wrong, or nil.
func (c Command) Validate(t Traits, current State) error {
	return c.validateTrait(t, current)
}

func notSupported(c Command) error {
	return &Error{Kind: ErrNotSupported, Message: fmt.Sprintf("the endpoint has no %s trait%s", c.Trait, instanceSuffix(c.Instance))}
}

func invalid(c Command, msg string) error {
	return &Error{Kind: ErrInvalidValue, Message: fmt.Sprintf("%s%s: %s", c.Trait, instanceSuffix(c.Instance), msg)}
}

func instanceSuffix(instance string) string {
	if instance == "" {
		return ""
	}
	return " " + instance
}

func findToggle(ts []Toggle, instance string) *Toggle {
	for i := range ts {
		if ts[i].Instance == instance {
			return &ts[i]
		}
	}
	return nil
}

func findRange(rs []Range, instance string) *Range {
	for i := range rs {
		if rs[i].Instance == instance {
			return &rs[i]
		}
	}
	return nil
}

func findMode(ms []Mode, instance string) *Mode {
	for i := range ms {
		if ms[i].Instance == instance {
			return &ms[i]
		}
	}
	return nil
}

// Toggle returns the toggle trait with that instance name, or nil.
func (t Traits) Toggle(instance string) *Toggle { return findToggle(t.Toggles, instance) }

// Range returns the range trait with that instance name, or nil.
func (t Traits) Range(instance string) *Range { return findRange(t.Ranges, instance) }

// Mode returns the mode trait with that instance name, or nil.
func (t Traits) Mode(instance string) *Mode { return findMode(t.Modes, instance) }
