package alexa

import "github.com/avshub/avshub/discovery/model"

// motion: a read-only InstanceMotion ModeController (avs), Alexa.MotionSensor (smarthome).
func init() {
	register(model.TraitMotion, binarySensor{InstanceMotion, txtMotion, "Motion.Detected", txtMotionDetected, "Motion.Clear", txtNoMotion,
		func(t model.Traits) bool { return t.Motion != nil }, func(s model.State) *bool { return s.Motion }, nsMotionSensor}.renderings())
}
