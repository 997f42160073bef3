package traitspec

func init() {
	Register(Trait{
		Kind: "humidity", Name: "Humidity", Doc: "Humidity is the humidity trait (read only): the relative humidity, in %.",
		TraitsField: "Humidity", TraitsJSON: "humidity", TraitsProto: 18, KindProto: 18,
		State:        []Field{{Name: "Humidity", JSON: "humidity", Proto: 18, Type: Float, Shape: Ptr}},
		Example:      `&Humidity{}`,
		ExampleState: "Humidity: Ptr(45.0)",
	})
}
