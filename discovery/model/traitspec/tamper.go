package traitspec

func init() {
	Register(Trait{
		Kind: "tamper", Name: "Tamper", Doc: "Tamper is the tamper trait (read only): the device's case opened or moved.",
		TraitsField: "Tamper", TraitsJSON: "tamper", TraitsProto: 22, KindProto: 22,
		State:        []Field{{Name: "Tamper", JSON: "tamper", Proto: 17, Type: Bool, Shape: Ptr}},
		Example:      `&Tamper{}`,
		ExampleState: "Tamper: Ptr(true)",
	})
}
