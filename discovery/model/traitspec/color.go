package traitspec

func init() {
	Register(Trait{
		Kind: "color", Name: "Color", Doc: "Color is the color trait: hue, saturation and brightness.",
		TraitsField: "Color", TraitsJSON: "color", TraitsProto: 3, KindProto: 3,
		State:   []Field{{Name: "Color", JSON: "color", Proto: 3, Type: HSB, Shape: Ptr}},
		Command: &Field{Name: "Color", JSON: "color", Proto: 5, Type: HSB, Shape: Ptr}, StateField: "Color",
		Setter:       "SetColor",
		ExampleState: "Color: &HSB{Hue: 120, Saturation: 0.5, Brightness: 0.8}",
	})
}
