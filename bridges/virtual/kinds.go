package virtual

import (
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

// Device types of the cover, sensor, plug, fan and siren kinds.
const (
	TypeCover          = "cover"
	TypeContactSensor  = "contact_sensor"
	TypeMotionSensor   = "motion_sensor"
	TypeLeakSensor     = "leak_sensor"
	TypeSmokeSensor    = "smoke_sensor"
	TypeGasSensor      = "gas_sensor"
	TypeHumiditySensor = "humidity_sensor"
	TypeMeteredPlug    = "metered_plug"
	TypeFan            = "fan"
	TypeSiren          = "siren"
)

// kindDevice builds a device of one of the kinds above, modelled on common
// Zigbee products (a roller blind, a door/window sensor with a tamper switch,
// a motion sensor with illuminance, battery-powered leak, smoke and gas
// sensors, a temperature/humidity sensor, a plug with metering, a fan with
// presets, a siren); ok is false for another type.
func kindDevice(dc DeviceConfig, temp float64, info sdk.DeviceOption) (d model.Device, ok bool) {
	battery := sdk.WithBattery(90, false)
	with := func(cat model.Category, opts ...sdk.DeviceOption) model.Device {
		return sdk.Device(dc.ID, dc.Name, cat, append(opts, info)...)
	}
	switch dc.Type {
	case TypeCover:
		return with(model.CategoryInteriorBlind, sdk.WithCover(0)), true
	case TypeContactSensor:
		return with(model.CategoryContactSensor, sdk.WithContact(false), sdk.WithTamper(false), battery), true
	case TypeMotionSensor:
		return with(model.CategoryMotionSensor, sdk.WithMotion(false), sdk.WithIlluminance(120),
			sdk.WithTemperatureSensor(temp), battery), true
	case TypeLeakSensor:
		return with(model.CategoryOther, sdk.WithWaterLeak(false), battery), true
	case TypeSmokeSensor:
		return with(model.CategoryOther, sdk.WithSmoke(false), battery), true
	case TypeGasSensor:
		return with(model.CategoryOther, sdk.WithGas(false)), true
	case TypeHumiditySensor:
		return with(model.CategoryTemperatureSensor, sdk.WithTemperatureSensor(temp), sdk.WithHumidity(48), battery), true
	case TypeMeteredPlug:
		return with(model.CategorySmartPlug, sdk.WithOnOff(false), sdk.WithPower(0), sdk.WithEnergy(3.25)), true
	case TypeFan:
		return with(model.CategoryFan, sdk.WithOnOff(false), sdk.WithFan(33,
			model.Preset{Value: 33, Names: []model.Name{{Text: "low", Locale: "en-US"}}},
			model.Preset{Value: 66, Names: []model.Name{{Text: "medium", Locale: "en-US"}}},
			model.Preset{Value: 100, Names: []model.Name{{Text: "high", Locale: "en-US"}}})), true
	case TypeSiren:
		return with(model.CategorySecurityPanel, sdk.WithSiren(false)), true
	}
	return model.Device{}, false
}

// meteredLoadW is what the simulated plug's load draws when on.
const meteredLoadW = 1200.0

// coupleKinds applies the simulated physics of the kinds above after c: a
// metered plug draws meteredLoadW while on, a fan set to a speed turns on.
func coupleKinds(d *model.Device, c model.Command) {
	t, st := d.Endpoint.Traits, &d.State
	switch {
	case c.Trait == model.TraitOnOff && t.Power != nil:
		if *c.Power {
			st.Watts = model.Ptr(meteredLoadW)
		} else {
			st.Watts = model.Ptr(0.0)
		}
	case c.Trait == model.TraitFan && t.OnOff != nil:
		st.On = model.Ptr(*c.FanSpeed > 0)
	}
}

// nudgeKind returns the change a person (or the weather) would make to a
// device of the kinds above: a door opened or closed, motion seen or gone, a
// leak, smoke or gas appearing or clearing, a blind moved by hand, humidity
// drifting, a plug switched.
func nudgeKind(d model.Device) (model.State, bool) {
	s, t := d.State, d.Endpoint.Traits
	flip := func(v *bool) *bool { return model.Ptr(v == nil || !*v) }
	switch {
	case t.Contact != nil:
		return model.State{ContactOpen: flip(s.ContactOpen)}, true
	case t.Motion != nil:
		return model.State{Motion: flip(s.Motion)}, true
	case t.WaterLeak != nil:
		return model.State{WaterLeak: flip(s.WaterLeak)}, true
	case t.Smoke != nil:
		return model.State{Smoke: flip(s.Smoke)}, true
	case t.Gas != nil:
		return model.State{Gas: flip(s.Gas)}, true
	case t.Cover != nil:
		if s.CoverPosition != nil && *s.CoverPosition > 0 {
			return model.State{CoverPosition: model.Ptr(0)}, true
		}
		return model.State{CoverPosition: model.Ptr(100)}, true
	case t.Humidity != nil && s.Humidity != nil:
		return model.State{Humidity: model.Ptr(*s.Humidity + 1)}, true
	case t.OnOff != nil && t.Power != nil && s.On != nil:
		w := 0.0
		if !*s.On {
			w = meteredLoadW
		}
		return model.State{On: model.Ptr(!*s.On), Watts: model.Ptr(w)}, true
	}
	return model.State{}, false
}
