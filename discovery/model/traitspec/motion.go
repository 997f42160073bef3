package traitspec

func init() {
	Register(Trait{
		Kind: "motion", Name: "Motion", Doc: "Motion is the motion trait (read only): motion or occupancy detected or not.",
		TraitsField: "Motion", TraitsJSON: "motion", TraitsProto: 16, KindProto: 16,
		Config: []Field{
			{Name: "Detects", JSON: "detects", Proto: 1, Type: String, OmitEmpty: true,
				Doc: "Detects is what the sensor detects when it is not motion or occupancy: MotionVibration (a vibration sensor), MotionSOS (an emergency button), MotionRain (a rain sensor) or MotionHeat (a heat alarm); \"\" is motion."},
		},
		State:        []Field{{Name: "Motion", JSON: "motion", Proto: 13, Type: Bool, Shape: Ptr}},
		Example:      `&Motion{}`,
		ExampleState: "Motion: Ptr(true)",
	})
}
