package traitspec

func init() {
	Register(Trait{
		Kind: "gas", Name: "Gas", Doc: "Gas is the gas trait (read only): gas or carbon monoxide detected or not.",
		TraitsField: "Gas", TraitsJSON: "gas", TraitsProto: 21, KindProto: 21,
		State:        []Field{{Name: "Gas", JSON: "gas", Proto: 16, Type: Bool, Shape: Ptr}},
		Example:      `&Gas{}`,
		ExampleState: "Gas: Ptr(true)",
	})
}
