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
	var e State
	switch c.Trait {
	case TraitOnOff:
		e.On = cloneP(s.On)
	case TraitBrightness:
		e.Brightness, e.On = cloneP(s.Brightness), cloneP(s.On)
	case TraitColor:
		e.Color = cloneP(s.Color)
	case TraitColorTemperature:
		e.ColorTemperature = cloneP(s.ColorTemperature)
	case TraitLock:
		e.Lock = s.Lock
	case TraitThermostat:
		e.Thermostat = s.Thermostat.clone()
	case TraitToggle:
		if v, ok := s.Toggles[c.Instance]; ok {
			e.Toggles = map[string]bool{c.Instance: v}
		}
	case TraitRange:
		if v, ok := s.Ranges[c.Instance]; ok {
			e.Ranges = map[string]float64{c.Instance: v}
		}
	case TraitMode:
		if v, ok := s.Modes[c.Instance]; ok {
			e.Modes = map[string]string{c.Instance: v}
		}
	case TraitCover:
		e.CoverPosition, e.CoverTilt = cloneP(s.CoverPosition), cloneP(s.CoverTilt)
	case TraitFan:
		e.FanSpeed, e.On = cloneP(s.FanSpeed), cloneP(s.On)
	case TraitSiren:
		e.Siren = cloneP(s.Siren)
	}
	return e
}
