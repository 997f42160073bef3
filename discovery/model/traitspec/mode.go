package traitspec

func init() {
	Register(Trait{
		Kind: "mode", Name: "Mode", Doc: "Mode is a generic trait with named values, identified by an instance name.",
		Instances: true, TraitsField: "Modes", TraitsJSON: "modes", TraitsProto: 10, KindProto: 10,
		Config: []Field{
			{Name: "Instance", JSON: "instance", Proto: 1, Type: String},
			{Name: "Names", JSON: "names", Proto: 2, Type: Names},
			{Name: "Ordered", JSON: "ordered", Proto: 3, Type: Bool, OmitEmpty: true},
			{Name: "Values", JSON: "values", Proto: 4, Type: ModeValues},
			{Name: "NonControllable", JSON: "nonControllable", Proto: 5, Type: Bool, OmitEmpty: true},
		},
		State:   []Field{{Name: "Modes", JSON: "modes", Proto: 10, Type: String, Shape: Map}},
		Command: &Field{Name: "Mode", JSON: "mode", Proto: 11, Type: String, Shape: Enum}, StateField: "Modes",
		Setter:       "SetMode",
		Example:      `[]Mode{{Instance: "Example.Mode", Names: []Name{{Text: "example", Locale: "en-US"}}, Values: []ModeValue{{Value: "A", Names: []Name{{Text: "a", Locale: "en-US"}}}, {Value: "B", Names: []Name{{Text: "b", Locale: "en-US"}}}}}}`,
		ExampleState: `Modes: map[string]string{"Example.Mode": "A"}`,
	})
}
