package traitspec

func init() {
	Register(Trait{
		Kind: "color_temperature", Name: "ColorTemperature",
		Doc:         "ColorTemperature is the color_temperature trait, limited to a kelvin range.",
		TraitsField: "ColorTemperature", TraitsJSON: "colorTemperature", TraitsProto: 4, KindProto: 4,
		Config: []Field{
			{Name: "MinKelvin", JSON: "minKelvin", Proto: 1, Type: Int},
			{Name: "MaxKelvin", JSON: "maxKelvin", Proto: 2, Type: Int},
		},
		State:   []Field{{Name: "ColorTemperature", JSON: "colorTemperature", Proto: 4, Type: Int, Shape: Ptr}},
		Command: &Field{Name: "ColorTemperature", JSON: "colorTemperature", Proto: 6, Type: Int, Shape: Ptr}, StateField: "ColorTemperature",
		Setter:       "SetColorTemperature",
		Example:      "&ColorTemperature{MinKelvin: 2200, MaxKelvin: 6500}",
		ExampleState: "ColorTemperature: Ptr(2700)",
	})
}
