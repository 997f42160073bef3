package sdk

import "github.com/avshub/avshub/discovery"

// LightKind says which traits a light has.
type LightKind int

// Light kinds.
const (
	// OnOffLight switches on and off.
	OnOffLight LightKind = iota
	// DimmableLight adds brightness.
	DimmableLight
	// ColorTemperatureLight is dimmable with a white colour temperature (tunable white).
	ColorTemperatureLight
	// ColorLight is dimmable with a colour.
	ColorLight
	// ExtendedColorLight is dimmable with colour and colour temperature.
	ExtendedColorLight
)

// Default colour temperature range of the light helpers, in kelvin.
const (
	DefaultMinKelvin = 2200
	DefaultMaxKelvin = 6500
)

// DeviceOption changes a device built by a helper.
type DeviceOption func(*discovery.Device)

// WithInfo sets the manufacturer, model and description.
func WithInfo(manufacturer, model, description string) DeviceOption {
	return func(d *discovery.Device) {
		d.Endpoint.Manufacturer, d.Endpoint.Model, d.Endpoint.Description = manufacturer, model, description
	}
}

// WithConnection adds a connection (a Zigbee MAC, an IP address).
func WithConnection(c discovery.Connection) DeviceOption {
	return func(d *discovery.Device) { d.Endpoint.Connections = append(d.Endpoint.Connections, c) }
}

// WithState overlays s on the helper's default state.
func WithState(s discovery.State) DeviceOption {
	return func(d *discovery.Device) { d.State = d.State.Merge(s) }
}

// WithKelvinRange sets a colour-temperature light's range.
func WithKelvinRange(minK, maxK int) DeviceOption {
	return func(d *discovery.Device) {
		if ct := d.Endpoint.Traits.ColorTemperature; ct != nil {
			ct.MinKelvin, ct.MaxKelvin = minK, maxK
		}
	}
}

// Unreachable marks the device as not reachable now.
func Unreachable() DeviceOption { return func(d *discovery.Device) { d.Reachable = false } }

func device(id, name string, cat discovery.Category, t discovery.Traits, s discovery.State, opts []DeviceOption) discovery.Device {
	d := discovery.Device{
		Endpoint: discovery.Endpoint{DeviceID: id, FriendlyName: name, Category: cat, Traits: t,
			Manufacturer: "avshub", Model: "generic", Description: string(cat)},
		State:     s,
		Reachable: true,
	}
	for _, o := range opts {
		o(&d)
	}
	return d
}

// Light builds a light of the given kind, off, at full brightness.
func Light(id, name string, kind LightKind, opts ...DeviceOption) discovery.Device {
	t := discovery.Traits{OnOff: &discovery.OnOff{}}
	s := discovery.State{On: discovery.Ptr(false)}
	if kind != OnOffLight {
		t.Brightness = &discovery.Brightness{}
		s.Brightness = discovery.Ptr(100)
	}
	if kind == ColorLight || kind == ExtendedColorLight {
		t.Color = &discovery.Color{}
		s.Color = &discovery.HSB{Hue: 0, Saturation: 0, Brightness: 1}
	}
	if kind == ColorTemperatureLight || kind == ExtendedColorLight {
		t.ColorTemperature = &discovery.ColorTemperature{MinKelvin: DefaultMinKelvin, MaxKelvin: DefaultMaxKelvin}
		s.ColorTemperature = discovery.Ptr(2700)
	}
	d := device(id, name, discovery.CategoryLight, t, s, opts)
	if ct := d.Endpoint.Traits.ColorTemperature; ct != nil && d.State.ColorTemperature != nil {
		// Keep the default inside a custom range.
		k := *d.State.ColorTemperature
		d.State.ColorTemperature = discovery.Ptr(min(max(k, ct.MinKelvin), ct.MaxKelvin))
	}
	return d
}

// Lock builds a smart lock, locked.
func Lock(id, name string, opts ...DeviceOption) discovery.Device {
	return device(id, name, discovery.CategorySmartLock, discovery.Traits{Lock: &discovery.Lock{}},
		discovery.State{Lock: discovery.Locked}, opts)
}

// Thermostat builds a thermostat with the trait configuration th (single
// setpoint when th.TargetSetpoint, dual when th.DualSetpoints) and a
// temperature sensor reading tempC. The default state is the first mode with
// setpoints in the middle of the range.
func Thermostat(id, name string, th discovery.Thermostat, tempC float64, opts ...DeviceOption) discovery.Device {
	th.Modes = append([]discovery.ThermostatMode(nil), th.Modes...)
	s := discovery.ThermostatState{}
	if len(th.Modes) > 0 {
		s.Mode = th.Modes[0]
	}
	mid := (th.MinC + th.MaxC) / 2
	if th.TargetSetpoint {
		s.Target = discovery.Ptr(mid)
	}
	if th.DualSetpoints {
		half := max(th.MinDeltaC, 2) / 2
		s.Lower, s.Upper = discovery.Ptr(mid-half), discovery.Ptr(mid+half)
	}
	return device(id, name, discovery.CategoryThermostat,
		discovery.Traits{Thermostat: &th, TemperatureSensor: &discovery.TemperatureSensor{}},
		discovery.State{Thermostat: &s, Temperature: discovery.Ptr(tempC)}, opts)
}

// SingleSetpointThermostat is a heating thermostat with one target setpoint
// (HEAT, ECO, OFF; 5–30 °C).
func SingleSetpointThermostat(id, name string, tempC float64, opts ...DeviceOption) discovery.Device {
	return Thermostat(id, name, discovery.Thermostat{
		Modes:          []discovery.ThermostatMode{discovery.ModeHeat, discovery.ModeEco, discovery.ModeOff},
		TargetSetpoint: true, MinC: 5, MaxC: 30, StepC: 0.5, Scale: "CELSIUS",
	}, tempC, opts...)
}

// DualSetpointThermostat is a heat/cool thermostat with lower and upper
// setpoints (AUTO, HEAT, COOL, OFF; 10–32 °C, at least 2 °C apart).
func DualSetpointThermostat(id, name string, tempC float64, opts ...DeviceOption) discovery.Device {
	return Thermostat(id, name, discovery.Thermostat{
		Modes:         []discovery.ThermostatMode{discovery.ModeAuto, discovery.ModeHeat, discovery.ModeCool, discovery.ModeOff},
		DualSetpoints: true, MinC: 10, MaxC: 32, MinDeltaC: 2, StepC: 0.5, Scale: "CELSIUS",
	}, tempC, opts...)
}

// TemperatureSensor builds a temperature sensor reading tempC.
func TemperatureSensor(id, name string, tempC float64, opts ...DeviceOption) discovery.Device {
	return device(id, name, discovery.CategoryTemperatureSensor,
		discovery.Traits{TemperatureSensor: &discovery.TemperatureSensor{}},
		discovery.State{Temperature: discovery.Ptr(tempC)}, opts)
}
