package traitspec

func init() {
	Register(Trait{
		Kind: "energy", Name: "Energy", Doc: "Energy is the energy trait (read only): the energy a plug or meter has counted, in kWh.",
		TraitsField: "Energy", TraitsJSON: "energy", TraitsProto: 15, KindProto: 15,
		State:        []Field{{Name: "EnergyKWh", JSON: "energyKWh", Proto: 21, Type: Float, Shape: Ptr}},
		Example:      `&Energy{}`,
		ExampleState: "EnergyKWh: Ptr(12.5)",
	})
}
