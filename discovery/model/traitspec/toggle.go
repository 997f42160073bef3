package traitspec

func init() {
	Register(Trait{
		Kind: "toggle", Name: "Toggle", Doc: "Toggle is a generic on/off trait identified by an instance name.",
		Instances: true, TraitsField: "Toggles", TraitsJSON: "toggles", TraitsProto: 8, KindProto: 8,
		Config: []Field{
			{Name: "Instance", JSON: "instance", Proto: 1, Type: String},
			{Name: "Names", JSON: "names", Proto: 2, Type: Names},
			{Name: "NonControllable", JSON: "nonControllable", Proto: 3, Type: Bool, OmitEmpty: true, Doc: "NonControllable marks a toggle that reports state but takes no commands."},
		},
		State:   []Field{{Name: "Toggles", JSON: "toggles", Proto: 8, Type: Bool, Shape: Map}},
		Command: &Field{Name: "Toggle", JSON: "toggle", Proto: 9, Type: Bool, Shape: Ptr}, StateField: "Toggles",
		Setter:       "SetToggle",
		Example:      `[]Toggle{{Instance: "Example.Toggle", Names: []Name{{Text: "example", Locale: "en-US"}}}}`,
		ExampleState: `Toggles: map[string]bool{"Example.Toggle": true}`,
	})
}
