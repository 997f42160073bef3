package z2msim

import (
	"encoding/json"
	"fmt"
	"os"
)

// RecordingFile is where the recordings of the real zigbee2mqtt live,
// relative to this package (gateway/hub's TestChainRealZigbee2MQTT writes
// it when run with -update; it is never edited by hand).
const RecordingFile = "testdata/real-zigbee2mqtt.json"

// Recording is what the real zigbee2mqtt published while the hub drove
// znp-sim's devices through it, one Step per command: the reference z2m-sim
// is held to.
type Recording struct {
	// Zigbee2MQTT is the version recorded.
	Zigbee2MQTT string `json:"zigbee2mqtt"`
	// Steps are the commands, in the order they were sent.
	Steps []Step `json:"steps"`
}

// Step is one command and what followed it.
type Step struct {
	// Name says what the step does ("lock unlocks").
	Name string `json:"name"`
	// Kind is the kind of device (KindColorLight …): the z2m-sim device a
	// replay uses.
	Kind string `json:"kind"`
	// Model is the zigbee2mqtt model of the real device.
	Model string `json:"model"`
	// Condition is how the device behaved: "" (it carries the command out),
	// ConditionRefuses or ConditionAsleep.
	Condition string `json:"condition,omitempty"`
	// Messages are the device's /set (as the MQTT bridge sent it), its
	// state publications and zigbee2mqtt's bridge/logging lines about it,
	// in order.
	Messages []Message `json:"messages"`
}

// Message is one MQTT message of a Step.
type Message struct {
	// AfterMS is the time since the step's first /set reached the broker.
	AfterMS int64 `json:"after_ms"`
	// Topic is relative to the device: "set", "state" (the device's own
	// topic), "availability", or "bridge/logging".
	Topic string `json:"topic"`
	// Payload is the message as published when it is JSON; Text when not
	// (zigbee2mqtt's <device>/action topic).
	Payload json.RawMessage `json:"payload,omitempty"`
	Text    string          `json:"text,omitempty"`
}

// Device kinds of a Step.
const (
	KindColorLight   = "color_light"
	KindCTLight      = "ct_light"
	KindDimmable     = "dimmable_light"
	KindLock         = "lock"
	KindThermostat   = "thermostat"
	KindTempSensor   = "temperature_sensor"
	ConditionRefuses = "refuses"
	ConditionAsleep  = "asleep"
)

// LoadRecording reads a recording file.
func LoadRecording(path string) (Recording, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Recording{}, fmt.Errorf("z2msim: recording: %w", err)
	}
	var r Recording
	if err := json.Unmarshal(b, &r); err != nil {
		return Recording{}, fmt.Errorf("z2msim: recording %s: %w", path, err)
	}
	return r, nil
}

// PairingRecordingFile holds what the real zigbee2mqtt published on its
// bridge topics while the hub paired znp-sim's devices through it and removed
// one (gateway/hub's TestPairAndRemoveThroughRealZigbee2MQTT writes it with
// -update): z2m-sim's permit_join, device/remove and bridge/event are held
// to it.
const PairingRecordingFile = "testdata/real-pairing.json"

// PairingRecording is the real zigbee2mqtt's pairing and removal messages.
type PairingRecording struct {
	Zigbee2MQTT string `json:"zigbee2mqtt"`
	// Removed is the IEEE address of the device removed.
	Removed string `json:"removed"`
	// Messages are the bridge/request, bridge/response and bridge/event
	// messages and the removed device's own topic, in order; Topic is
	// relative to the base topic.
	Messages []Message `json:"messages"`
}

// LoadPairingRecording reads a pairing recording file.
func LoadPairingRecording(path string) (PairingRecording, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return PairingRecording{}, fmt.Errorf("z2msim: pairing recording: %w", err)
	}
	var r PairingRecording
	if err := json.Unmarshal(b, &r); err != nil {
		return PairingRecording{}, fmt.Errorf("z2msim: pairing recording %s: %w", path, err)
	}
	return r, nil
}
