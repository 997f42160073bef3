package traitspec

func init() {
	Register(Trait{
		Kind: "range", Name: "Range", Doc: "Range is a generic numeric trait identified by an instance name.",
		Instances: true, TraitsField: "Ranges", TraitsJSON: "ranges", TraitsProto: 9, KindProto: 9,
		Config: []Field{
			{Name: "Instance", JSON: "instance", Proto: 1, Type: String},
			{Name: "Names", JSON: "names", Proto: 2, Type: Names},
			{Name: "Min", JSON: "min", Proto: 3, Type: Float},
			{Name: "Max", JSON: "max", Proto: 4, Type: Float},
			{Name: "Precision", JSON: "precision", Proto: 5, Type: Float},
			{Name: "Unit", JSON: "unit", Proto: 6, Type: String, OmitEmpty: true, Doc: "Unit is an Alexa unit of measure, e.g. \"Alexa.Unit.Percent\"."},
			{Name: "Presets", JSON: "presets", Proto: 7, Type: Presets, OmitEmpty: true},
			{Name: "NonControllable", JSON: "nonControllable", Proto: 8, Type: Bool, OmitEmpty: true},
			{Name: "Quantity", JSON: "quantity", Proto: 9, Type: String, OmitEmpty: true,
				Doc: "Quantity names what a read-only range measures (a key of model.Quantities: \"co2\", \"pm25\", …); the hub renders its names, unit and dashboard sensor from it. \"\" for a generic range."},
		},
		State:   []Field{{Name: "Ranges", JSON: "ranges", Proto: 9, Type: Float, Shape: Map}},
		Command: &Field{Name: "Range", JSON: "range", Proto: 10, Type: Float, Shape: Ptr}, StateField: "Ranges",
		Setter:       "SetRange",
		Example:      `[]Range{{Instance: "Example.Range", Names: []Name{{Text: "example", Locale: "en-US"}}, Min: 0, Max: 10, Precision: 1}}`,
		ExampleState: `Ranges: map[string]float64{"Example.Range": 3}`,
	})
}
