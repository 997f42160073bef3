package traitspec

func init() {
	Register(Trait{
		Kind: "contact", Name: "Contact", Doc: "Contact is the contact trait (read only): a door or window contact, open or closed.",
		TraitsField: "Contact", TraitsJSON: "contact", TraitsProto: 12, KindProto: 12,
		State:        []Field{{Name: "ContactOpen", JSON: "contactOpen", Proto: 12, Type: Bool, Shape: Ptr}},
		Example:      `&Contact{}`,
		ExampleState: "ContactOpen: Ptr(true)",
	})
}
