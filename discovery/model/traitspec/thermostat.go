package traitspec

func init() {
	Register(Trait{
		Kind: "thermostat", Name: "Thermostat", Doc: "Thermostat is the thermostat trait. Temperatures are in degrees Celsius.",
		TraitsField: "Thermostat", TraitsJSON: "thermostat", TraitsProto: 6, KindProto: 6,
		Config: []Field{
			{Name: "Modes", JSON: "modes", Proto: 1, Type: ThermostatModes, Doc: "Modes the thermostat supports, a subset of HEAT, COOL, AUTO, ECO and OFF."},
			{Name: "TargetSetpoint", JSON: "targetSetpoint", Proto: 2, Type: Bool, OmitEmpty: true, Doc: "TargetSetpoint is true when the thermostat takes one target setpoint."},
			{Name: "DualSetpoints", JSON: "dualSetpoints", Proto: 3, Type: Bool, OmitEmpty: true, Doc: "DualSetpoints is true when it takes a lower and an upper setpoint."},
			{Name: "MinC", JSON: "minC", Proto: 4, Type: Float, Doc: "MinC and MaxC bound every setpoint."},
			{Name: "MaxC", JSON: "maxC", Proto: 5, Type: Float},
			{Name: "MinDeltaC", JSON: "minDeltaC", Proto: 6, Type: Float, OmitEmpty: true, Doc: "MinDeltaC is the minimum distance between the lower and upper setpoints."},
			{Name: "StepC", JSON: "stepC", Proto: 7, Type: Float, OmitEmpty: true, Doc: "StepC is the setpoint resolution (0 means 0.5 °C)."},
			{Name: "Scale", JSON: "scale", Proto: 8, Type: String, OmitEmpty: true, Doc: "Scale is the unit the device shows to people (\"CELSIUS\" or \"FAHRENHEIT\");\nstate and commands are always in Celsius."},
		},
		State:   []Field{{Name: "Thermostat", JSON: "thermostat", Proto: 6, Type: ThermostatState, Shape: Partial}},
		Command: &Field{Name: "Thermostat", JSON: "thermostat", Proto: 8, Type: ThermostatState, Shape: Partial}, StateField: "Thermostat",
		Setter:       "SetThermostat",
		Example:      "&Thermostat{Modes: []ThermostatMode{ModeHeat, ModeOff}, TargetSetpoint: true, MinC: 5, MaxC: 30}",
		ExampleState: "Thermostat: &ThermostatState{Mode: ModeHeat, Target: Ptr(21.0)}",
	})
}
