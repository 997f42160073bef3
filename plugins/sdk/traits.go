package sdk

import "github.com/avshub/avshub/discovery/model"

// Options adding the cover, sensor, metering, fan, siren and battery traits
// with their initial state, for Device or any helper:
//
//	sdk.Device("hall", "Hall sensor", model.CategoryMotionSensor,
//		sdk.WithMotion(false), sdk.WithIlluminance(120), sdk.WithBattery(90, false))

// WithCover adds the cover trait (blinds, curtains, shutters) at position % open (0 closed, 100 open).
func WithCover(position int) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Cover = &model.Cover{}
		d.State.CoverPosition = model.Ptr(position)
	}
}

// WithContact adds the contact trait (a door or window sensor), open or closed.
func WithContact(open bool) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Contact = &model.Contact{}
		d.State.ContactOpen = model.Ptr(open)
	}
}

// WithMotion adds the motion trait (motion or occupancy detected).
func WithMotion(detected bool) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Motion = &model.Motion{}
		d.State.Motion = model.Ptr(detected)
	}
}

// WithWaterLeak adds the water_leak trait.
func WithWaterLeak(leak bool) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.WaterLeak = &model.WaterLeak{}
		d.State.WaterLeak = model.Ptr(leak)
	}
}

// WithSmoke adds the smoke trait.
func WithSmoke(detected bool) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Smoke = &model.Smoke{}
		d.State.Smoke = model.Ptr(detected)
	}
}

// WithGas adds the gas trait (gas or carbon monoxide).
func WithGas(detected bool) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Gas = &model.Gas{}
		d.State.Gas = model.Ptr(detected)
	}
}

// WithTamper adds the tamper trait (the device's case opened or moved).
func WithTamper(tampered bool) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Tamper = &model.Tamper{}
		d.State.Tamper = model.Ptr(tampered)
	}
}

// WithHumidity adds the humidity trait reading pct % relative humidity.
func WithHumidity(pct float64) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Humidity = &model.Humidity{}
		d.State.Humidity = model.Ptr(pct)
	}
}

// WithIlluminance adds the illuminance trait reading lux.
func WithIlluminance(lux float64) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Illuminance = &model.Illuminance{}
		d.State.Illuminance = model.Ptr(lux)
	}
}

// WithPower adds the power trait (a plug's or meter's active power) reading watts.
func WithPower(watts float64) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Power = &model.Power{}
		d.State.Watts = model.Ptr(watts)
	}
}

// WithEnergy adds the energy trait (the energy counted so far) reading kWh.
func WithEnergy(kWh float64) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Energy = &model.Energy{}
		d.State.EnergyKWh = model.Ptr(kWh)
	}
}

// WithBattery adds the battery trait: the level in % and the low-battery flag.
func WithBattery(pct int, low bool) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Battery = &model.Battery{}
		d.State.Battery, d.State.BatteryLow = model.Ptr(pct), model.Ptr(low)
	}
}

// WithFan adds the fan trait at speed % with the device's named presets
// (on and off are the on_off trait: add WithOnOff too).
func WithFan(speed int, presets ...model.Preset) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Fan = &model.Fan{Presets: append([]model.Preset(nil), presets...)}
		d.State.FanSpeed = model.Ptr(speed)
	}
}

// WithSiren adds the siren trait, sounding or not.
func WithSiren(on bool) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Siren = &model.Siren{}
		d.State.Siren = model.Ptr(on)
	}
}

// Cover builds a blind (category INTERIOR_BLIND; WithCategory for an exterior
// one, a curtain or a shutter), closed.
func Cover(id, name string, opts ...DeviceOption) model.Device {
	return Device(id, name, model.CategoryInteriorBlind, append([]DeviceOption{WithCover(0)}, opts...)...)
}

// Fan builds a fan, off, at the first preset's speed (or 100 % without presets).
func Fan(id, name string, presets []model.Preset, opts ...DeviceOption) model.Device {
	speed := 100
	if len(presets) > 0 {
		speed = int(presets[0].Value)
	}
	return Device(id, name, model.CategoryFan, append([]DeviceOption{WithOnOff(false), WithFan(speed, presets...)}, opts...)...)
}
