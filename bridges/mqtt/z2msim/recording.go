package z2msim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
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
	// ByHand, in a step without a /set, is a change made at the device
	// itself: the property zigbee2mqtt shows it in and the value it shows.
	ByHand map[string]any `json:"by_hand,omitempty"`
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

// KindsRecordingFile holds what the real zigbee2mqtt published about
// znp-sim's products of the newer kinds (a blind, door, leak, motion,
// smoke, CO sensors, a siren, a metering plug, a fan and a button):
// their bridge/devices entries, the state each published before the
// commands, and what followed each /set and each change by hand. It is
// written by znpsim's TestRealZigbee2MQTT with -update, never by hand; z2m-sim
// carries these devices as recorded (Options.Kinds), and
// TestReplayRealKinds holds z2m-sim's answers to it.
const KindsRecordingFile = "testdata/real-kinds.json"

// KindsRecording is the real zigbee2mqtt's messages about the newer kinds.
type KindsRecording struct {
	Zigbee2MQTT string `json:"zigbee2mqtt"`
	// Devices are the products, as zigbee2mqtt described them.
	Devices []RecordedDevice `json:"devices"`
	// Steps are the commands and the changes by hand, in order.
	Steps []Step `json:"steps"`
}

// RecordedDevice is one product as the real zigbee2mqtt described it.
type RecordedDevice struct {
	// Kind is the kind of device (KindCover …).
	Kind string `json:"kind"`
	// Entry is the device's bridge/devices entry, as published.
	Entry json.RawMessage `json:"entry"`
	// State is the last state zigbee2mqtt published for it before the
	// commands (after its interview and first reports).
	State json.RawMessage `json:"state"`
}

// Kinds of the newer devices (KindsRecording).
const (
	KindCover     = "cover"
	KindTiltCover = "tilt_cover"
	KindContact   = "contact"
	KindWaterLeak = "water_leak"
	KindOccupancy = "occupancy"
	KindSmoke     = "smoke"
	KindCO        = "carbon_monoxide"
	KindSiren     = "siren"
	KindPlug      = "metering_plug"
	KindFan       = "fan"
	KindButton    = "button"
)

// LoadKindsRecording reads a recording of the newer kinds.
func LoadKindsRecording(path string) (KindsRecording, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return KindsRecording{}, fmt.Errorf("z2msim: kinds recording: %w", err)
	}
	return parseKindsRecording(b, path)
}

func parseKindsRecording(b []byte, path string) (KindsRecording, error) {
	var r KindsRecording
	if err := json.Unmarshal(b, &r); err != nil {
		return KindsRecording{}, fmt.Errorf("z2msim: kinds recording %s: %w", path, err)
	}
	return r, nil
}

// Published is one message a recording harness received from the broker.
type Published struct {
	At      time.Time
	Topic   string
	Payload []byte
}

// RecordStep fills s.Messages with the messages about device (a friendly
// name under base, zigbee2mqtt's base topic) in msgs: its /set, its state
// and other topics, and zigbee2mqtt's warning and error lines naming it.
// Times count from the first /set, or from start when there is none (a
// change by hand); with neither, the step has no messages.
func RecordStep(base, device string, start time.Time, msgs []Published, s Step) Step {
	t0 := start
	for _, m := range msgs {
		if m.Topic == base+"/"+device+"/set" || strings.HasPrefix(m.Topic, base+"/"+device+"/set/") {
			t0 = m.At
			break
		}
	}
	if t0.IsZero() {
		return s
	}
	for _, m := range msgs {
		if !AboutDevice(base, device, m.Topic, m.Payload) || m.At.Before(t0) {
			continue
		}
		topic := strings.TrimPrefix(strings.TrimPrefix(m.Topic, base+"/"+device), "/")
		switch {
		case topic == "":
			topic = "state"
		case m.Topic == base+"/bridge/logging":
			topic = "bridge/logging"
		}
		msg := Message{AfterMS: m.At.Sub(t0).Milliseconds(), Topic: topic}
		if json.Valid(m.Payload) {
			msg.Payload = json.RawMessage(m.Payload)
		} else {
			msg.Text = string(m.Payload)
		}
		s.Messages = append(s.Messages, msg)
	}
	return s
}

// AboutDevice reports whether a message is about device: its own topics
// and zigbee2mqtt's warnings and errors naming it on bridge/logging.
func AboutDevice(base, device, topic string, payload []byte) bool {
	own := base + "/" + device
	if topic == own || strings.HasPrefix(topic, own+"/") {
		return true
	}
	if topic != base+"/bridge/logging" || !bytes.Contains(payload, []byte(device)) {
		return false
	}
	var l struct{ Level string }
	return json.Unmarshal(payload, &l) == nil && (l.Level == "error" || l.Level == "warning")
}
