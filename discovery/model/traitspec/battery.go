package traitspec

func init() {
	Register(Trait{
		Kind: "battery", Name: "Battery", Doc: "Battery is the battery trait (read only): the level in % and the low-battery flag, reported as endpoint health.",
		TraitsField: "Battery", TraitsJSON: "battery", TraitsProto: 17, KindProto: 17,
		State: []Field{
			{Name: "Battery", JSON: "battery", Proto: 24, Type: Int, Shape: Ptr},
			{Name: "BatteryLow", JSON: "batteryLow", Proto: 25, Type: Bool, Shape: Ptr},
		},
		Example:      `&Battery{}`,
		ExampleState: "Battery: Ptr(87), BatteryLow: Ptr(false)",
	})
}
