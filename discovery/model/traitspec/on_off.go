package traitspec

func init() {
	Register(Trait{
		Kind: "on_off", Name: "OnOff", Doc: "OnOff is the on_off trait: power on and off.",
		TraitsField: "OnOff", TraitsJSON: "onOff", TraitsProto: 1, KindProto: 1,
		State:   []Field{{Name: "On", JSON: "on", Proto: 1, Type: Bool, Shape: Ptr}},
		Command: &Field{Name: "Power", JSON: "power", Proto: 3, Type: Bool, Shape: Ptr}, StateField: "On",
		Setter:       "SetPower",
		ExampleState: "On: Ptr(true)",
	})
}
