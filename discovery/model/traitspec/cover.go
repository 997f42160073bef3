package traitspec

func init() {
	Register(Trait{
		Kind: "cover", Name: "Cover", Doc: "Cover is the cover trait (blinds, curtains, shutters): the position, 0 % closed to 100 % open.",
		TraitsField: "Cover", TraitsJSON: "cover", TraitsProto: 11, KindProto: 11,
		State:   []Field{{Name: "CoverPosition", JSON: "coverPosition", Proto: 11, Type: Int, Shape: Ptr}},
		Command: &Field{Name: "CoverPosition", JSON: "coverPosition", Proto: 12, Type: Int, Shape: Ptr}, StateField: "CoverPosition",
		Setter:       "SetCoverPosition",
		Example:      `&Cover{}`,
		ExampleState: "CoverPosition: Ptr(42)",
	})
}
