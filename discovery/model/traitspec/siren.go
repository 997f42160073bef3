package traitspec

func init() {
	Register(Trait{
		Kind: "siren", Name: "Siren", Doc: "Siren is the siren trait: the alarm sounding or not.",
		TraitsField: "Siren", TraitsJSON: "siren", TraitsProto: 24, KindProto: 24,
		State:   []Field{{Name: "Siren", JSON: "siren", Proto: 23, Type: Bool, Shape: Ptr}},
		Command: &Field{Name: "Siren", JSON: "siren", Proto: 14, Type: Bool, Shape: Ptr}, StateField: "Siren",
		Setter:       "SetSiren",
		Example:      `&Siren{}`,
		ExampleState: "Siren: Ptr(false)",
	})
}
