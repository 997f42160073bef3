package alexa

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/avshub/avshub/discovery/model"
)

// Property is one reportable state property of an endpoint.
type Property struct {
	Namespace                 string    `json:"namespace"`
	Instance                  string    `json:"instance,omitempty"`
	Name                      string    `json:"name"`
	Value                     any       `json:"value"`
	TimeOfSample              time.Time `json:"timeOfSample"`
	UncertaintyInMilliseconds int       `json:"uncertaintyInMilliseconds"`
}

// TimeOfSampleLayout is the timeOfSample format: UTC with milliseconds, which
// the schema's pattern (1–3 fractional digits, "Z") accepts.
const TimeOfSampleLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON writes the property with timeOfSample in TimeOfSampleLayout; a
// zero TimeOfSample is written as the time of encoding (year 1 is not a time
// Alexa accepts).
//
// It writes what encoding/json writes for the struct (the same bytes, fields
// in the same order) without reflection for the fields and the common values:
// it runs for every property of every answer, and the reflective encoding was
// a tenth of the hub's allocations per directive.
func (p Property) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 128+len(p.Namespace)+len(p.Instance)+len(p.Name))
	b = append(b, `{"namespace":`...)
	b = appendJSONString(b, p.Namespace)
	if p.Instance != "" {
		b = append(b, `,"instance":`...)
		b = appendJSONString(b, p.Instance)
	}
	b = append(b, `,"name":`...)
	b = appendJSONString(b, p.Name)
	b = append(b, `,"value":`...)
	b, err := p.AppendValueJSON(b)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"uncertaintyInMilliseconds":`...)
	b = strconv.AppendInt(b, int64(p.UncertaintyInMilliseconds), 10)
	at := p.TimeOfSample
	if at.IsZero() {
		at = time.Now()
	}
	b = append(b, `,"timeOfSample":"`...)
	b = at.UTC().AppendFormat(b, TimeOfSampleLayout)
	return append(b, `"}`...), nil
}

// AppendValueJSON appends the JSON encoding of p.Value to b, the bytes
// encoding/json.Marshal makes of it: strings of plain characters, booleans
// and integers directly, every other value through json.Marshal.
func (p Property) AppendValueJSON(b []byte) ([]byte, error) {
	switch v := p.Value.(type) {
	case string:
		if plainJSONString(v) {
			return appendJSONString(b, v), nil
		}
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	}
	j, err := json.Marshal(p.Value)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// plainJSONString reports whether encoding/json writes s as itself in quotes:
// printable ASCII without the characters it escapes (", \ and, for HTML,
// <, > and &).
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// appendJSONString appends s as a JSON string, as encoding/json.Marshal writes it.
func appendJSONString(b []byte, s string) []byte {
	if plainJSONString(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	j, _ := json.Marshal(s) // a string always encodes (invalid UTF-8 becomes U+FFFD)
	return append(b, j...)
}

// The event builders below return the whole event JSON ({"context":…,"event":…})
// ready to be sent as the metadata part of POST /v20160207/events. Every event
// gets a fresh UUID v4 messageId and payloadVersion "3". Following the AVS
// Device SDK, endpoint.scope is never set on responses (the token travels in
// the HTTP Authorization header). Header "instance" is left out of responses:
// the official schema forbids it there, and each property carries its instance.

type eventHeader struct {
	Namespace             string `json:"namespace"`
	Name                  string `json:"name"`
	PayloadVersion        string `json:"payloadVersion"`
	MessageID             string `json:"messageId"`
	CorrelationToken      string `json:"correlationToken,omitempty"`
	EventCorrelationToken string `json:"eventCorrelationToken,omitempty"`
}

type eventEndpoint struct {
	EndpointID string `json:"endpointId"`
}

type event struct {
	Header   eventHeader    `json:"header"`
	Endpoint *eventEndpoint `json:"endpoint,omitempty"`
	Payload  any            `json:"payload"`
}

type propertiesContext struct {
	Properties []Property `json:"properties"`
}

type envelope struct {
	Context any   `json:"context,omitempty"`
	Event   event `json:"event"`
}

// newMessageID returns a fresh messageId (UUID v4, within the schema's charset).
var newMessageID = uuid.NewString

func header(namespace, name string, d *Directive) eventHeader {
	h := eventHeader{Namespace: namespace, Name: name, PayloadVersion: "3", MessageID: newMessageID()}
	if d != nil {
		h.CorrelationToken = d.Header.CorrelationToken
	}
	return h
}

func endpointRef(id string) *eventEndpoint {
	if id == "" {
		return nil
	}
	return &eventEndpoint{EndpointID: id}
}

func propsContext(props []Property) any {
	if len(props) == 0 {
		return nil
	}
	return propertiesContext{Properties: props}
}

func marshalEvent(e envelope) ([]byte, error) {
	if b, ok := appendPlainEvent(make([]byte, 0, 512+len(e.contextProperties())*192), e); ok {
		return b, nil
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("alexa: encode %s.%s: %w", e.Event.Header.Namespace, e.Event.Header.Name, err)
	}
	return b, nil
}

var emptyPayload = struct{}{}

// contextProperties returns the properties of a properties context (nil
// for any other context).
func (e envelope) contextProperties() []Property {
	if c, ok := e.Context.(propertiesContext); ok {
		return c.Properties
	}
	return nil
}

// appendPlainEvent appends e as json.Marshal encodes it when e has the shape
// of the events that answer directives (Response, StateReport, AcceptGrant's
// answer): no context or a properties context, an empty payload. It reports
// false, having appended nothing useful, for any other event, which
// json.Marshal then encodes. Each property is its MarshalJSON, which writes
// what encoding/json would (TestPropertyMarshalJSONMatchesEncodingJSON), and
// the strings go through appendJSONString: the bytes are json.Marshal's
// (TestPlainEventMatchesEncodingJSON). Why: json.Marshal's reflection and its
// re-validation of each property's MarshalJSON output were the largest part
// of the hub's own CPU per directive that is not protocol work.
func appendPlainEvent(b []byte, e envelope) ([]byte, bool) {
	if e.Event.Payload != any(emptyPayload) {
		return nil, false
	}
	b = append(b, '{')
	switch c := e.Context.(type) {
	case nil:
	case propertiesContext:
		if c.Properties == nil {
			return nil, false
		}
		b = append(b, `"context":{"properties":[`...)
		for i, p := range c.Properties {
			if i > 0 {
				b = append(b, ',')
			}
			j, err := p.MarshalJSON()
			if err != nil {
				return nil, false // json.Marshal words the error
			}
			b = append(b, j...)
		}
		b = append(b, `]},`...)
	default:
		return nil, false
	}
	h := e.Event.Header
	b = append(b, `"event":{"header":{"namespace":`...)
	b = appendJSONString(b, h.Namespace)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, h.Name)
	b = append(b, `,"payloadVersion":`...)
	b = appendJSONString(b, h.PayloadVersion)
	b = append(b, `,"messageId":`...)
	b = appendJSONString(b, h.MessageID)
	if h.CorrelationToken != "" {
		b = append(b, `,"correlationToken":`...)
		b = appendJSONString(b, h.CorrelationToken)
	}
	if h.EventCorrelationToken != "" {
		b = append(b, `,"eventCorrelationToken":`...)
		b = appendJSONString(b, h.EventCorrelationToken)
	}
	b = append(b, '}')
	if e.Event.Endpoint != nil {
		b = append(b, `,"endpoint":{"endpointId":`...)
		b = appendJSONString(b, e.Event.Endpoint.EndpointID)
		b = append(b, '}')
	}
	return append(b, `,"payload":{}}}`...), true
}

// NewResponse builds the Alexa.Response to d with the endpoint's context properties.
func NewResponse(d *Directive, endpointID string, props []Property) ([]byte, error) {
	return marshalEvent(envelope{
		Context: propsContext(props),
		Event:   event{Header: header("Alexa", "Response", d), Endpoint: endpointRef(endpointID), Payload: emptyPayload},
	})
}

// NewStateReport builds the Alexa.StateReport answering an Alexa.ReportState directive.
func NewStateReport(d *Directive, endpointID string, props []Property) ([]byte, error) {
	return marshalEvent(envelope{
		Context: propertiesContext{Properties: nonNil(props)},
		Event:   event{Header: header("Alexa", "StateReport", d), Endpoint: endpointRef(endpointID), Payload: emptyPayload},
	})
}

func nonNil(p []Property) []Property {
	if p == nil {
		return []Property{}
	}
	return p
}

// NewDeferredResponse builds the Alexa.DeferredResponse to d. The estimate is
// rounded up to whole seconds; zero or less leaves estimatedDeferralInSeconds out.
// The schema allows no endpoint on a DeferredResponse, so none is set.
func NewDeferredResponse(d *Directive, estimated time.Duration) ([]byte, error) {
	payload := map[string]any{}
	if estimated > 0 {
		secs := int64(math.Ceil(estimated.Seconds()))
		if secs > math.MaxInt32 {
			secs = math.MaxInt32
		}
		payload["estimatedDeferralInSeconds"] = secs
	}
	return marshalEvent(envelope{Event: event{Header: header("Alexa", "DeferredResponse", d), Payload: payload}})
}

// ChangeCause maps a model.Cause to the ChangeReport cause type the schema
// knows: ALEXA_INTERACTION (not in the schema) is reported as VOICE_INTERACTION,
// an empty or unknown cause as APP_INTERACTION.
func ChangeCause(c model.Cause) string {
	switch c {
	case model.CausePhysical, model.CauseApp, model.CausePoll, model.CauseRule, model.CauseVoice:
		return string(c)
	case model.CauseAlexa:
		return string(model.CauseVoice)
	}
	return string(model.CauseApp)
}

// NewChangeReport builds an Alexa.ChangeReport: changed properties in the
// payload with the cause, the endpoint's other properties in the context.
// It refuses an empty changed list (Alexa requires at least one change).
func NewChangeReport(endpointID string, cause model.Cause, changed, unchanged []Property) ([]byte, error) {
	if len(changed) == 0 {
		return nil, fmt.Errorf("alexa: ChangeReport for %s without changed properties", endpointID)
	}
	type changeCause struct {
		Type string `json:"type"`
	}
	type change struct {
		Cause      changeCause `json:"cause"`
		Properties []Property  `json:"properties"`
	}
	return marshalEvent(envelope{
		Context: propsContext(unchanged),
		Event: event{
			Header:   header("Alexa", "ChangeReport", nil),
			Endpoint: endpointRef(endpointID),
			Payload: struct {
				Change change `json:"change"`
			}{change{Cause: changeCause{Type: ChangeCause(cause)}, Properties: changed}},
		},
	})
}

// System.ExceptionEncountered error types.
const (
	ExceptionUnexpectedInformation = "UNEXPECTED_INFORMATION_RECEIVED"
	ExceptionUnsupportedOperation  = "UNSUPPORTED_OPERATION"
	ExceptionInternalError         = "INTERNAL_ERROR"
)

// NewExceptionEncountered builds System.ExceptionEncountered for a directive
// that could not be parsed or handled (errType: UNEXPECTED_INFORMATION_RECEIVED,
// UNSUPPORTED_OPERATION or INTERNAL_ERROR).
//
// The context is the (empty) AVS device-context array; unparsedDirective is the
// directive as received, as a string. System events carry no payloadVersion.
func NewExceptionEncountered(raw []byte, errType, message string) ([]byte, error) {
	switch errType {
	case ExceptionUnexpectedInformation, ExceptionUnsupportedOperation, ExceptionInternalError:
	default:
		return nil, fmt.Errorf("alexa: unknown ExceptionEncountered type %q", errType)
	}
	type excError struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	type sysHeader struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
		MessageID string `json:"messageId"`
	}
	ev := struct {
		Context []any `json:"context"`
		Event   struct {
			Header  sysHeader `json:"header"`
			Payload struct {
				UnparsedDirective string   `json:"unparsedDirective"`
				Error             excError `json:"error"`
			} `json:"payload"`
		} `json:"event"`
	}{Context: []any{}}
	ev.Event.Header = sysHeader{Namespace: "System", Name: "ExceptionEncountered", MessageID: newMessageID()}
	ev.Event.Payload.UnparsedDirective = string(raw)
	ev.Event.Payload.Error = excError{Type: errType, Message: message}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("alexa: encode ExceptionEncountered: %w", err)
	}
	return b, nil
}
