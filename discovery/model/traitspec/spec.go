// Package traitspec is the one definition of every trait of the device model:
// one file per trait registers a Trait. `make generate` (discovery/model/internal/traitgen)
// turns the definitions into the model's types and methods, the bridge.v1
// protocol messages and their converters. docs/adding-a-trait.md walks through it.
package traitspec

import (
	"fmt"
	"sort"
)

// Shape says how a state or command value is stored and combined.
type Shape int

// Shapes of state and command values.
const (
	// Ptr is a pointer to a comparable value (*bool, *int, *float64, *HSB): nil is unset.
	Ptr Shape = iota
	// Enum is a string type whose zero value ("") is unset (LockState).
	Enum
	// Partial is a pointer to a struct merged field by field (*ThermostatState);
	// the model hand-writes clone, merge and diff<Type> for it.
	Partial
	// Map is map[string]V keyed by a generic trait's instance.
	Map
)

// Type is a value type of the model and its wire form.
type Type struct {
	// Go is the model's Go type of one value ("bool", "HSB", "[]Name").
	Go string
	// Proto is the protocol type ("bool", "int32", "HSB", "repeated Name").
	Proto string
	// ToPB and FromPB convert one value (%s) in package convert; empty means
	// the value passes unchanged.
	ToPB, FromPB string
	// Clone deep-copies a config value (%s); empty means a plain copy.
	Clone string
	// PtrToPB and PtrFromPB convert a pointer to the value (state and commands).
	PtrToPB, PtrFromPB string
}

// Value types.
var (
	Bool   = Type{Go: "bool", Proto: "bool", PtrToPB: "cp(%s)", PtrFromPB: "cp(%s)"}
	Int    = Type{Go: "int", Proto: "int32", ToPB: "int32(%s)", FromPB: "int(%s)", PtrToPB: "i32p(%s)", PtrFromPB: "intp(%s)"}
	Float  = Type{Go: "float64", Proto: "double", PtrToPB: "cp(%s)", PtrFromPB: "cp(%s)"}
	String = Type{Go: "string", Proto: "string", PtrToPB: "cp(%s)", PtrFromPB: "cp(%s)"}
	// HSB is a colour (hue, saturation, brightness).
	HSB = Type{Go: "HSB", Proto: "HSB", PtrToPB: "hsb(%s)", PtrFromPB: "hsbFrom(%s)"}
	// LockState is LOCKED, UNLOCKED or JAMMED.
	LockState = Type{Go: "LockState", Proto: "LockState", ToPB: "locks[%s]", FromPB: "locksBack[%s]"}
	// ThermostatState is a thermostat's mode and setpoints.
	ThermostatState = Type{Go: "ThermostatState", Proto: "ThermostatState", PtrToPB: "thermostatState(%s)", PtrFromPB: "thermostatStateFrom(%s)"}
	// ThermostatModes is a list of thermostat modes.
	ThermostatModes = Type{Go: "[]ThermostatMode", Proto: "repeated ThermostatMode", Clone: "slices.Clone(%s)",
		ToPB:   "mapSlice(%s, func(m model.ThermostatMode) pb.ThermostatMode { return modes[m] })",
		FromPB: "mapSlice(%s, func(m pb.ThermostatMode) model.ThermostatMode { return modesBack[m] })"}
	// Names is a list of friendly names.
	Names = Type{Go: "[]Name", Proto: "repeated Name", Clone: "cloneNames(%s)", ToPB: "names(%s)", FromPB: "namesFrom(%s)"}
	// Presets is a range's named values.
	Presets = Type{Go: "[]Preset", Proto: "repeated Preset", Clone: "clonePresets(%s)", ToPB: "presets(%s)", FromPB: "presetsFrom(%s)"}
	// ModeValues is a mode's values.
	ModeValues = Type{Go: "[]ModeValue", Proto: "repeated ModeValue", Clone: "cloneModeValues(%s)", ToPB: "modeValues(%s)", FromPB: "modeValuesFrom(%s)"}
)

// Field is one field of a trait's configuration, state or command.
type Field struct {
	// Name is the Go field name; JSON its JSON name; Proto its field number in
	// the protocol message (never reuse or renumber a released number).
	Name  string
	JSON  string
	Proto int
	Type  Type
	// Shape applies to state and command fields (configuration fields are plain values).
	Shape Shape
	// OmitEmpty adds ",omitempty" to a configuration field's JSON tag.
	OmitEmpty bool
	// Doc documents the field (one line or more, without "//").
	Doc string
}

// Trait is one trait's definition.
type Trait struct {
	// Kind is the trait's name on the wire and in logs ("color_temperature").
	Kind string
	// Name is the Go name ("ColorTemperature"): the configuration type, the
	// TraitKind constant Trait<Name> and the protocol message <Name>Trait.
	Name string
	// Doc documents the configuration type (without "//", starting with Name).
	Doc string
	// Instances marks a generic trait an endpoint may have several of, each
	// with an Instance name: Traits holds a slice (Field), state a map.
	Instances bool
	// TraitsField is the field name in Traits ("ColorTemperature", "Toggles")
	// and TraitsJSON its JSON name; TraitsProto its number in the protocol's
	// Traits message and KindProto the TraitKind enum number.
	TraitsField string
	TraitsJSON  string
	TraitsProto int
	KindProto   int
	// Config are the configuration fields (empty: a marker trait).
	Config []Field
	// State are the trait's fields in State (with numbers in the State message).
	State []Field
	// Command is the trait's value field in Command (nil: read-only trait);
	// StateField names the State field the command sets.
	Command    *Field
	StateField string
	// Setter is the name of the generated command constructor ("SetPower"); empty: none.
	Setter string
	// Actions are the trait's commands that set no state by themselves (stop a
	// moving cover); only a trait with a Command has them.
	Actions []Action
	// Values are the trait's further value commands, each setting a state
	// field of its own (a cover's tilt beside its position); only a trait
	// with a Command and no instances has them. A command carries one of
	// them, the Command field or an action.
	Values []Value
	// Example is a Go expression (package model) of a typical configuration,
	// the value of the Traits field ("&ColorTemperature{MinKelvin: 2200,
	// MaxKelvin: 6500}"); empty means the zero configuration. ExampleState is a
	// State literal's fields for a typical state ("ColorTemperature: Ptr(2700)").
	// model.Example returns both; the completeness tests of every package that
	// renders or maps traits use them.
	Example      string
	ExampleState string
}

// Action is a trait command that sets no state by itself: a Bool field of
// Command (Shape Ptr) that the command sets to true, besides the trait's value
// field. The trait's validation accepts either; Apply changes nothing for it
// (the device reports what follows).
type Action struct {
	// Field is the Command field, with its number in the protocol's Command message.
	Field Field
	// Setter is the name of the generated constructor, which takes no value ("StopCover").
	Setter string
	// Doc says what the action does (one line, without "//").
	Doc string
}

// Value is a further value command of a trait: a Ptr field of Command that
// sets its own state field, besides the trait's Command field.
type Value struct {
	// Field is the Command field, with its number in the protocol's Command message.
	Field Field
	// StateField names the trait's State field the value sets.
	StateField string
	// Setter is the name of the generated constructor, which takes the value ("TiltCover").
	Setter string
	// Doc says what the value sets (one line, without "//").
	Doc string
}

var all = map[string]Trait{}

// Register adds a trait definition; each trait's file calls it from init.
func Register(t Trait) {
	if _, dup := all[t.Kind]; dup {
		panic(fmt.Sprintf("traitspec: trait %s registered twice", t.Kind))
	}
	all[t.Kind] = t
}

// All returns every trait, ordered by KindProto (the order of the TraitKind enum).
func All() []Trait {
	ts := make([]Trait, 0, len(all))
	for _, t := range all {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].KindProto < ts[j].KindProto })
	return ts
}
