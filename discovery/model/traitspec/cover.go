package traitspec

func init() {
	Register(Trait{
		Kind: "cover", Name: "Cover", Doc: "Cover is the cover trait (blinds, curtains, shutters): the position, 0 % closed to 100 % open; open, close and stop.",
		TraitsField: "Cover", TraitsJSON: "cover", TraitsProto: 11, KindProto: 11,
		State:   []Field{{Name: "CoverPosition", JSON: "coverPosition", Proto: 11, Type: Int, Shape: Ptr}},
		Command: &Field{Name: "CoverPosition", JSON: "coverPosition", Proto: 12, Type: Int, Shape: Ptr}, StateField: "CoverPosition",
		Setter: "SetCoverPosition",
		Actions: []Action{{Field: Field{Name: "CoverStop", JSON: "coverStop", Proto: 15, Type: Bool, Shape: Ptr}, Setter: "StopCover",
			Doc: "stop a moving cover where it is (it reports the position it stopped at)."}},
		Example:      `&Cover{}`,
		ExampleState: "CoverPosition: Ptr(42)",
	})
}
