package main

// Directive builders: what Alexa sends for an utterance, in the hub's profile.
// The "avs" profile speaks through PowerController, RangeController and
// ModeController instances (see gateway/alexa/README.md); "smarthome" through
// the native interfaces.

func (d *demo) smarthome() bool { return d.profile == "smarthome" }

func turnOn(id string) directive {
	return directive{Namespace: "Alexa.PowerController", Name: "TurnOn", EndpointID: id}
}

func (d *demo) setBrightness(id string, pct int) directive {
	if d.smarthome() {
		return directive{Namespace: "Alexa.BrightnessController", Name: "SetBrightness", EndpointID: id,
			Payload: map[string]any{"brightness": pct}}
	}
	return directive{Namespace: "Alexa.RangeController", Name: "SetRangeValue", EndpointID: id, Instance: "Light.Brightness",
		Payload: map[string]any{"rangeValue": pct}}
}

func (d *demo) setColorTemperature(id string, kelvin int) directive {
	if d.smarthome() {
		return directive{Namespace: "Alexa.ColorTemperatureController", Name: "SetColorTemperature", EndpointID: id,
			Payload: map[string]any{"colorTemperatureInKelvin": kelvin}}
	}
	return directive{Namespace: "Alexa.RangeController", Name: "SetRangeValue", EndpointID: id, Instance: "Light.ColorTemperature",
		Payload: map[string]any{"rangeValue": kelvin}}
}

// setColor sets a colour light to a named colour (hue in degrees, full saturation).
func (d *demo) setColor(id, name string, hue float64) directive {
	if d.smarthome() {
		return directive{Namespace: "Alexa.ColorController", Name: "SetColor", EndpointID: id,
			Payload: map[string]any{"color": map[string]any{"hue": hue, "saturation": 1.0, "brightness": 1.0}}}
	}
	return directive{Namespace: "Alexa.ModeController", Name: "SetMode", EndpointID: id, Instance: "Light.Color",
		Payload: map[string]any{"mode": "Color." + name}}
}

func (d *demo) lock(id string, locked bool) directive {
	if d.smarthome() {
		name := "Unlock"
		if locked {
			name = "Lock"
		}
		return directive{Namespace: "Alexa.LockController", Name: name, EndpointID: id}
	}
	v := "Lock.Unlocked"
	if locked {
		v = "Lock.Locked"
	}
	return directive{Namespace: "Alexa.ModeController", Name: "SetMode", EndpointID: id, Instance: "Lock.State",
		Payload: map[string]any{"mode": v}}
}

func temp(c float64) map[string]any { return map[string]any{"value": c, "scale": "CELSIUS"} }

// setTarget sets a single-setpoint thermostat.
func (d *demo) setTarget(id string, c float64) directive {
	if d.smarthome() {
		return directive{Namespace: "Alexa.ThermostatController", Name: "SetTargetTemperature", EndpointID: id,
			Payload: map[string]any{"targetSetpoint": temp(c)}}
	}
	return directive{Namespace: "Alexa.RangeController", Name: "SetRangeValue", EndpointID: id, Instance: "Thermostat.TargetSetpoint",
		Payload: map[string]any{"rangeValue": c}}
}

// setDual sets both setpoints of a dual-setpoint thermostat: one directive in
// smarthome, two RangeController directives in avs.
func (d *demo) setDual(id string, lower, upper float64) []directive {
	if d.smarthome() {
		return []directive{{Namespace: "Alexa.ThermostatController", Name: "SetTargetTemperature", EndpointID: id,
			Payload: map[string]any{"lowerSetpoint": temp(lower), "upperSetpoint": temp(upper)}}}
	}
	return []directive{
		{Namespace: "Alexa.RangeController", Name: "SetRangeValue", EndpointID: id, Instance: "Thermostat.LowerSetpoint",
			Payload: map[string]any{"rangeValue": lower}},
		{Namespace: "Alexa.RangeController", Name: "SetRangeValue", EndpointID: id, Instance: "Thermostat.UpperSetpoint",
			Payload: map[string]any{"rangeValue": upper}},
	}
}

// setMode sets a thermostat's mode (HEAT, COOL, AUTO, ECO, OFF).
func (d *demo) setMode(id, mode string) directive {
	if d.smarthome() {
		return directive{Namespace: "Alexa.ThermostatController", Name: "SetThermostatMode", EndpointID: id,
			Payload: map[string]any{"thermostatMode": map[string]any{"value": mode}}}
	}
	v := map[string]string{"HEAT": "Thermostat.Heat", "COOL": "Thermostat.Cool", "AUTO": "Thermostat.Auto", "ECO": "Thermostat.Eco", "OFF": "Thermostat.Off"}[mode]
	return directive{Namespace: "Alexa.ModeController", Name: "SetMode", EndpointID: id, Instance: "Thermostat.Mode",
		Payload: map[string]any{"mode": v}}
}

func reportState(id string) directive {
	return directive{Namespace: "Alexa", Name: "ReportState", EndpointID: id}
}
