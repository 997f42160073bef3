package alexa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Alexa.Discovery report names (discovery.Report.Name).
const (
	AddOrUpdateReport = "AddOrUpdateReport"
	DeleteReport      = "DeleteReport"
)

// MaxEndpointsPerReport is the most endpoints one Alexa.Discovery report takes.
const MaxEndpointsPerReport = 300

type scope struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

// NewAddOrUpdateReport builds an Alexa.Discovery AddOrUpdateReport event for
// endpoint objects rendered by a Profile (or avs.DeviceEndpoint).
//
// The header carries a fresh eventCorrelationToken (Alexa echoes it in
// Alexa.EventProcessed; read it back with EventCorrelationToken). The payload's
// scope is {"type":"BearerToken","token":""}: the AVS client fills the token at
// send time with WithScopeToken, so no token is ever stored or logged here.
func NewAddOrUpdateReport(endpoints []json.RawMessage) ([]byte, error) {
	return discoveryReport(AddOrUpdateReport, endpoints)
}

// NewDeleteReport builds an Alexa.Discovery DeleteReport event for endpoint
// objects of the form {"endpointId":…} (as discovery.Report carries them); the
// scope token is filled the same way as for NewAddOrUpdateReport.
func NewDeleteReport(endpoints []json.RawMessage) ([]byte, error) {
	return discoveryReport(DeleteReport, endpoints)
}

// NewDiscoveryReport builds the report named name ("AddOrUpdateReport" or
// "DeleteReport") for a discovery.Report's endpoints.
func NewDiscoveryReport(name string, endpoints []json.RawMessage) ([]byte, error) {
	switch name {
	case AddOrUpdateReport, DeleteReport:
		return discoveryReport(name, endpoints)
	}
	return nil, fmt.Errorf("alexa: unknown discovery report %q", name)
}

// DeleteEndpoint is the endpoint object of a DeleteReport.
func DeleteEndpoint(endpointID string) json.RawMessage {
	b, _ := json.Marshal(eventEndpoint{EndpointID: endpointID})
	return b
}

func discoveryReport(name string, endpoints []json.RawMessage) ([]byte, error) {
	switch {
	case len(endpoints) == 0:
		return nil, fmt.Errorf("alexa: %s without endpoints", name)
	case len(endpoints) > MaxEndpointsPerReport:
		return nil, fmt.Errorf("alexa: %s with %d endpoints; at most %d per report", name, len(endpoints), MaxEndpointsPerReport)
	}
	for i, ep := range endpoints {
		var probe struct {
			EndpointID string `json:"endpointId"`
		}
		if err := json.Unmarshal(ep, &probe); err != nil || probe.EndpointID == "" {
			return nil, fmt.Errorf("alexa: %s endpoint %d is not an object with an endpointId", name, i)
		}
	}
	h := header("Alexa.Discovery", name, nil)
	h.EventCorrelationToken = newMessageID()
	return marshalEvent(envelope{Event: event{
		Header: h,
		Payload: struct {
			Endpoints []json.RawMessage `json:"endpoints"`
			Scope     scope             `json:"scope"`
		}{endpoints, scope{Type: "BearerToken"}},
	}})
}

// WithScopeToken returns a copy of an Alexa.Discovery report with
// payload.scope set to {"type":"BearerToken","token":token}. It keeps every
// other byte's meaning (the event is re-encoded with its fields in order).
func WithScopeToken(event []byte, token string) ([]byte, error) {
	if token == "" {
		return nil, errors.New("alexa: empty scope token")
	}
	var ev struct {
		Context json.RawMessage `json:"context,omitempty"`
		Event   struct {
			Header  json.RawMessage `json:"header"`
			Payload struct {
				Endpoints json.RawMessage `json:"endpoints"`
				Scope     scope           `json:"scope"`
			} `json:"payload"`
		} `json:"event"`
	}
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return nil, fmt.Errorf("alexa: not a discovery report: %w", err)
	}
	if ev.Event.Payload.Endpoints == nil {
		return nil, errors.New("alexa: not a discovery report: no payload.endpoints")
	}
	ev.Event.Payload.Scope = scope{Type: "BearerToken", Token: token}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("alexa: encode discovery report: %w", err)
	}
	return b, nil
}

// EventCorrelationToken returns an event's header.eventCorrelationToken, or "".
func EventCorrelationToken(event []byte) string {
	var ev struct {
		Event struct {
			Header struct {
				Token string `json:"eventCorrelationToken"`
			} `json:"header"`
		} `json:"event"`
	}
	if json.Unmarshal(event, &ev) != nil {
		return ""
	}
	return ev.Event.Header.Token
}
