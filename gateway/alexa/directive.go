package alexa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

// MaxDirectiveSize bounds the directive ParseDirective accepts (Alexa's own
// messages are far smaller; this keeps a misbehaving peer from costing memory).
const MaxDirectiveSize = 1 << 20

// ErrMalformedDirective is wrapped by every ParseDirective error.
var ErrMalformedDirective = errors.New("alexa: malformed directive")

// ParseDirective parses one downchannel part {"directive":{…}}.
//
// It checks the envelope only: a JSON object with a directive whose header has
// a namespace and a name, an endpoint (when present) with an endpointId, and a
// payload that is a JSON object (null or absent becomes {}). The payload is
// decoded later by a Profile. Errors wrap ErrMalformedDirective; the caller
// answers them with System.ExceptionEncountered (UNEXPECTED_INFORMATION_RECEIVED).
func ParseDirective(raw []byte) (*Directive, error) {
	if len(raw) > MaxDirectiveSize {
		return nil, fmt.Errorf("%w: %d bytes is more than %d", ErrMalformedDirective, len(raw), MaxDirectiveSize)
	}
	var env struct {
		Directive *struct {
			Header   *Header `json:"header"`
			Endpoint *struct {
				EndpointID *string           `json:"endpointId"`
				Cookie     map[string]string `json:"cookie"`
			} `json:"endpoint"`
			Payload json.RawMessage `json:"payload"`
		} `json:"directive"`
	}
	// One Unmarshal (a Decoder copies the whole part into its own buffer
	// first); the Decoder only words the error of a part that fails.
	if err := json.Unmarshal(raw, &env); err != nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		if derr := dec.Decode(&env); derr != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedDirective, derr)
		}
		return nil, fmt.Errorf("%w: trailing data after the directive", ErrMalformedDirective)
	}
	d := env.Directive
	switch {
	case d == nil:
		return nil, fmt.Errorf("%w: no \"directive\" object", ErrMalformedDirective)
	case d.Header == nil:
		return nil, fmt.Errorf("%w: no header", ErrMalformedDirective)
	case d.Header.Namespace == "" || d.Header.Name == "":
		return nil, fmt.Errorf("%w: header needs a namespace and a name", ErrMalformedDirective)
	}
	out := &Directive{Header: *d.Header, Raw: bytes.Clone(raw)}
	if d.Endpoint != nil {
		if d.Endpoint.EndpointID == nil || *d.Endpoint.EndpointID == "" {
			return nil, fmt.Errorf("%w: %s.%s: endpoint without endpointId", ErrMalformedDirective, d.Header.Namespace, d.Header.Name)
		}
		out.Endpoint = &EndpointRef{EndpointID: *d.Endpoint.EndpointID, Cookie: d.Endpoint.Cookie}
	}
	p := bytes.TrimSpace(d.Payload)
	switch {
	case len(p) == 0 || bytes.Equal(p, []byte("null")):
		out.Payload = json.RawMessage("{}")
	case p[0] != '{':
		return nil, fmt.Errorf("%w: %s.%s: payload is not a JSON object", ErrMalformedDirective, d.Header.Namespace, d.Header.Name)
	default:
		out.Payload = json.RawMessage(bytes.Clone(p))
	}
	return out, nil
}

// EndpointID returns the id of the endpoint the directive is for, or "".
func (d *Directive) EndpointID() string {
	if d == nil || d.Endpoint == nil {
		return ""
	}
	return d.Endpoint.EndpointID
}

// IsReportState tells Alexa.ReportState, the state query (in both profiles):
// it changes nothing on the endpoint.
func (d *Directive) IsReportState() bool {
	return d != nil && d.Header.Namespace == nsAlexa && d.Header.Name == "ReportState"
}
