package traitspec

func init() {
	Register(Trait{
		Kind: "water_leak", Name: "WaterLeak", Doc: "WaterLeak is the water_leak trait (read only): a water leak detected or not.",
		TraitsField: "WaterLeak", TraitsJSON: "waterLeak", TraitsProto: 13, KindProto: 13,
		State:        []Field{{Name: "WaterLeak", JSON: "waterLeak", Proto: 14, Type: Bool, Shape: Ptr}},
		Example:      `&WaterLeak{}`,
		ExampleState: "WaterLeak: Ptr(true)",
	})
}
