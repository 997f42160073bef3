package model

import (
	"errors"
	"fmt"
)

// ErrorKind classifies why a command failed. The hub maps each kind to the
// matching Alexa ErrorResponse type and namespace.
type ErrorKind string

// Error kinds a bridge (or the hub's own validation) reports.
const (
	// ErrUnreachable: the device does not answer (ENDPOINT_UNREACHABLE).
	ErrUnreachable ErrorKind = "UNREACHABLE"
	// ErrBridgeUnreachable: the bridge itself is down (BRIDGE_UNREACHABLE).
	ErrBridgeUnreachable ErrorKind = "BRIDGE_UNREACHABLE"
	// ErrBusy: the device is busy with another operation (ENDPOINT_BUSY).
	ErrBusy ErrorKind = "BUSY"
	// ErrOutOfRange: a value is outside the allowed range (VALUE_OUT_OF_RANGE, with Min and Max).
	ErrOutOfRange ErrorKind = "OUT_OF_RANGE"
	// ErrTemperatureOutOfRange: a setpoint is outside the allowed range (°C, with Min and Max).
	ErrTemperatureOutOfRange ErrorKind = "TEMPERATURE_OUT_OF_RANGE"
	// ErrNotSupported: the endpoint has no such trait or command (INVALID_DIRECTIVE).
	ErrNotSupported ErrorKind = "NOT_SUPPORTED"
	// ErrInvalidValue: the command's value is not acceptable (INVALID_VALUE).
	ErrInvalidValue ErrorKind = "INVALID_VALUE"
	// ErrHardwareFault: the device reports a fault, e.g. a jammed lock (HARDWARE_MALFUNCTION).
	ErrHardwareFault ErrorKind = "HARDWARE_FAULT"
	// ErrLowPower: the device's battery is too low (ENDPOINT_LOW_POWER).
	ErrLowPower ErrorKind = "LOW_POWER"
	// ErrUnsupportedThermostatMode: the thermostat has no such mode.
	ErrUnsupportedThermostatMode ErrorKind = "UNSUPPORTED_THERMOSTAT_MODE"
	// ErrThermostatIsOff: a setpoint was sent to a thermostat that is off.
	ErrThermostatIsOff ErrorKind = "THERMOSTAT_IS_OFF"
	// ErrSetpointsTooClose: lower and upper setpoints are closer than MinDelta °C.
	ErrSetpointsTooClose ErrorKind = "REQUESTED_SETPOINTS_TOO_CLOSE"
	// ErrDualSetpointsUnsupported: the thermostat takes a single setpoint only.
	ErrDualSetpointsUnsupported ErrorKind = "DUAL_SETPOINTS_UNSUPPORTED"
	// ErrTripleSetpointsUnsupported: three setpoints at once are not supported.
	ErrTripleSetpointsUnsupported ErrorKind = "TRIPLE_SETPOINTS_UNSUPPORTED"
	// ErrInternal: anything else (INTERNAL_ERROR). Never used for timeouts.
	ErrInternal ErrorKind = "INTERNAL"
)

// Error is a typed command failure.
type Error struct {
	Kind    ErrorKind `json:"kind"`
	Message string    `json:"message"`
	// Min and Max give the valid range for the out-of-range kinds (°C for temperatures).
	Min float64 `json:"min,omitempty"`
	Max float64 `json:"max,omitempty"`
	// MinDelta is the minimum setpoint distance (°C) for ErrSetpointsTooClose.
	MinDelta float64 `json:"minDelta,omitempty"`
	// Percentage is the battery level for ErrLowPower, when known.
	Percentage int `json:"percentage,omitempty"`
}

func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Kind)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

// OutOfRange returns an ErrOutOfRange error with its valid range.
func OutOfRange(msg string, min, max float64) *Error {
	return &Error{Kind: ErrOutOfRange, Message: msg, Min: min, Max: max}
}

// Errorf returns an *Error of the given kind.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err as an *Error. A plain error becomes ErrInternal, except
// context deadlines, which become ErrUnreachable (a timeout is never internal).
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if isTimeout(err) {
		return &Error{Kind: ErrUnreachable, Message: "the device did not answer in time"}
	}
	return &Error{Kind: ErrInternal, Message: err.Error()}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	if errors.As(err, &t) && t.Timeout() {
		return true
	}
	return errors.Is(err, errDeadline)
}
