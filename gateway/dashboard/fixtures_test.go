package dashboard

import (
	"time"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
)

const testSerial = "HUB123"

var t0 = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)

// fixtures are one device per trait kind, as bridges report them.
func fixtures() map[string]model.Device {
	p := model.Ptr[float64]
	return map[string]model.Device{
		"color_light": {Endpoint: model.Endpoint{DeviceID: "light-1", FriendlyName: "Living Room Lamp", Manufacturer: "Signify",
			Model: "LCA001", Category: model.CategoryLight,
			Connections: []model.Connection{{Type: model.ConnectionZigbee, MACAddress: "00:17:88:01:08:12:34:56"}},
			Traits: model.Traits{OnOff: &model.OnOff{}, Brightness: &model.Brightness{}, Color: &model.Color{},
				ColorTemperature: &model.ColorTemperature{MinKelvin: 2000, MaxKelvin: 6500}}},
			State: model.State{On: model.Ptr(false), Brightness: model.Ptr(80), ColorTemperature: model.Ptr(2700)}, Reachable: true},
		"dimmable_light": {Endpoint: model.Endpoint{DeviceID: "hall", FriendlyName: "Hallway Bulb", Category: model.CategoryLight,
			Traits: model.Traits{OnOff: &model.OnOff{}, Brightness: &model.Brightness{}}},
			State: model.State{On: model.Ptr(true), Brightness: model.Ptr(30)}, Reachable: true},
		"lock": {Endpoint: model.Endpoint{DeviceID: "front-door", FriendlyName: "Front Door", Manufacturer: "Yale", Model: "YRD256",
			Category: model.CategorySmartLock, Traits: model.Traits{Lock: &model.Lock{}}},
			State: model.State{Lock: model.Locked}, Reachable: true},
		"thermostat_dual": {Endpoint: model.Endpoint{DeviceID: "living-thermostat", FriendlyName: "Living Thermostat",
			Category: model.CategoryThermostat, Traits: model.Traits{
				Thermostat: &model.Thermostat{Modes: []model.ThermostatMode{model.ModeHeat, model.ModeCool,
					model.ModeAuto, model.ModeEco, model.ModeOff}, TargetSetpoint: true, DualSetpoints: true,
					MinC: 7, MaxC: 30, MinDeltaC: 2, StepC: 0.5, Scale: "CELSIUS"},
				TemperatureSensor: &model.TemperatureSensor{}}},
			State: model.State{Thermostat: &model.ThermostatState{Mode: model.ModeHeat, Target: p(21), Lower: p(19), Upper: p(24)},
				Temperature: p(20.5)}, Reachable: true},
		"trv": {Endpoint: model.Endpoint{DeviceID: "0x00158d0001a2b3c4", FriendlyName: "Bedroom Radiator", Manufacturer: "Danfoss",
			Model: "014G2461", Category: model.CategoryThermostat, Traits: model.Traits{
				Thermostat: &model.Thermostat{Modes: []model.ThermostatMode{model.ModeHeat}, TargetSetpoint: true,
					MinC: 5, MaxC: 35, StepC: 0.5}, TemperatureSensor: &model.TemperatureSensor{}}},
			State:     model.State{Thermostat: &model.ThermostatState{Mode: model.ModeHeat, Target: p(19.5)}, Temperature: p(18.25)},
			Reachable: false},
		"temperature_sensor": {Endpoint: model.Endpoint{DeviceID: "kitchen temp", FriendlyName: "Kitchen Temperature",
			Category: model.CategoryTemperatureSensor, Traits: model.Traits{TemperatureSensor: &model.TemperatureSensor{}}},
			State: model.State{Temperature: p(22.4)}, Reachable: true},
		"plug": {Endpoint: model.Endpoint{DeviceID: "plug-1", FriendlyName: "Coffee Machine", Category: model.CategorySmartPlug,
			Traits: model.Traits{OnOff: &model.OnOff{}, Toggles: []model.Toggle{
				{Instance: "Plug.ChildLock", Names: []model.Name{{Text: "Child lock", Locale: "en-US"}}},
				{Instance: "Plug.Overload", NonControllable: true}}}},
			State: model.State{On: model.Ptr(true), Toggles: map[string]bool{"Plug.ChildLock": false}}, Reachable: true},
		"fan": {Endpoint: model.Endpoint{DeviceID: "fan-1", FriendlyName: "Ceiling Fan", Category: model.CategoryOther,
			Traits: model.Traits{OnOff: &model.OnOff{},
				Ranges: []model.Range{
					{Instance: "Fan.Speed", Names: []model.Name{{Text: "Speed", Locale: "en-US"}}, Min: 0, Max: 100, Precision: 10, Unit: "Alexa.Unit.Percent"},
					{Instance: "Fan.Rpm", Min: 0, Max: 3000, Precision: 1, NonControllable: true}},
				Modes: []model.Mode{
					{Instance: "Fan.Direction", Names: []model.Name{{Text: "Direction", Locale: "en-US"}},
						Values: []model.ModeValue{{Value: "Forward"}, {Value: "Reverse"}}},
					{Instance: "Fan.Health", NonControllable: true, Values: []model.ModeValue{{Value: "Ok"}, {Value: "Fault"}}}}}},
			State: model.State{On: model.Ptr(true), Ranges: map[string]float64{"Fan.Speed": 40, "Fan.Rpm": 1200},
				Modes: map[string]string{"Fan.Direction": "Forward", "Fan.Health": "Ok"}}, Reachable: true},
		"air_quality_sensor": {Endpoint: model.Endpoint{DeviceID: "air-1", FriendlyName: "Office Air", Category: model.CategoryOther,
			Traits: model.Traits{TemperatureSensor: &model.TemperatureSensor{},
				Ranges: []model.Range{measure(model.QuantityCO2), measure(model.QuantityPressure), measure(model.QuantitySoilMoisture)}}},
			State:     model.State{Temperature: p(23.1), Ranges: map[string]float64{"CO2.Current": 850, "Pressure.Current": 1013.2, "SoilMoisture.Current": 37}},
			Reachable: true},
		"vibration_sensor": {Endpoint: model.Endpoint{DeviceID: "vib-1", FriendlyName: "Washing Machine", Category: model.CategoryOther,
			Traits: model.Traits{Motion: &model.Motion{Detects: model.MotionVibration}}},
			State: model.State{Motion: model.Ptr(true)}, Reachable: true},
		"rain_and_gas": {Endpoint: model.Endpoint{DeviceID: "rain-1", FriendlyName: "Garden", Category: model.CategoryOther,
			Traits: model.Traits{Motion: &model.Motion{Detects: model.MotionRain}, Ranges: []model.Range{measure(model.QuantityGasVolume)}}},
			State: model.State{Motion: model.Ptr(true), Ranges: map[string]float64{"Gas.Volume": 1234.567}}, Reachable: true},
	}
}

// measure is the read-only range of a known quantity.
func measure(key string) model.Range {
	r, ok := model.MeasurementRange(key)
	if !ok {
		panic("unknown quantity " + key)
	}
	return r
}

// fixtureEntry is the registry entry of a fixture on the "virtual" bridge.
func fixtureEntry(name string) discovery.Entry {
	d := fixtures()[name]
	ep := d.Endpoint
	ep.Bridge = "virtual"
	ep.ID = model.EndpointID(testSerial, "virtual", ep.DeviceID)
	return discovery.Entry{Endpoint: ep, State: d.State, Reachable: d.Reachable, Updated: t0}
}
