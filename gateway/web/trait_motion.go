package web

import "github.com/avshub/avshub/discovery/model"

// motion: Motion "motion" or "no motion"; on the device page a vibration
// sensor's Vibration "vibration" or "still", an emergency button's SOS
// "SOS!" or "clear", a rain sensor's Rain "raining" or "dry", a heat alarm's
// Heat alarm "heat!" or "clear" (Motion.Detects).
func init() {
	get := func(s model.State) *bool { return s.Motion }
	motion := yesNo("Motion", get, "motion", "no motion")
	kinds := map[string]words{
		model.MotionVibration: yesNo("Vibration", get, "vibration", "still"),
		model.MotionSOS:       yesNo("SOS", get, "SOS!", "clear"),
		model.MotionRain:      yesNo("Rain", get, "raining", "dry"),
		model.MotionHeat:      yesNo("Heat alarm", get, "heat!", "clear"),
	}
	register(model.TraitMotion, words{
		text: motion.text,
		lines: func(t model.Traits, s model.State) []StateLine {
			if w, ok := kinds[t.Motion.GetDetects()]; ok {
				return w.lines(t, s)
			}
			return motion.lines(t, s)
		},
	})
}
