package virtual

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// Config is the virtual bridge's configuration (JSON).
type Config struct {
	// Devices to simulate. Empty means DefaultDevices.
	Devices []DeviceConfig `json:"devices,omitempty"`
	// ManualEvery, when set (e.g. "30s"), makes one simulated manual change
	// (someone at a switch, a temperature drifting) that often.
	ManualEvery Duration `json:"manualEvery,omitempty"`
	// LockDelay is how long a lock takes to turn (default 2s). Lock commands are
	// answered Accepted and completed after it.
	LockDelay Duration `json:"lockDelay,omitempty"`
}

// DeviceConfig describes one simulated device.
type DeviceConfig struct {
	// ID is the device's stable id within the bridge.
	ID string `json:"id"`
	// Name is its friendly name.
	Name string `json:"name"`
	// Type is light, lock, thermostat, temperature_sensor, cover,
	// contact_sensor, motion_sensor, leak_sensor, smoke_sensor, gas_sensor,
	// humidity_sensor, metered_plug, fan or siren.
	Type string `json:"type"`
	// Kind is a light's kind: onoff, dimmable, color_temperature, color or
	// extended_color (default dimmable); a thermostat's: single, dual or
	// heat_cool (one setpoint, heat/cool/auto/eco/off; default single).
	Kind string `json:"kind,omitempty"`
	// LevelControlsPower makes a light behave like most bulbs (ZCL's
	// "with on/off" commands): level 0 turns it off, any other level, a colour
	// or a colour temperature turns it on, and turning it on restores the last
	// level. Amazon's capability test plans expect this behaviour.
	LevelControlsPower bool `json:"levelControlsPower,omitempty"`
	// MinKelvin and MaxKelvin override a colour-temperature light's range
	// (default 2200–6500 K).
	MinKelvin int `json:"minKelvin,omitempty"`
	MaxKelvin int `json:"maxKelvin,omitempty"`
	// Scale is the temperature scale a thermostat shows (CELSIUS, the
	// default, or FAHRENHEIT): what Alexa reports it in.
	Scale string `json:"scale,omitempty"`
	// Temperature is the initial reading of a thermostat or sensor (°C, default 20).
	Temperature *float64 `json:"temperature,omitempty"`
	// Jammed makes a lock jam on its next operation (demonstrates a hardware fault).
	Jammed bool `json:"jammed,omitempty"`
	// Unreachable starts the device unreachable (demonstrates ENDPOINT_UNREACHABLE).
	Unreachable bool `json:"unreachable,omitempty"`
}

// Device types.
const (
	TypeLight             = "light"
	TypeLock              = "lock"
	TypeThermostat        = "thermostat"
	TypeTemperatureSensor = "temperature_sensor"
)

// Duration is a time.Duration that reads and writes as a Go duration string.
type Duration time.Duration

// UnmarshalJSON reads "2s", "500ms".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("duration %s is negative", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// DefaultDevices is the device set of an empty configuration: one of every kind.
func DefaultDevices() []DeviceConfig {
	return []DeviceConfig{
		{ID: "kitchen-light", Name: "Kitchen Light", Type: TypeLight, Kind: "color"},
		{ID: "hall-light", Name: "Hall Light", Type: TypeLight, Kind: "onoff"},
		{ID: "bedroom-light", Name: "Bedroom Light", Type: TypeLight, Kind: "dimmable"},
		{ID: "desk-lamp", Name: "Desk Lamp", Type: TypeLight, Kind: "color_temperature"},
		{ID: "living-room-light", Name: "Living Room Light", Type: TypeLight, Kind: "extended_color"},
		{ID: "front-door", Name: "Front Door", Type: TypeLock},
		{ID: "thermostat", Name: "Thermostat", Type: TypeThermostat, Kind: "single"},
		{ID: "heat-pump", Name: "Heat Pump", Type: TypeThermostat, Kind: "dual"},
		{ID: "outdoor-sensor", Name: "Outdoor Temperature", Type: TypeTemperatureSensor, Temperature: ptr(12.5)},
		{ID: "bedroom-blind", Name: "Bedroom Blind", Type: TypeCover},
		{ID: "patio-door", Name: "Patio Door", Type: TypeContactSensor},
		{ID: "hall-motion", Name: "Hall Motion", Type: TypeMotionSensor},
		{ID: "kitchen-leak", Name: "Kitchen Leak Sensor", Type: TypeLeakSensor},
		{ID: "hall-smoke", Name: "Hall Smoke Alarm", Type: TypeSmokeSensor},
		{ID: "boiler-gas", Name: "Boiler Gas Sensor", Type: TypeGasSensor},
		{ID: "bathroom-climate", Name: "Bathroom Climate", Type: TypeHumiditySensor, Temperature: ptr(22.0)},
		{ID: "kettle-plug", Name: "Kettle Plug", Type: TypeMeteredPlug},
		{ID: "ceiling-fan", Name: "Ceiling Fan", Type: TypeFan},
		{ID: "alarm-siren", Name: "Alarm Siren", Type: TypeSiren},
	}
}

func ptr[T any](v T) *T { return &v }

// ParseConfig decodes and checks a configuration (unknown keys are errors).
func ParseConfig(b []byte) (Config, error) {
	var c Config
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("virtual bridge config: %w", err)
	}
	if len(c.Devices) == 0 {
		c.Devices = DefaultDevices()
	}
	if c.LockDelay == 0 {
		c.LockDelay = Duration(2 * time.Second)
	}
	seen := map[string]bool{}
	for i, d := range c.Devices {
		switch {
		case d.ID == "":
			return Config{}, fmt.Errorf("virtual bridge config: device %d has no id", i)
		case seen[d.ID]:
			return Config{}, fmt.Errorf("virtual bridge config: device id %q is used twice", d.ID)
		}
		if err := model.ValidateFriendlyName(d.Name); err != nil {
			return Config{}, fmt.Errorf("virtual bridge config: device %q: %w", d.ID, err)
		}
		seen[d.ID] = true
		if _, err := build(d); err != nil {
			return Config{}, fmt.Errorf("virtual bridge config: device %q: %w", d.ID, err)
		}
	}
	return c, nil
}

// ConfigSchema is the JSON Schema of Config.
const ConfigSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "avshub virtual bridge",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "manualEvery": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"},
    "lockDelay":   {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"},
    "devices": {
      "type": "array",
      "items": {
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "name", "type"],
        "properties": {
          "id":          {"type": "string", "minLength": 1},
          "name":        {"type": "string", "minLength": 1, "maxLength": 128},
          "type":        {"enum": ["light", "lock", "thermostat", "temperature_sensor", "cover", "contact_sensor", "motion_sensor", "leak_sensor", "smoke_sensor", "gas_sensor", "humidity_sensor", "metered_plug", "fan", "siren"]},
          "kind":        {"enum": ["onoff", "dimmable", "color_temperature", "color", "extended_color", "single", "dual", "heat_cool"]},
          "temperature": {"type": "number"},
          "scale":       {"enum": ["CELSIUS", "FAHRENHEIT"]},
          "levelControlsPower": {"type": "boolean"},
          "minKelvin":   {"type": "integer", "minimum": 1000, "maximum": 10000},
          "maxKelvin":   {"type": "integer", "minimum": 1000, "maximum": 10000},
          "jammed":      {"type": "boolean"},
          "unreachable": {"type": "boolean"}
        }
      }
    }
  }
}`

// SampleConfig is a configuration the schema accepts (used by plugintest).
const SampleConfig = `{
  "manualEvery": "1m",
  "lockDelay": "1s",
  "devices": [
    {"id": "kitchen-light", "name": "Kitchen Light", "type": "light", "kind": "color"},
    {"id": "hall-light", "name": "Hall Light", "type": "light", "kind": "onoff"},
    {"id": "desk-lamp", "name": "Desk Lamp", "type": "light", "kind": "color_temperature"},
    {"id": "front-door", "name": "Front Door", "type": "lock"},
    {"id": "thermostat", "name": "Thermostat", "type": "thermostat", "kind": "single", "temperature": 19.5},
    {"id": "heat-pump", "name": "Heat Pump", "type": "thermostat", "kind": "dual"},
    {"id": "outdoor-sensor", "name": "Outdoor Temperature", "type": "temperature_sensor", "temperature": 8},
    {"id": "bedroom-blind", "name": "Bedroom Blind", "type": "cover"},
    {"id": "patio-door", "name": "Patio Door", "type": "contact_sensor"},
    {"id": "kitchen-leak", "name": "Kitchen Leak Sensor", "type": "leak_sensor"},
    {"id": "kettle-plug", "name": "Kettle Plug", "type": "metered_plug"}
  ]
}`
