package dashboard

import "github.com/avshub/avshub/discovery/model"

// motion: a binary_sensor of device_class motion (vibration for a vibration
// sensor, safety for an emergency button, moisture for a rain sensor, heat
// for a heat alarm: Motion.Detects); state "occupancy" ON/OFF.
func init() {
	has, get := func(t model.Traits) bool { return t.Motion != nil }, func(s model.State) *bool { return s.Motion }
	sensors := map[string]binarySensor{
		"":                    {"occupancy", "motion", "Motion", false, has, get},
		model.MotionVibration: {"occupancy", "vibration", "Vibration", false, has, get},
		model.MotionSOS:       {"occupancy", "safety", "SOS", false, has, get},
		model.MotionRain:      {"occupancy", "moisture", "Rain", false, has, get},
		model.MotionHeat:      {"occupancy", "heat", "Heat alarm", false, has, get},
	}
	register(model.TraitMotion, haTrait{
		components: func(c *components) {
			b, ok := sensors[c.ep.Traits.Motion.GetDetects()]
			if !ok {
				b = sensors[""]
			}
			b.component(c)
		},
		state: sensors[""].state,
	})
}
