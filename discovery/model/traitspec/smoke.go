package traitspec

func init() {
	Register(Trait{
		Kind: "smoke", Name: "Smoke", Doc: "Smoke is the smoke trait (read only): smoke detected or not.",
		TraitsField: "Smoke", TraitsJSON: "smoke", TraitsProto: 20, KindProto: 20,
		State:        []Field{{Name: "Smoke", JSON: "smoke", Proto: 15, Type: Bool, Shape: Ptr}},
		Example:      `&Smoke{}`,
		ExampleState: "Smoke: Ptr(true)",
	})
}
