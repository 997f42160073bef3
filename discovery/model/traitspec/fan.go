package traitspec

func init() {
	Register(Trait{
		Kind: "fan", Name: "Fan", Doc: "Fan is the fan trait: the speed, 0–100 %, and the device's presets (on and off are the on_off trait).",
		TraitsField: "Fan", TraitsJSON: "fan", TraitsProto: 23, KindProto: 23,
		Config: []Field{
			{Name: "Presets", JSON: "presets", Proto: 1, Type: Presets, OmitEmpty: true,
				Doc: "Presets are the device's named speeds (\"low\" = 33 …)."},
		},
		State:   []Field{{Name: "FanSpeed", JSON: "fanSpeed", Proto: 22, Type: Int, Shape: Ptr}},
		Command: &Field{Name: "FanSpeed", JSON: "fanSpeed", Proto: 13, Type: Int, Shape: Ptr}, StateField: "FanSpeed",
		Setter:       "SetFanSpeed",
		Example:      `&Fan{}`,
		ExampleState: "FanSpeed: Ptr(66)",
	})
}
