package alexa

import "github.com/avshub/avshub/discovery/model"

// motion: a read-only InstanceMotion ModeController (avs), Alexa.MotionSensor
// (smarthome). A vibration sensor, an emergency button, a rain sensor or a
// heat alarm (Motion.Detects) is
// the same detected/clear sensor, the only Alexa interface that starts a
// routine on a detection without an open/closed sense, named for what it
// detects; its mode values stay the motion ones (Alexa stores them).
func init() {
	has, get := func(t model.Traits) bool { return t.Motion != nil }, func(s model.State) *bool { return s.Motion }
	sensors := map[string]binarySensor{
		"":                    {InstanceMotion, txtMotion, "Motion.Detected", txtMotionDetected, "Motion.Clear", txtNoMotion, has, get, nsMotionSensor},
		model.MotionVibration: {InstanceMotion, txtVibration, "Motion.Detected", txtVibrationDetected, "Motion.Clear", txtNoVibration, has, get, nsMotionSensor},
		model.MotionSOS:       {InstanceMotion, txtSOS, "Motion.Detected", txtSOSPressed, "Motion.Clear", txtClear, has, get, nsMotionSensor},
		model.MotionRain:      {InstanceMotion, txtRain, "Motion.Detected", txtRainDetected, "Motion.Clear", txtNoRain, has, get, nsMotionSensor},
		model.MotionHeat:      {InstanceMotion, txtHeatAlarm, "Motion.Detected", txtHeatDetected, "Motion.Clear", txtClear, has, get, nsMotionSensor},
	}
	pick := func(native bool, t model.Traits) rendering {
		b := sensors[""]
		if x, ok := sensors[t.Motion.GetDetects()]; ok {
			b = x
		}
		return b.rendering(native)
	}
	byDetects := func(native bool) rendering {
		return rendering{
			caps: func(p *profile, t model.Traits) ([]capability, error) { return pick(native, t).caps(p, t) },
			props: func(p *profile, t model.Traits, st model.State, prop propFunc) []Property {
				return pick(native, t).props(p, t, st, prop)
			},
			decode: func(p *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
				return pick(native, t).decode(p, d, t, st)
			},
		}
	}
	register(model.TraitMotion, traitRendering{avs: byDetects(false), smartHome: byDetects(true)})
}
