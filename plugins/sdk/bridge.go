// Package sdk is what a bridge author imports: Serve, the Bridge interface, the
// event emitter and typed helpers for lights, locks and thermostats.
package sdk

import (
	"context"
	"encoding/json"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// Bridge is what a bridge implements. The SDK serves it over the bridge.v1
// plugin protocol (Serve) or hands it to the hub in process (tests, plugintest).
type Bridge interface {
	// Describe returns the bridge's manifest. It must be cheap and never fail.
	Describe() Description
	// Configure gives the bridge its configuration (JSON, validated against
	// Description.ConfigSchema) and its private data directory. It is called once,
	// before Run, and must not block on slow hardware: report that through Health.
	Configure(ctx context.Context, cfg Config) error
	// Run does the bridge's work until ctx ends. It must emit Health and a
	// Snapshot of every device first, then changes. It returns nil when ctx ends.
	Run(ctx context.Context, em Emitter) error
	// Execute carries out one absolute trait command for one device. It returns a
	// Result (Done with the state after, or Accepted followed by em.Complete) or a
	// *model.Error. It must return by req.Deadline, when ctx ends; WaitLeft says
	// how long it may wait for a slow device first. The state after is what the
	// command did: req.Command.Effect on the device's state, with what the
	// device changed with it and reported no other way; never a copy of the
	// whole state (a reading emitted meanwhile reaches the hub as an event,
	// maybe before the answer, and the answer's older copy would overwrite it).
	Execute(ctx context.Context, req model.Request) (model.Result, error)
	// State reads one device's current state.
	State(ctx context.Context, deviceID string) (model.State, error)
}

// Pairer is implemented by bridges that can let new devices join.
type Pairer interface {
	// StartPairing opens the network for d; joining devices are announced with
	// em.Upsert. A bridge that declares Description.PairingProgress also reports
	// the window and each step of a join with em.Pairing.
	StartPairing(ctx context.Context, d time.Duration) error
}

// Remover is implemented by bridges that can remove a device (Description.Remove).
type Remover interface {
	// RemoveDevice makes the device leave (a leave request, or whatever the
	// bridge's network knows) and forgets it. The SDK sends the Remove event
	// when the bridge has not.
	RemoveDevice(ctx context.Context, deviceID string) error
}

// Config is what Configure receives.
type Config struct {
	// JSON is the bridge's configuration section, as JSON ("{}" when empty).
	JSON json.RawMessage
	// DataDir is a directory private to this bridge, for its persistent state.
	DataDir string
}

// Description is a bridge's manifest (the Describe RPC and the describe subcommand).
type Description struct {
	Name        string   `json:"name"`
	Version     string   `json:"version"`
	APIVersions []string `json:"apiVersions"`
	Pairing     bool     `json:"pairing"`
	// PairingProgress: the bridge reports pairing progress with Emitter.Pairing.
	PairingProgress bool `json:"pairingProgress,omitempty"`
	// Remove: the bridge implements Remover.
	Remove       bool            `json:"remove,omitempty"`
	ConfigSchema json.RawMessage `json:"configSchema"`
	// SampleConfig is a configuration the schema accepts (plugintest checks it).
	SampleConfig json.RawMessage `json:"sampleConfig,omitempty"`
}

// Emitter sends a bridge's events to the hub, in order, with sequence numbers.
// The SDK remembers the device set it has seen, so every new event stream starts
// with Health and a Snapshot. All methods are safe for concurrent use and never block
// for long.
type Emitter interface {
	Health(h model.Health)
	// Snapshot replaces the device set. A device whose state comes from the
	// bridge's storage rather than from the device carries StateAt, when it
	// was stored (API 1.2); the SDK clears it once StateChanged or a command's
	// answer reports the device's state.
	Snapshot(devices []model.Device)
	Upsert(d model.Device)
	Remove(deviceID string)
	StateChanged(deviceID string, changed model.State, cause model.Cause)
	Reachability(deviceID string, reachable bool)
	// Complete finishes an Accepted command: err nil means done with state.
	Complete(correlationID string, state model.State, err error)
	// Pairing reports a pairing window or a device joining during it (API 1.1).
	Pairing(p model.Pairing)
	// Link reports a device's radio link (quality, last heard); call it as
	// often as frames arrive: the SDK sends it on when it moved (API 1.1).
	Link(deviceID string, l model.Link)
}
