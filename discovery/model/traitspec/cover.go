package traitspec

func init() {
	Register(Trait{
		Kind: "cover", Name: "Cover", Doc: "Cover is the cover trait (blinds, curtains, shutters): the position, 0 % closed to 100 % open; open, close and stop; the slats' tilt where the cover has them.",
		TraitsField: "Cover", TraitsJSON: "cover", TraitsProto: 11, KindProto: 11,
		Config: []Field{
			{Name: "Tilt", JSON: "tilt", Proto: 1, Type: Bool, OmitEmpty: true,
				Doc: "Tilt is true when the cover has slats that tilt (a venetian blind): CoverTilt, 0 % closed to 100 % open."},
		},
		State: []Field{
			{Name: "CoverPosition", JSON: "coverPosition", Proto: 11, Type: Int, Shape: Ptr},
			{Name: "CoverTilt", JSON: "coverTilt", Proto: 26, Type: Int, Shape: Ptr},
		},
		Command: &Field{Name: "CoverPosition", JSON: "coverPosition", Proto: 12, Type: Int, Shape: Ptr}, StateField: "CoverPosition",
		Setter: "SetCoverPosition",
		Values: []Value{{Field: Field{Name: "CoverTilt", JSON: "coverTilt", Proto: 16, Type: Int, Shape: Ptr}, StateField: "CoverTilt", Setter: "SetCoverTilt",
			Doc: "the slats' tilt, 0 % closed to 100 % open (a cover with Tilt)"}},
		Actions: []Action{{Field: Field{Name: "CoverStop", JSON: "coverStop", Proto: 15, Type: Bool, Shape: Ptr}, Setter: "StopCover",
			Doc: "stop a moving cover where it is (it reports the position it stopped at)."}},
		Example:      `&Cover{Tilt: true}`,
		ExampleState: "CoverPosition: Ptr(42), CoverTilt: Ptr(50)",
	})
}
