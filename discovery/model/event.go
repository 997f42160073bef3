package model

import (
	"context"
	"time"
)

var errDeadline = context.DeadlineExceeded

// EventKind says what a bridge Event carries.
type EventKind string

// Event kinds, in the order a bridge stream uses them: a Health and a Snapshot
// first, then any of the others.
const (
	// EventHealth carries the bridge's health.
	EventHealth EventKind = "health"
	// EventSnapshot carries the bridge's full device set with state.
	EventSnapshot EventKind = "snapshot"
	// EventUpsert carries one added or changed device (its endpoint and state).
	EventUpsert EventKind = "upsert"
	// EventRemove carries the id of a device that went away.
	EventRemove EventKind = "remove"
	// EventState carries a state change (the changed fields) with its cause.
	EventState EventKind = "state"
	// EventReachability carries a device's reachability.
	EventReachability EventKind = "reachability"
	// EventCompletion completes a command that was answered Accepted.
	EventCompletion EventKind = "completion"
	// EventPairing reports a pairing window or a device joining during it.
	EventPairing EventKind = "pairing"
	// EventLink carries a device's radio link (quality, last seen).
	EventLink EventKind = "link"
)

// Event is one message of a bridge's event stream.
type Event struct {
	Seq  uint64    `json:"seq"`
	At   time.Time `json:"at"`
	Kind EventKind `json:"kind"`

	Health     *Health     `json:"health,omitempty"`     // EventHealth
	Devices    []Device    `json:"devices,omitempty"`    // EventSnapshot
	Device     *Device     `json:"device,omitempty"`     // EventUpsert
	DeviceID   string      `json:"deviceId,omitempty"`   // EventRemove, EventState, EventReachability, EventLink
	State      State       `json:"state,omitempty"`      // EventState: the changed fields
	Cause      Cause       `json:"cause,omitempty"`      // EventState
	Reachable  bool        `json:"reachable,omitempty"`  // EventReachability
	Completion *Completion `json:"completion,omitempty"` // EventCompletion
	Pairing    *Pairing    `json:"pairing,omitempty"`    // EventPairing
	Link       *Link       `json:"link,omitempty"`       // EventLink (DeviceID says whose)
}

// PairingStage is where a pairing window or one joining device is.
type PairingStage string

// Pairing stages: a window is open or closed; a device is announced, then
// interviewed step by step, then published or failed.
const (
	PairingOpen         PairingStage = "open"
	PairingClosed       PairingStage = "closed"
	PairingAnnounced    PairingStage = "announced"
	PairingInterviewing PairingStage = "interviewing"
	PairingPublished    PairingStage = "published"
	PairingFailed       PairingStage = "failed"
)

// Pairing is one pairing progress report: of the window (DeviceID empty:
// open or closed) or of one device joining during it.
type Pairing struct {
	Stage PairingStage `json:"stage"`
	// DeviceID is the bridge's id of the device; empty for the window.
	DeviceID string `json:"deviceId,omitempty"`
	// Detail is the interview step, the failure reason or a note on the window.
	Detail string `json:"detail,omitempty"`
	// Remaining is the time left until the network closes, as of Event.At.
	Remaining time.Duration `json:"remaining"`
	// Endpoint is the device as published (PairingPublished), or what is known
	// of it so far (manufacturer, model), if anything.
	Endpoint *Endpoint `json:"endpoint,omitempty"`
}

// Completion is the final outcome of a command that was answered Accepted.
type Completion struct {
	CorrelationID string `json:"correlationId"`
	// Err is set when the command failed; otherwise State is the state after it.
	Err   *Error `json:"error,omitempty"`
	State State  `json:"state"`
}

// Bridge is the hub's view of one bridge, in process or behind the plugin
// protocol (plugins/host implements it for plugin processes). Its events reach
// the hub through the Sink given when it was started.
type Bridge interface {
	// Execute carries out one command. It returns a Result (Done with the state
	// after, or Accepted with a Completion to follow) or an *Error.
	Execute(ctx context.Context, req Request) (Result, error)
	// State reads one device's current state.
	State(ctx context.Context, deviceID string) (State, error)
	// StartPairing lets new devices join for d; ErrNotSupported when the bridge cannot pair.
	StartPairing(ctx context.Context, d time.Duration) error
	// RemoveDevice makes a device leave and forgets it (a Remove event
	// follows); ErrNotSupported when the bridge cannot remove devices.
	RemoveDevice(ctx context.Context, deviceID string) error
}

// Sink receives a bridge's events in order. The hub implements it.
type Sink interface {
	BridgeEvent(bridge string, ev Event)
}
