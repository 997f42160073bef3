package traitspec

func init() {
	Register(Trait{
		Kind: "power", Name: "Power", Doc: "Power is the power trait (read only): the active power a plug or meter measures, in W.",
		TraitsField: "Power", TraitsJSON: "power", TraitsProto: 14, KindProto: 14,
		State:        []Field{{Name: "Watts", JSON: "watts", Proto: 20, Type: Float, Shape: Ptr}},
		Example:      `&Power{}`,
		ExampleState: "Watts: Ptr(1200.0)",
	})
}
