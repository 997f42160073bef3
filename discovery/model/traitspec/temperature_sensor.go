package traitspec

func init() {
	Register(Trait{
		Kind: "temperature_sensor", Name: "TemperatureSensor", Doc: "TemperatureSensor is the temperature_sensor trait (read only, °C).",
		TraitsField: "TemperatureSensor", TraitsJSON: "temperatureSensor", TraitsProto: 7, KindProto: 7,
		State:        []Field{{Name: "Temperature", JSON: "temperature", Proto: 7, Type: Float, Shape: Ptr}},
		ExampleState: "Temperature: Ptr(19.5)",
	})
}
