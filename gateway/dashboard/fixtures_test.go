package dashboard

import (
	"time"

	"github.com/avshub/avshub/discovery"
)

const testSerial = "HUB123"

var t0 = time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)

// fixtures are one device per trait kind, as bridges report them.
func fixtures() map[string]discovery.Device {
	p := discovery.Ptr[float64]
	return map[string]discovery.Device{
		"color_light": {Endpoint: discovery.Endpoint{DeviceID: "light-1", FriendlyName: "Living Room Lamp", Manufacturer: "Signify",
			Model: "LCA001", Category: discovery.CategoryLight,
			Connections: []discovery.Connection{{Type: discovery.ConnectionZigbee, MACAddress: "00:17:88:01:08:12:34:56"}},
			Traits: discovery.Traits{OnOff: &discovery.OnOff{}, Brightness: &discovery.Brightness{}, Color: &discovery.Color{},
				ColorTemperature: &discovery.ColorTemperature{MinKelvin: 2000, MaxKelvin: 6500}}},
			State: discovery.State{On: discovery.Ptr(false), Brightness: discovery.Ptr(80), ColorTemperature: discovery.Ptr(2700)}, Reachable: true},
		"dimmable_light": {Endpoint: discovery.Endpoint{DeviceID: "hall", FriendlyName: "Hallway Bulb", Category: discovery.CategoryLight,
			Traits: discovery.Traits{OnOff: &discovery.OnOff{}, Brightness: &discovery.Brightness{}}},
			State: discovery.State{On: discovery.Ptr(true), Brightness: discovery.Ptr(30)}, Reachable: true},
		"lock": {Endpoint: discovery.Endpoint{DeviceID: "front-door", FriendlyName: "Front Door", Manufacturer: "Yale", Model: "YRD256",
			Category: discovery.CategorySmartLock, Traits: discovery.Traits{Lock: &discovery.Lock{}}},
			State: discovery.State{Lock: discovery.Locked}, Reachable: true},
		"thermostat_dual": {Endpoint: discovery.Endpoint{DeviceID: "living-thermostat", FriendlyName: "Living Thermostat",
			Category: discovery.CategoryThermostat, Traits: discovery.Traits{
				Thermostat: &discovery.Thermostat{Modes: []discovery.ThermostatMode{discovery.ModeHeat, discovery.ModeCool,
					discovery.ModeAuto, discovery.ModeEco, discovery.ModeOff}, TargetSetpoint: true, DualSetpoints: true,
					MinC: 7, MaxC: 30, MinDeltaC: 2, StepC: 0.5, Scale: "CELSIUS"},
				TemperatureSensor: &discovery.TemperatureSensor{}}},
			State: discovery.State{Thermostat: &discovery.ThermostatState{Mode: discovery.ModeHeat, Target: p(21), Lower: p(19), Upper: p(24)},
				Temperature: p(20.5)}, Reachable: true},
		"trv": {Endpoint: discovery.Endpoint{DeviceID: "0x00158d0001a2b3c4", FriendlyName: "Bedroom Radiator", Manufacturer: "Danfoss",
			Model: "014G2461", Category: discovery.CategoryThermostat, Traits: discovery.Traits{
				Thermostat: &discovery.Thermostat{Modes: []discovery.ThermostatMode{discovery.ModeHeat}, TargetSetpoint: true,
					MinC: 5, MaxC: 35, StepC: 0.5}, TemperatureSensor: &discovery.TemperatureSensor{}}},
			State:     discovery.State{Thermostat: &discovery.ThermostatState{Mode: discovery.ModeHeat, Target: p(19.5)}, Temperature: p(18.25)},
			Reachable: false},
		"temperature_sensor": {Endpoint: discovery.Endpoint{DeviceID: "kitchen temp", FriendlyName: "Kitchen Temperature",
			Category: discovery.CategoryTemperatureSensor, Traits: discovery.Traits{TemperatureSensor: &discovery.TemperatureSensor{}}},
			State: discovery.State{Temperature: p(22.4)}, Reachable: true},
		"plug": {Endpoint: discovery.Endpoint{DeviceID: "plug-1", FriendlyName: "Coffee Machine", Category: discovery.CategorySmartPlug,
			Traits: discovery.Traits{OnOff: &discovery.OnOff{}, Toggles: []discovery.Toggle{
				{Instance: "Plug.ChildLock", Names: []discovery.Name{{Text: "Child lock", Locale: "en-US"}}},
				{Instance: "Plug.Overload", NonControllable: true}}}},
			State: discovery.State{On: discovery.Ptr(true), Toggles: map[string]bool{"Plug.ChildLock": false}}, Reachable: true},
		"fan": {Endpoint: discovery.Endpoint{DeviceID: "fan-1", FriendlyName: "Ceiling Fan", Category: discovery.CategoryOther,
			Traits: discovery.Traits{OnOff: &discovery.OnOff{},
				Ranges: []discovery.Range{
					{Instance: "Fan.Speed", Names: []discovery.Name{{Text: "Speed", Locale: "en-US"}}, Min: 0, Max: 100, Precision: 10, Unit: "Alexa.Unit.Percent"},
					{Instance: "Fan.Rpm", Min: 0, Max: 3000, Precision: 1, NonControllable: true}},
				Modes: []discovery.Mode{
					{Instance: "Fan.Direction", Names: []discovery.Name{{Text: "Direction", Locale: "en-US"}},
						Values: []discovery.ModeValue{{Value: "Forward"}, {Value: "Reverse"}}},
					{Instance: "Fan.Health", NonControllable: true, Values: []discovery.ModeValue{{Value: "Ok"}, {Value: "Fault"}}}}}},
			State: discovery.State{On: discovery.Ptr(true), Ranges: map[string]float64{"Fan.Speed": 40, "Fan.Rpm": 1200},
				Modes: map[string]string{"Fan.Direction": "Forward", "Fan.Health": "Ok"}}, Reachable: true},
	}
}

// fixtureEntry is the registry entry of a fixture on the "virtual" bridge.
func fixtureEntry(name string) discovery.Entry {
	d := fixtures()[name]
	ep := d.Endpoint
	ep.Bridge = "virtual"
	ep.ID = discovery.EndpointID(testSerial, "virtual", ep.DeviceID)
	return discovery.Entry{Endpoint: ep, State: d.State, Reachable: d.Reachable, Updated: t0}
}
