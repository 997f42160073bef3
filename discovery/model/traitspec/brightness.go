package traitspec

func init() {
	Register(Trait{
		Kind: "brightness", Name: "Brightness", Doc: "Brightness is the brightness trait: a level of 0–100 %.",
		TraitsField: "Brightness", TraitsJSON: "brightness", TraitsProto: 2, KindProto: 2,
		State:   []Field{{Name: "Brightness", JSON: "brightness", Proto: 2, Type: Int, Shape: Ptr}},
		Command: &Field{Name: "Brightness", JSON: "brightness", Proto: 4, Type: Int, Shape: Ptr}, StateField: "Brightness",
		Setter:       "SetBrightness",
		ExampleState: "Brightness: Ptr(40)",
	})
}
