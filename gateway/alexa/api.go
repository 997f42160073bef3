package alexa

// This file fixes the API that gateway/router, gateway/avs glue and the hub use.
// The bodies are being written; the signatures are the contract.

import (
	"encoding/json"
	"time"

	"github.com/avshub/avshub/discovery"
)

// Header is the header of an Alexa directive or event (envelope v20160207).
type Header struct {
	Namespace             string `json:"namespace"`
	Name                  string `json:"name"`
	Instance              string `json:"instance,omitempty"`
	MessageID             string `json:"messageId"`
	CorrelationToken      string `json:"correlationToken,omitempty"`
	EventCorrelationToken string `json:"eventCorrelationToken,omitempty"`
	PayloadVersion        string `json:"payloadVersion,omitempty"`
	DialogRequestID       string `json:"dialogRequestId,omitempty"`
}

// EndpointRef names the endpoint a directive or event is about.
type EndpointRef struct {
	EndpointID string            `json:"endpointId"`
	Cookie     map[string]string `json:"cookie,omitempty"`
}

// Directive is one directive from Alexa (the inside of {"directive":{…}}).
type Directive struct {
	Header   Header          `json:"header"`
	Endpoint *EndpointRef    `json:"endpoint,omitempty"`
	Payload  json.RawMessage `json:"payload"`
	// Raw is the whole directive JSON as received, for ExceptionEncountered.
	Raw []byte `json:"-"`
}

// Property is one reportable state property of an endpoint.
type Property struct {
	Namespace                 string    `json:"namespace"`
	Instance                  string    `json:"instance,omitempty"`
	Name                      string    `json:"name"`
	Value                     any       `json:"value"`
	TimeOfSample              time.Time `json:"timeOfSample"`
	UncertaintyInMilliseconds int       `json:"uncertaintyInMilliseconds"`
}

// Intent is what a decoded directive asks for: a state report, or one absolute
// command (relative adjustments already resolved against the current state).
type Intent struct {
	ReportState bool
	Command     discovery.Command
	// Scale is the temperature scale the directive used ("CELSIUS", "FAHRENHEIT",
	// "KELVIN"), for answering TEMPERATURE_VALUE_OUT_OF_RANGE in the same scale.
	Scale string
}

// Profile renders traits as Alexa capabilities and decodes directives back into
// trait commands. Two profiles exist: "avs" (the default) and "smarthome".
type Profile interface {
	// Name is "avs" or "smarthome".
	Name() string
	// Endpoint renders one endpoint as an Alexa.Discovery endpoint object.
	Endpoint(ep discovery.Endpoint) (json.RawMessage, error)
	// Decode turns a directive for ep (whose current state is st) into an Intent,
	// or returns a *discovery.Error (or *Error) to answer with an ErrorResponse.
	Decode(d *Directive, ep discovery.Endpoint, st discovery.State) (Intent, error)
	// Properties renders the endpoint's state as context properties.
	Properties(ep discovery.Endpoint, st discovery.State, reachable bool, at time.Time) []Property
	// Proactive reports whether a property is declared proactivelyReported.
	Proactive(ep discovery.Endpoint, p Property) bool
}

// The event builders below return the whole event JSON ({"context":…,"event":…})
// ready to be sent as the metadata part of POST /v20160207/events.

// ParseDirective parses one downchannel part {"directive":{…}}.
func ParseDirective(raw []byte) (*Directive, error) { panic("alexa: not implemented yet") }

// NewResponse builds the Alexa.Response to d with the endpoint's context properties.
func NewResponse(d *Directive, endpointID string, props []Property) ([]byte, error) {
	panic("alexa: not implemented yet")
}

// NewStateReport builds the Alexa.StateReport answering an Alexa.ReportState directive.
func NewStateReport(d *Directive, endpointID string, props []Property) ([]byte, error) {
	panic("alexa: not implemented yet")
}

// NewErrorResponse builds the ErrorResponse for err (namespace, type and payload
// chosen from err.Kind); temperatures in validRange use scale ("" means CELSIUS).
func NewErrorResponse(d *Directive, endpointID string, err *discovery.Error, scale string) ([]byte, error) {
	panic("alexa: not implemented yet")
}

// NewDeferredResponse builds the Alexa.DeferredResponse to d.
func NewDeferredResponse(d *Directive, estimated time.Duration) ([]byte, error) {
	panic("alexa: not implemented yet")
}

// NewChangeReport builds an Alexa.ChangeReport: changed properties in the
// payload with the cause, the endpoint's other properties in the context.
func NewChangeReport(endpointID string, cause discovery.Cause, changed, unchanged []Property) ([]byte, error) {
	panic("alexa: not implemented yet")
}

// NewExceptionEncountered builds System.ExceptionEncountered for a directive
// that could not be parsed or handled (errType: UNEXPECTED_INFORMATION_RECEIVED,
// UNSUPPORTED_OPERATION or INTERNAL_ERROR).
func NewExceptionEncountered(raw []byte, errType, message string) ([]byte, error) {
	panic("alexa: not implemented yet")
}

// ProfileOptions configures a profile.
type ProfileOptions struct {
	// Locales for capabilityResources friendly names (default ["en-US"]).
	Locales []string
}

// ProfileByName returns the "avs" (default when name is "") or "smarthome" profile.
func ProfileByName(name string, opts ProfileOptions) (Profile, error) {
	panic("alexa: not implemented yet")
}
