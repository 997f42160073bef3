package model

import "time"

// Category is an endpoint's display category, as Alexa names it.
type Category string

// Display categories avshub publishes.
const (
	CategoryLight             Category = "LIGHT"
	CategorySmartLock         Category = "SMARTLOCK"
	CategoryThermostat        Category = "THERMOSTAT"
	CategoryTemperatureSensor Category = "TEMPERATURE_SENSOR"
	CategorySwitch            Category = "SWITCH"
	CategorySmartPlug         Category = "SMARTPLUG"
	CategoryOther             Category = "OTHER"
	CategoryInteriorBlind     Category = "INTERIOR_BLIND"
	CategoryExteriorBlind     Category = "EXTERIOR_BLIND"
	CategoryContactSensor     Category = "CONTACT_SENSOR"
	CategoryMotionSensor      Category = "MOTION_SENSOR"
	CategoryFan               Category = "FAN"
	CategorySecurityPanel     Category = "SECURITY_PANEL"
	// CategoryAlexaVoiceEnabled is the category of the AVS device's own endpoint.
	CategoryAlexaVoiceEnabled Category = "ALEXA_VOICE_ENABLED"
)

// ConnectionType says how an endpoint is connected.
type ConnectionType string

// Connection types Alexa knows.
const (
	ConnectionZigbee  ConnectionType = "ZIGBEE"
	ConnectionTCPIP   ConnectionType = "TCP_IP"
	ConnectionUnknown ConnectionType = "UNKNOWN"
)

// Connection is one way an endpoint is connected (a Zigbee MAC, an IP address).
type Connection struct {
	Type       ConnectionType `json:"type"`
	MACAddress string         `json:"macAddress,omitempty"`
	Value      string         `json:"value,omitempty"`
}

// Endpoint is one device as avshub publishes it: identity, description and traits.
//
// A bridge fills DeviceID (its own stable id for the device) and leaves ID and
// Bridge empty; the hub sets Bridge and derives the globally unique ID.
type Endpoint struct {
	ID           string       `json:"id,omitempty"`
	Bridge       string       `json:"bridge,omitempty"`
	DeviceID     string       `json:"deviceId"`
	FriendlyName string       `json:"friendlyName"`
	Manufacturer string       `json:"manufacturer,omitempty"`
	Model        string       `json:"model,omitempty"`
	Description  string       `json:"description,omitempty"`
	Category     Category     `json:"category"`
	Connections  []Connection `json:"connections,omitempty"`
	Traits       Traits       `json:"traits"`
}

// ThermostatMode is a thermostat's operating mode.
type ThermostatMode string

// Thermostat modes.
const (
	ModeHeat ThermostatMode = "HEAT"
	ModeCool ThermostatMode = "COOL"
	ModeAuto ThermostatMode = "AUTO"
	ModeEco  ThermostatMode = "ECO"
	ModeOff  ThermostatMode = "OFF"
)

// SupportsMode reports whether m is one of the thermostat's modes.
func (t *Thermostat) SupportsMode(m ThermostatMode) bool {
	for _, x := range t.Modes {
		if x == m {
			return true
		}
	}
	return false
}

// Name is one friendly name of a generic trait or of one of its values: a text in
// a locale, or an Alexa asset id (e.g. "Alexa.Setting.Mode").
type Name struct {
	Text    string `json:"text,omitempty"`
	Locale  string `json:"locale,omitempty"`
	AssetID string `json:"assetId,omitempty"`
}

// Preset is a named value of a Range.
type Preset struct {
	Value float64 `json:"value"`
	Names []Name  `json:"names"`
}

// ModeValue is one value of a Mode.
type ModeValue struct {
	Value string `json:"value"`
	Names []Name `json:"names"`
}

// HSB is a colour: hue 0–360, saturation and brightness 0–1.
type HSB struct {
	Hue        float64 `json:"hue"`
	Saturation float64 `json:"saturation"`
	Brightness float64 `json:"brightness"`
}

// LockState is the state of a lock.
type LockState string

// Lock states.
const (
	Locked   LockState = "LOCKED"
	Unlocked LockState = "UNLOCKED"
	Jammed   LockState = "JAMMED"
)

// ThermostatState is a thermostat's mode and setpoints (°C). As a command it is
// partial: only the fields set are changed.
type ThermostatState struct {
	Mode   ThermostatMode `json:"mode,omitempty"`
	Target *float64       `json:"target,omitempty"`
	Lower  *float64       `json:"lower,omitempty"`
	Upper  *float64       `json:"upper,omitempty"`
}

// Device is what a bridge reports about one of its devices: the endpoint, its
// state and whether it can be reached now.
type Device struct {
	Endpoint  Endpoint `json:"endpoint"`
	State     State    `json:"state"`
	Reachable bool     `json:"reachable"`
	// Link is the radio link as the bridge last saw it, when it knows it.
	Link *Link `json:"link,omitempty"`
	// StateAt is when the bridge last knew State to be the device's; zero
	// means now. A bridge that starts with states from its own storage, before
	// it has heard from the devices again, sets it to when it stored them: the
	// hub then keeps what it was told after that (a change the bridge reported
	// and did not store before it stopped) instead of going back to it.
	StateAt time.Time `json:"stateAt,omitzero"`
}

// Link is a device's radio link as its bridge last saw it: diagnostics for
// people (the page, the CLI), never an Alexa capability.
type Link struct {
	// Quality is the link quality in % (0–100), when known.
	Quality *int `json:"quality,omitempty"`
	// LastSeen is when the bridge last heard from the device (zero: unknown).
	LastSeen time.Time `json:"lastSeen,omitzero"`
}

// Clone returns a copy of l that shares nothing with it (nil for nil).
func (l *Link) Clone() *Link {
	if l == nil {
		return nil
	}
	c := *l
	c.Quality = cloneP(l.Quality)
	return &c
}

// LinkQualityPercent converts a Zigbee LQI (0–255, as zigbee2mqtt's
// linkquality) to %.
func LinkQualityPercent(lqi int) int { return max(0, min(100, (lqi*100+127)/255)) }

// Cause says why a state changed, as Alexa's ChangeReport cause types name it.
type Cause string

// Causes of a state change.
const (
	CausePhysical Cause = "PHYSICAL_INTERACTION"
	CauseApp      Cause = "APP_INTERACTION"
	CausePoll     Cause = "PERIODIC_POLL"
	CauseRule     Cause = "RULE_TRIGGER"
	CauseVoice    Cause = "VOICE_INTERACTION"
	CauseAlexa    Cause = "ALEXA_INTERACTION"
)

// HealthState is a bridge's health.
type HealthState string

// Health states.
const (
	HealthStarting  HealthState = "STARTING"
	HealthHealthy   HealthState = "HEALTHY"
	HealthUnhealthy HealthState = "UNHEALTHY"
)

// Health is a bridge's health with a human description.
type Health struct {
	State       HealthState `json:"state"`
	Description string      `json:"description,omitempty"`
}

// Request is one command for one device, as the hub sends it to a bridge.
type Request struct {
	CorrelationID string    `json:"correlationId"`
	DeviceID      string    `json:"deviceId"`
	Command       Command   `json:"command"`
	Deadline      time.Time `json:"deadline"`
}

// ResultStatus says whether a command is done or accepted for later completion.
type ResultStatus string

// Result statuses.
const (
	// Done: the command was carried out; State is the device state after it.
	Done ResultStatus = "DONE"
	// Accepted: the device is still working; a Completion event follows.
	Accepted ResultStatus = "ACCEPTED"
)

// Result is a bridge's successful answer to a Request. Failures are *Error values.
type Result struct {
	Status ResultStatus `json:"status"`
	State  State        `json:"state"`
	// EstimatedDeferral is how long an Accepted command should take.
	EstimatedDeferral time.Duration `json:"estimatedDeferral,omitempty"`
}
