package alexa

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// kindNoSuchEndpoint marks the ErrorResponse for an endpoint the hub does not
// know. It is not a bridge-facing discovery kind (bridges never report it), so
// it stays private: callers use NewNoSuchEndpoint.
const kindNoSuchEndpoint model.ErrorKind = "NO_SUCH_ENDPOINT"

// ErrorType is the namespace and payload type of an ErrorResponse.
type ErrorType struct {
	Namespace string // "Alexa" or the interface, e.g. "Alexa.ThermostatController"
	Type      string // e.g. "ENDPOINT_UNREACHABLE"
}

// ErrorTypeOf maps a model.ErrorKind to the ErrorResponse namespace and type.
// Unknown kinds are INTERNAL_ERROR.
func ErrorTypeOf(k model.ErrorKind) ErrorType {
	const thermostat = "Alexa.ThermostatController"
	switch k {
	case model.ErrUnreachable:
		return ErrorType{"Alexa", "ENDPOINT_UNREACHABLE"}
	case model.ErrBridgeUnreachable:
		return ErrorType{"Alexa", "BRIDGE_UNREACHABLE"}
	case model.ErrBusy:
		return ErrorType{"Alexa", "ENDPOINT_BUSY"}
	case model.ErrOutOfRange:
		return ErrorType{"Alexa", "VALUE_OUT_OF_RANGE"}
	case model.ErrTemperatureOutOfRange:
		return ErrorType{"Alexa", "TEMPERATURE_VALUE_OUT_OF_RANGE"}
	case model.ErrNotSupported:
		return ErrorType{"Alexa", "INVALID_DIRECTIVE"}
	case model.ErrInvalidValue:
		return ErrorType{"Alexa", "INVALID_VALUE"}
	case model.ErrHardwareFault:
		return ErrorType{"Alexa", "HARDWARE_MALFUNCTION"}
	case model.ErrLowPower:
		return ErrorType{"Alexa", "ENDPOINT_LOW_POWER"}
	case kindNoSuchEndpoint:
		return ErrorType{"Alexa", "NO_SUCH_ENDPOINT"}
	case model.ErrUnsupportedThermostatMode:
		return ErrorType{thermostat, "UNSUPPORTED_THERMOSTAT_MODE"}
	case model.ErrThermostatIsOff:
		return ErrorType{thermostat, "THERMOSTAT_IS_OFF"}
	case model.ErrSetpointsTooClose:
		return ErrorType{thermostat, "REQUESTED_SETPOINTS_TOO_CLOSE"}
	case model.ErrDualSetpointsUnsupported:
		return ErrorType{thermostat, "DUAL_SETPOINTS_UNSUPPORTED"}
	case model.ErrTripleSetpointsUnsupported:
		return ErrorType{thermostat, "TRIPLE_SETPOINTS_UNSUPPORTED"}
	}
	return ErrorType{"Alexa", "INTERNAL_ERROR"}
}

type temperatureJSON struct {
	Value float64 `json:"value"`
	Scale string  `json:"scale"`
}

type errorPayload struct {
	Type                    string           `json:"type"`
	Message                 string           `json:"message"`
	ValidRange              any              `json:"validRange,omitempty"`
	PercentageState         *int             `json:"percentageState,omitempty"`
	MinimumTemperatureDelta *temperatureJSON `json:"minimumTemperatureDelta,omitempty"`
}

// NewErrorResponse builds the ErrorResponse for err (namespace, type and payload
// chosen from err.Kind); temperatures in validRange use scale ("" or an
// unknown scale means CELSIUS).
//
// VALUE_OUT_OF_RANGE carries validRange {minimumValue, maximumValue} from
// err.Min/Max; TEMPERATURE_VALUE_OUT_OF_RANGE the same as temperatures in scale;
// REQUESTED_SETPOINTS_TOO_CLOSE minimumTemperatureDelta (an interval) in scale;
// ENDPOINT_LOW_POWER percentageState when err.Percentage is set. The schema
// allows no context on an ErrorResponse, so none is sent. A nil err is an
// INTERNAL_ERROR (a bug in the caller, never sent as success).
func NewErrorResponse(d *Directive, endpointID string, err *model.Error, scale string) ([]byte, error) {
	if err == nil {
		err = &model.Error{Kind: model.ErrInternal, Message: "no error given"}
	}
	sc, serr := ParseScale(scale)
	if serr != nil {
		sc = Celsius
	}
	et := ErrorTypeOf(err.Kind)
	p := errorPayload{Type: et.Type, Message: err.Message}
	if p.Message == "" {
		p.Message = et.Type
	}
	switch err.Kind {
	case model.ErrOutOfRange:
		p.ValidRange = struct {
			Min float64 `json:"minimumValue"`
			Max float64 `json:"maximumValue"`
		}{err.Min, err.Max}
	case model.ErrTemperatureOutOfRange:
		p.ValidRange = struct {
			Min temperatureJSON `json:"minimumValue"`
			Max temperatureJSON `json:"maximumValue"`
		}{
			temperatureJSON{round(FromCelsius(err.Min, sc), 2), string(sc)},
			temperatureJSON{round(FromCelsius(err.Max, sc), 2), string(sc)},
		}
	case model.ErrSetpointsTooClose:
		p.MinimumTemperatureDelta = &temperatureJSON{round(IntervalFromCelsius(err.MinDelta, sc), 2), string(sc)}
	case model.ErrLowPower:
		if err.Percentage > 0 {
			pc := err.Percentage
			p.PercentageState = &pc
		}
	}
	return marshalEvent(envelope{Event: event{
		Header:   header(et.Namespace, "ErrorResponse", d),
		Endpoint: endpointRef(endpointID),
		Payload:  p,
	}})
}

// NewNoSuchEndpoint builds the NO_SUCH_ENDPOINT ErrorResponse to d for an
// endpoint id the hub does not know.
func NewNoSuchEndpoint(d *Directive, endpointID string) ([]byte, error) {
	return NewErrorResponse(d, endpointID, &model.Error{
		Kind:    kindNoSuchEndpoint,
		Message: fmt.Sprintf("no endpoint %q on this hub", endpointID),
	}, "")
}
