package zigbee

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Config is the bridge's configuration section.
type Config struct {
	// Port is the serial device of the coordinator stick (e.g. /dev/serial/by-id/usb-…).
	Port string `json:"port"`
	// Baud is the serial speed (default 115200).
	Baud int `json:"baud,omitempty"`
	// Channel is the Zigbee channel used when the network is formed (11–26, default 15).
	Channel int `json:"channel,omitempty"`
	// PANID fixes the PAN id used when the network is formed (0 = random).
	PANID int `json:"panId,omitempty"`
	// AvailabilitySeconds is how often mains-powered devices that have been quiet are
	// checked (default 600).
	AvailabilitySeconds int `json:"availabilitySeconds,omitempty"`
	// ResponseTimeoutMs bounds the wait for a device's ZCL answer (default 5000).
	ResponseTimeoutMs int `json:"responseTimeoutMs,omitempty"`
	// Names maps IEEE addresses (16 hex digits) to friendly names.
	Names map[string]string `json:"names,omitempty"`
}

// ConfigSchema is the JSON schema of Config.
const ConfigSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "avshub Zigbee (Z-Stack ZNP) bridge",
  "type": "object",
  "additionalProperties": false,
  "required": ["port"],
  "properties": {
    "port": {"type": "string", "minLength": 1, "description": "serial device of the Z-Stack 3.x coordinator stick"},
    "baud": {"type": "integer", "enum": [38400, 57600, 115200, 230400, 460800], "default": 115200},
    "channel": {"type": "integer", "minimum": 11, "maximum": 26, "default": 15},
    "panId": {"type": "integer", "minimum": 0, "maximum": 65527, "default": 0},
    "availabilitySeconds": {"type": "integer", "minimum": 1, "maximum": 86400, "default": 600},
    "responseTimeoutMs": {"type": "integer", "minimum": 100, "maximum": 60000, "default": 5000},
    "names": {"type": "object", "propertyNames": {"pattern": "^[0-9a-f]{16}$"}, "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 128}}
  }
}`

// SampleConfig is a configuration the schema accepts.
const SampleConfig = `{
  "port": "/dev/serial/by-id/usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus-if00-port0",
  "baud": 115200,
  "channel": 15,
  "availabilitySeconds": 600,
  "names": {"0017880104a1c3e5": "Living room lamp"}
}`

// ParseConfig decodes and checks a configuration, filling defaults.
func ParseConfig(raw []byte) (Config, error) {
	var c Config
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("zigbee: config: %w", err)
	}
	if c.Port == "" {
		return c, fmt.Errorf("zigbee: config: port is required")
	}
	if c.Baud == 0 {
		c.Baud = 115200
	}
	if c.Channel == 0 {
		c.Channel = 15
	}
	if c.Channel < 11 || c.Channel > 26 {
		return c, fmt.Errorf("zigbee: config: channel %d is outside 11–26", c.Channel)
	}
	if c.PANID < 0 || c.PANID > 0xFFF7 {
		return c, fmt.Errorf("zigbee: config: panId %d is outside 0–65527", c.PANID)
	}
	for k, v := range c.Names {
		if _, err := parseIEEE(k); err != nil || strings.ToLower(k) != k {
			return c, fmt.Errorf("zigbee: config: names key %q is not an IEEE address of 16 lowercase hex digits", k)
		}
		if strings.TrimSpace(v) == "" {
			return c, fmt.Errorf("zigbee: config: the name of %s is empty", k)
		}
	}
	if c.AvailabilitySeconds <= 0 {
		c.AvailabilitySeconds = 600
	}
	if c.ResponseTimeoutMs <= 0 {
		c.ResponseTimeoutMs = 5000
	}
	return c, nil
}

func (c Config) responseTimeout() time.Duration {
	return time.Duration(c.ResponseTimeoutMs) * time.Millisecond
}
func (c Config) availability() time.Duration {
	return time.Duration(c.AvailabilitySeconds) * time.Second
}
