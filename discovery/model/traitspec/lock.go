package traitspec

func init() {
	Register(Trait{
		Kind: "lock", Name: "Lock", Doc: "Lock is the lock trait: LOCKED, UNLOCKED, JAMMED.",
		TraitsField: "Lock", TraitsJSON: "lock", TraitsProto: 5, KindProto: 5,
		State:   []Field{{Name: "Lock", JSON: "lock", Proto: 5, Type: LockState, Shape: Enum}},
		Command: &Field{Name: "Lock", JSON: "lock", Proto: 7, Type: LockState, Shape: Enum}, StateField: "Lock",
		Setter:       "SetLock",
		ExampleState: "Lock: Locked",
	})
}
