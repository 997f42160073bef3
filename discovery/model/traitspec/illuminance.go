package traitspec

func init() {
	Register(Trait{
		Kind: "illuminance", Name: "Illuminance", Doc: "Illuminance is the illuminance trait (read only): the illuminance, in lx.",
		TraitsField: "Illuminance", TraitsJSON: "illuminance", TraitsProto: 19, KindProto: 19,
		State:        []Field{{Name: "Illuminance", JSON: "illuminance", Proto: 19, Type: Float, Shape: Ptr}},
		Example:      `&Illuminance{}`,
		ExampleState: "Illuminance: Ptr(320.0)",
	})
}
