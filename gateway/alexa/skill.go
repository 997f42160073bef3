package alexa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/avshub/avshub/discovery/model"
)

// Messages of a Smart Home skill's road to Alexa (gateway/skill): the answers
// only a skill gives (Discover.Response, AcceptGrant.Response and its
// ErrorResponse), the bearer token a skill's directive carries, and the
// endpoint scope every event sent to the Alexa event gateway needs.

// Skill-only directive and event names.
const (
	NamespaceDiscovery     = "Alexa.Discovery"
	NamespaceAuthorization = "Alexa.Authorization"
	// MaxDiscoverEndpoints is the most endpoints a Discover.Response holds.
	MaxDiscoverEndpoints = 300
)

// NewDiscoverResponse builds the Alexa.Discovery Discover.Response to d with
// endpoint objects rendered by a Profile (at most MaxDiscoverEndpoints; none
// is a valid answer: the customer has no devices yet).
func NewDiscoverResponse(d *Directive, endpoints []json.RawMessage) ([]byte, error) {
	if len(endpoints) > MaxDiscoverEndpoints {
		return nil, fmt.Errorf("alexa: Discover.Response with %d endpoints; at most %d", len(endpoints), MaxDiscoverEndpoints)
	}
	if endpoints == nil {
		endpoints = []json.RawMessage{}
	}
	h := header(NamespaceDiscovery, "Discover.Response", nil)
	_ = d // Discover carries no correlation token; the answer has none either
	return marshalEvent(envelope{Event: event{Header: h, Payload: struct {
		Endpoints []json.RawMessage `json:"endpoints"`
	}{endpoints}}})
}

// NewAcceptGrantResponse builds the Alexa.Authorization AcceptGrant.Response.
func NewAcceptGrantResponse(d *Directive) ([]byte, error) {
	_ = d // the documented answer carries no correlation token
	return marshalEvent(envelope{Event: event{Header: header(NamespaceAuthorization, "AcceptGrant.Response", nil), Payload: emptyPayload}})
}

// NewAcceptGrantError builds the Alexa.Authorization ErrorResponse
// ACCEPT_GRANT_FAILED to d with message (why the grant could not be used).
func NewAcceptGrantError(d *Directive, message string) ([]byte, error) {
	if message == "" {
		message = "the grant could not be used"
	}
	return marshalEvent(envelope{Event: event{Header: header(NamespaceAuthorization, "ErrorResponse", d),
		Payload: errorPayload{Type: "ACCEPT_GRANT_FAILED", Message: model.Truncate(message, 1000)}}})
}

// BearerToken returns the account-linking access token a skill's directive
// carries: endpoint.scope.token (controllers, ReportState), payload.scope.token
// (Discover) or payload.grantee.token (AcceptGrant); "" when it has none.
func BearerToken(d *Directive) string {
	if d == nil {
		return ""
	}
	var env struct {
		Directive struct {
			Endpoint struct {
				Scope struct {
					Token string `json:"token"`
				} `json:"scope"`
			} `json:"endpoint"`
		} `json:"directive"`
	}
	if json.Unmarshal(d.Raw, &env) == nil && env.Directive.Endpoint.Scope.Token != "" {
		return env.Directive.Endpoint.Scope.Token
	}
	var p struct {
		Scope struct {
			Token string `json:"token"`
		} `json:"scope"`
		Grantee struct {
			Token string `json:"token"`
		} `json:"grantee"`
	}
	if json.Unmarshal(d.Payload, &p) != nil {
		return ""
	}
	if p.Scope.Token != "" {
		return p.Scope.Token
	}
	return p.Grantee.Token
}

// GrantCode returns the authorization code of an AcceptGrant directive.
func GrantCode(d *Directive) (string, error) {
	var p struct {
		Grant struct {
			Type string `json:"type"`
			Code string `json:"code"`
		} `json:"grant"`
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		return "", fmt.Errorf("alexa: AcceptGrant payload: %w", err)
	}
	if p.Grant.Type != "OAuth2.AuthorizationCode" || p.Grant.Code == "" {
		return "", errors.New("alexa: AcceptGrant without an OAuth2.AuthorizationCode grant")
	}
	return p.Grant.Code, nil
}

// WithEndpointScope returns a copy of an event with
// event.endpoint.scope = {"type":"BearerToken","token":token}, as the Alexa
// event gateway requires on asynchronous responses and ChangeReports. An event
// without an endpoint (Alexa.Discovery reports: use WithScopeToken) is
// returned unchanged. Every other member keeps its order and bytes.
func WithEndpointScope(ev []byte, token string) ([]byte, error) {
	if token == "" {
		return nil, errors.New("alexa: empty scope token")
	}
	var env struct {
		Context json.RawMessage `json:"context,omitempty"`
		Event   struct {
			Header   json.RawMessage  `json:"header"`
			Endpoint *json.RawMessage `json:"endpoint,omitempty"`
			Payload  json.RawMessage  `json:"payload"`
		} `json:"event"`
	}
	dec := json.NewDecoder(bytes.NewReader(ev))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("alexa: not an event: %w", err)
	}
	if env.Event.Endpoint == nil {
		return ev, nil
	}
	var ep map[string]json.RawMessage
	if err := json.Unmarshal(*env.Event.Endpoint, &ep); err != nil {
		return nil, fmt.Errorf("alexa: event endpoint: %w", err)
	}
	id, ok := ep["endpointId"]
	if !ok {
		return nil, errors.New("alexa: event endpoint without endpointId")
	}
	out := struct {
		Context json.RawMessage `json:"context,omitempty"`
		Event   struct {
			Header   json.RawMessage `json:"header"`
			Endpoint struct {
				Scope      scope           `json:"scope"`
				EndpointID json.RawMessage `json:"endpointId"`
				Cookie     json.RawMessage `json:"cookie,omitempty"`
			} `json:"endpoint"`
			Payload json.RawMessage `json:"payload"`
		} `json:"event"`
	}{Context: env.Context}
	out.Event.Header, out.Event.Payload = env.Event.Header, env.Event.Payload
	out.Event.Endpoint.Scope = scope{Type: "BearerToken", Token: token}
	out.Event.Endpoint.EndpointID, out.Event.Endpoint.Cookie = id, ep["cookie"]
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("alexa: encode event: %w", err)
	}
	return b, nil
}
