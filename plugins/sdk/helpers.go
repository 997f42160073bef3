package sdk

import "github.com/avshub/avshub/discovery/model"

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
type DeviceOption func(*model.Device)

// WithInfo sets the manufacturer, model and description.
func WithInfo(manufacturer, modelName, description string) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Manufacturer, d.Endpoint.Model, d.Endpoint.Description = manufacturer, modelName, description
	}
}

// WithConnection adds a connection (a Zigbee MAC, an IP address).
func WithConnection(c model.Connection) DeviceOption {
	return func(d *model.Device) { d.Endpoint.Connections = append(d.Endpoint.Connections, c) }
}

// WithState overlays s on the helper's default state.
func WithState(s model.State) DeviceOption {
	return func(d *model.Device) { d.State = d.State.Merge(s) }
}

// WithKelvinRange sets a colour-temperature light's range.
func WithKelvinRange(minK, maxK int) DeviceOption {
	return func(d *model.Device) {
		if ct := d.Endpoint.Traits.ColorTemperature; ct != nil {
			ct.MinKelvin, ct.MaxKelvin = minK, maxK
		}
	}
}

// Unreachable marks the device as not reachable now.
func Unreachable() DeviceOption { return func(d *model.Device) { d.Reachable = false } }

func device(id, name string, cat model.Category, t model.Traits, s model.State, opts []DeviceOption) model.Device {
	d := model.Device{
		Endpoint: model.Endpoint{DeviceID: id, FriendlyName: name, Category: cat, Traits: t,
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
func Light(id, name string, kind LightKind, opts ...DeviceOption) model.Device {
	t := model.Traits{OnOff: &model.OnOff{}}
	s := model.State{On: model.Ptr(false)}
	if kind != OnOffLight {
		t.Brightness = &model.Brightness{}
		s.Brightness = model.Ptr(100)
	}
	if kind == ColorLight || kind == ExtendedColorLight {
		t.Color = &model.Color{}
		s.Color = &model.HSB{Hue: 0, Saturation: 0, Brightness: 1}
	}
	if kind == ColorTemperatureLight || kind == ExtendedColorLight {
		t.ColorTemperature = &model.ColorTemperature{MinKelvin: DefaultMinKelvin, MaxKelvin: DefaultMaxKelvin}
		s.ColorTemperature = model.Ptr(2700)
	}
	d := device(id, name, model.CategoryLight, t, s, opts)
	if ct := d.Endpoint.Traits.ColorTemperature; ct != nil && d.State.ColorTemperature != nil {
		// Keep the default inside a custom range.
		k := *d.State.ColorTemperature
		d.State.ColorTemperature = model.Ptr(min(max(k, ct.MinKelvin), ct.MaxKelvin))
	}
	return d
}

// Lock builds a smart lock, locked.
func Lock(id, name string, opts ...DeviceOption) model.Device {
	return device(id, name, model.CategorySmartLock, model.Traits{Lock: &model.Lock{}},
		model.State{Lock: model.Locked}, opts)
}

// Thermostat builds a thermostat with the trait configuration th (single
// setpoint when th.TargetSetpoint, dual when th.DualSetpoints) and a
// temperature sensor reading tempC. The default state is the first mode with
// setpoints in the middle of the range.
func Thermostat(id, name string, th model.Thermostat, tempC float64, opts ...DeviceOption) model.Device {
	th.Modes = append([]model.ThermostatMode(nil), th.Modes...)
	s := model.ThermostatState{}
	if len(th.Modes) > 0 {
		s.Mode = th.Modes[0]
	}
	mid := (th.MinC + th.MaxC) / 2
	if th.TargetSetpoint {
		s.Target = model.Ptr(mid)
	}
	if th.DualSetpoints {
		half := max(th.MinDeltaC, 2) / 2
		s.Lower, s.Upper = model.Ptr(mid-half), model.Ptr(mid+half)
	}
	return device(id, name, model.CategoryThermostat,
		model.Traits{Thermostat: &th, TemperatureSensor: &model.TemperatureSensor{}},
		model.State{Thermostat: &s, Temperature: model.Ptr(tempC)}, opts)
}

// SingleSetpointThermostat is a heating thermostat with one target setpoint
// (HEAT, ECO, OFF; 5–30 °C).
func SingleSetpointThermostat(id, name string, tempC float64, opts ...DeviceOption) model.Device {
	return Thermostat(id, name, model.Thermostat{
		Modes:          []model.ThermostatMode{model.ModeHeat, model.ModeEco, model.ModeOff},
		TargetSetpoint: true, MinC: 5, MaxC: 30, StepC: 0.5, Scale: "CELSIUS",
	}, tempC, opts...)
}

// DualSetpointThermostat is a heat/cool thermostat with lower and upper
// setpoints (AUTO, HEAT, COOL, OFF; 10–32 °C, at least 2 °C apart).
func DualSetpointThermostat(id, name string, tempC float64, opts ...DeviceOption) model.Device {
	return Thermostat(id, name, model.Thermostat{
		Modes:         []model.ThermostatMode{model.ModeAuto, model.ModeHeat, model.ModeCool, model.ModeOff},
		DualSetpoints: true, MinC: 10, MaxC: 32, MinDeltaC: 2, StepC: 0.5, Scale: "CELSIUS",
	}, tempC, opts...)
}

// TemperatureSensor builds a temperature sensor reading tempC.
func TemperatureSensor(id, name string, tempC float64, opts ...DeviceOption) model.Device {
	return device(id, name, model.CategoryTemperatureSensor,
		model.Traits{TemperatureSensor: &model.TemperatureSensor{}},
		model.State{Temperature: model.Ptr(tempC)}, opts)
}

// Switch builds a wall switch or relay (on_off, category SWITCH), off.
func Switch(id, name string, opts ...DeviceOption) model.Device {
	return device(id, name, model.CategorySwitch, model.Traits{OnOff: &model.OnOff{}},
		model.State{On: model.Ptr(false)}, opts)
}

// Plug builds a smart plug (on_off, category SMARTPLUG), off.
func Plug(id, name string, opts ...DeviceOption) model.Device {
	return device(id, name, model.CategorySmartPlug, model.Traits{OnOff: &model.OnOff{}},
		model.State{On: model.Ptr(false)}, opts)
}

// Device builds a device of any category from options alone (WithOnOff,
// WithToggle, WithRange, WithMode, WithTemperatureSensor…): for what the
// other helpers do not cover, such as a fan or a washing machine.
func Device(id, name string, cat model.Category, opts ...DeviceOption) model.Device {
	return device(id, name, cat, model.Traits{}, model.State{}, opts)
}

// WithCategory overrides the display category (a light that is really a plug).
func WithCategory(c model.Category) DeviceOption {
	return func(d *model.Device) { d.Endpoint.Category = c }
}

// WithOnOff adds the on_off trait with the given state.
func WithOnOff(on bool) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.OnOff = &model.OnOff{}
		d.State.On = model.Ptr(on)
	}
}

// WithTemperatureSensor adds the temperature_sensor trait reading tempC.
func WithTemperatureSensor(tempC float64) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.TemperatureSensor = &model.TemperatureSensor{}
		d.State.Temperature = model.Ptr(tempC)
	}
}

// WithToggle adds a generic toggle (an instance such as "Oscillate" with its
// names; none given: the instance in en-US) with the given state.
func WithToggle(instance string, on bool, names ...model.Name) DeviceOption {
	return func(d *model.Device) {
		d.Endpoint.Traits.Toggles = append(d.Endpoint.Traits.Toggles, model.Toggle{Instance: instance, Names: defaultNames(instance, names)})
		if d.State.Toggles == nil {
			d.State.Toggles = map[string]bool{}
		}
		d.State.Toggles[instance] = on
	}
}

// WithRange adds a generic range (r.Names empty: the instance in en-US) at value v.
func WithRange(r model.Range, v float64) DeviceOption {
	return func(d *model.Device) {
		r.Names = defaultNames(r.Instance, r.Names)
		if r.Precision == 0 {
			r.Precision = 1
		}
		d.Endpoint.Traits.Ranges = append(d.Endpoint.Traits.Ranges, r)
		if d.State.Ranges == nil {
			d.State.Ranges = map[string]float64{}
		}
		d.State.Ranges[r.Instance] = v
	}
}

// WithMode adds a generic mode (m.Names empty: the instance in en-US; values
// without names are named after themselves) set to value.
func WithMode(m model.Mode, value string) DeviceOption {
	return func(d *model.Device) {
		m.Names = defaultNames(m.Instance, m.Names)
		m.Values = append([]model.ModeValue(nil), m.Values...)
		for i := range m.Values {
			m.Values[i].Names = defaultNames(m.Values[i].Value, m.Values[i].Names)
		}
		d.Endpoint.Traits.Modes = append(d.Endpoint.Traits.Modes, m)
		if d.State.Modes == nil {
			d.State.Modes = map[string]string{}
		}
		d.State.Modes[m.Instance] = value
	}
}

func defaultNames(text string, names []model.Name) []model.Name {
	if len(names) > 0 {
		return names
	}
	return []model.Name{{Text: text, Locale: "en-US"}}
}
