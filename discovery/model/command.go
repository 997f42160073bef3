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

// Effect returns the part of s the command is about: its trait's fields (for
// a generic trait, only its instance), with the on/off a brightness or a fan
// speed also switches (zigbee2mqtt reports a light turned on by its
// brightness; 0 turns it off). A bridge answers a command with its Effect on
// the state the device reached, never the whole state: a reading the device
// sent meanwhile (a plug's power after its relay) reaches the hub as its own
// event, and a copy of it in the answer, which may arrive later, could be
// older and overwrite it. cmd.Effect(cmd.Apply(State{})) is what the command
// sets.
func (c Command) Effect(s State) State {
	if c.Trait.ReadOnly() {
		return State{} // no command is about a reading
	}
	e := s.Only(c.Trait)
	if c.Trait == TraitBrightness || c.Trait == TraitFan {
		e.On = cloneP(s.On)
	}
	e.Toggles = onlyKey(e.Toggles, c.Instance)
	e.Ranges = onlyKey(e.Ranges, c.Instance)
	e.Modes = onlyKey(e.Modes, c.Instance)
	return e
}

// onlyKey returns m's entry for k alone (nil if m has none).
func onlyKey[V any](m map[string]V, k string) map[string]V {
	if v, ok := m[k]; ok {
		return map[string]V{k: v}
	}
	return nil
}
