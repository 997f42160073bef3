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
)

// Event is one message of a bridge's event stream.
type Event struct {
	Seq  uint64    `json:"seq"`
	At   time.Time `json:"at"`
	Kind EventKind `json:"kind"`

	Health     *Health     `json:"health,omitempty"`     // EventHealth
	Devices    []Device    `json:"devices,omitempty"`    // EventSnapshot
	Device     *Device     `json:"device,omitempty"`     // EventUpsert
	DeviceID   string      `json:"deviceId,omitempty"`   // EventRemove, EventState, EventReachability
	State      State       `json:"state,omitempty"`      // EventState: the changed fields
	Cause      Cause       `json:"cause,omitempty"`      // EventState
	Reachable  bool        `json:"reachable,omitempty"`  // EventReachability
	Completion *Completion `json:"completion,omitempty"` // EventCompletion
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
}

// Sink receives a bridge's events in order. The hub implements it.
type Sink interface {
	BridgeEvent(bridge string, ev Event)
}
