package alexa

import (
	"encoding/json"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// Instance names of the avs profile. Decode maps a directive back to a trait by
// them, so they are part of what Alexa stores: never rename one. Generic
// toggles, ranges and modes must not reuse them.
const (
	// InstanceBrightness is the brightness RangeController (0–100, Alexa.Unit.Percent).
	InstanceBrightness = "Light.Brightness"
	// InstanceColorTemperature is the colour-temperature RangeController (kelvin).
	InstanceColorTemperature = "Light.ColorTemperature"
	// InstanceColor is the colour ModeController (named colours, see README).
	InstanceColor = "Light.Color"
	// InstanceLock is the lock ModeController: Lock.Locked, Lock.Unlocked, Lock.Jammed.
	InstanceLock = "Lock.State"
	// InstanceThermostatMode is the thermostat-mode ModeController.
	InstanceThermostatMode = "Thermostat.Mode"
	// InstanceTargetSetpoint is the single-setpoint RangeController (thermostat scale).
	InstanceTargetSetpoint = "Thermostat.TargetSetpoint"
	// InstanceLowerSetpoint is the lower (heating) setpoint of a dual-setpoint thermostat.
	InstanceLowerSetpoint = "Thermostat.LowerSetpoint"
	// InstanceUpperSetpoint is the upper (cooling) setpoint of a dual-setpoint thermostat.
	InstanceUpperSetpoint = "Thermostat.UpperSetpoint"
	// InstanceCurrentTemperature is the non-controllable RangeController of the measured temperature.
	InstanceCurrentTemperature = "Temperature.Current"
)

// Comfort and eco presets of the avs profile's target setpoint (°C), clamped
// to the thermostat's range.
const (
	PresetComfortC = 21.0
	PresetEcoC     = 17.0
)

// Units of measure used by the avs profile.
const (
	unitPercent    = "Alexa.Unit.Percent"
	unitKelvin     = "Alexa.Unit.Temperature.Kelvin"
	unitCelsius    = "Alexa.Unit.Temperature.Celsius"
	unitFahrenheit = "Alexa.Unit.Temperature.Fahrenheit"
)

// avsProfile renders traits with the interfaces AVS documents for connected
// endpoints only: Alexa, PowerController, ToggleController, RangeController
// and ModeController.
type avsProfile struct{ *profile }

// Endpoint renders ep with the avs profile's capabilities.
func (a *avsProfile) Endpoint(ep model.Endpoint) (json.RawMessage, error) {
	return a.renderEndpoint(a, ep)
}

// Proactive reports whether p is a declared property of ep (all are proactive).
func (a *avsProfile) Proactive(ep model.Endpoint, p Property) bool {
	return proactive(a.lite, ep, p)
}

func unitFor(s Scale) string {
	if s == Fahrenheit {
		return unitFahrenheit
	}
	return unitCelsius
}

func (a *avsProfile) capabilities(ep model.Endpoint) ([]capability, error) {
	rs := avsRenderings()
	caps, err := a.renderCaps([]capability{iface(nsAlexa, "")}, rs.all(), ep.Traits)
	if err != nil {
		return nil, err
	}
	if err := checkInstances(caps); err != nil {
		return nil, err
	}
	return caps, nil
}

// Decode maps avs-profile directives back to trait commands. It resolves
// relative adjustments but does not call model.Command.Validate: range and
// mode checks are the router's (it validates every command before a bridge
// sees it). Decode refuses what it cannot even express: unknown namespaces,
// names and instances (ErrNotSupported), malformed payloads and values that
// are not commands, such as Lock.Jammed (ErrInvalidValue).
func (a *avsProfile) Decode(d *Directive, ep model.Endpoint, st model.State) (Intent, error) {
	if in, done, err := decodeCommon(d); done {
		return in, err
	}
	return a.decodeTraits(avsRenderings().all(), d, ep.Traits, st)
}

// Properties reports the state of every declared trait; unknown state is left
// out. Temperatures are in the thermostat's (or the profile's) scale.
func (a *avsProfile) Properties(ep model.Endpoint, st model.State, reachable bool, at time.Time) []Property {
	prop := func(ns, instance, name string, v any) Property {
		return Property{Namespace: ns, Instance: instance, Name: name, Value: v, TimeOfSample: at}
	}
	return a.renderProps(nil, avsRenderings().all(), ep.Traits, st, prop)
}
