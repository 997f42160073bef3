package avs

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/avshub/avshub/discovery/model"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// MaxDirectiveSize bounds one directive part; bigger parts are skipped.
const MaxDirectiveSize = 1 << 20

// Header is the header of a directive or event (envelope v20160207).
type Header struct {
	Namespace             string `json:"namespace"`
	Name                  string `json:"name"`
	Instance              string `json:"instance,omitempty"`
	MessageID             string `json:"messageId,omitempty"`
	CorrelationToken      string `json:"correlationToken,omitempty"`
	EventCorrelationToken string `json:"eventCorrelationToken,omitempty"`
	PayloadVersion        string `json:"payloadVersion,omitempty"`
	DialogRequestID       string `json:"dialogRequestId,omitempty"`
}

// Qualified returns "namespace.name".
func (h Header) Qualified() string { return h.Namespace + "." + h.Name }

// ErrMalformed is wrapped by errors about a directive that cannot be parsed.
// A DirectiveHandler returns it (wrapped) to have the directive answered with
// System.ExceptionEncountered UNEXPECTED_INFORMATION_RECEIVED.
var ErrMalformed = errors.New("avs: malformed directive")

// ErrUnsupported is returned (wrapped) by a DirectiveHandler for a directive
// nobody handles; the client answers it with System.ExceptionEncountered
// UNSUPPORTED_OPERATION.
var ErrUnsupported = errors.New("avs: unsupported directive")

// DecodeDirectiveHeader decodes the header of one downchannel part
// {"directive":{"header":{…},…}} and the payload as raw JSON. It errs (wrapping
// ErrMalformed) unless the part is one JSON object with a directive whose
// header has a namespace and a name.
func DecodeDirectiveHeader(raw []byte) (Header, json.RawMessage, error) {
	if len(raw) > MaxDirectiveSize {
		return Header{}, nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(raw))
	}
	var env struct {
		Directive *struct {
			Header  *Header         `json:"header"`
			Payload json.RawMessage `json:"payload"`
		} `json:"directive"`
	}
	// One Unmarshal (a Decoder copies the whole part into its own buffer
	// first); the Decoder only words the error of a part that fails.
	if err := json.Unmarshal(raw, &env); err != nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		if derr := dec.Decode(&env); derr != nil {
			return Header{}, nil, fmt.Errorf("%w: %w", ErrMalformed, derr)
		}
		return Header{}, nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	switch {
	case env.Directive == nil:
		return Header{}, nil, fmt.Errorf("%w: no directive object", ErrMalformed)
	case env.Directive.Header == nil:
		return Header{}, nil, fmt.Errorf("%w: no header", ErrMalformed)
	case env.Directive.Header.Namespace == "" || env.Directive.Header.Name == "":
		return Header{}, nil, fmt.Errorf("%w: header without namespace or name", ErrMalformed)
	}
	return *env.Directive.Header, env.Directive.Payload, nil
}

// eventName returns "namespace.name" of an event JSON ({"event":{"header"…}}).
func eventHeader(event []byte) (Header, error) {
	// Values, not pointers (one event per directive): a missing event or
	// header leaves the namespace empty, which is refused all the same.
	var env struct {
		Event struct {
			Header Header `json:"header"`
		} `json:"event"`
	}
	if err := json.Unmarshal(event, &env); err != nil {
		return Header{}, fmt.Errorf("avs: event is not JSON: %w", err)
	}
	if env.Event.Header.Namespace == "" || env.Event.Header.Name == "" {
		return Header{}, errors.New("avs: event has no event.header with a namespace and a name")
	}
	return env.Event.Header, nil
}

// Exception is an error answer of AVS: HTTP status plus the System.Exception
// body (code and description may be empty when AVS sent no body).
type Exception struct {
	// Status is the HTTP status code.
	Status int
	// Code is payload.code, e.g. THROTTLING_EXCEPTION.
	Code string
	// Description is payload.description.
	Description string
}

func (e *Exception) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "avs: HTTP %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	return b.String()
}

// Retryable reports whether the request may succeed later (429, 500, 503).
func (e *Exception) Retryable() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable:
		return true
	}
	return false
}

// parseException builds an *Exception from an error response body (which may
// be empty, non-JSON or a JSON System.Exception).
func parseException(status int, body []byte) *Exception {
	e := &Exception{Status: status}
	var env struct {
		Header struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"header"`
		Payload struct {
			Code        string  `json:"code"`
			Description *string `json:"description"`
		} `json:"payload"`
	}
	if json.Unmarshal(body, &env) == nil {
		e.Code = env.Payload.Code
		if env.Payload.Description != nil {
			e.Description = model.Abbreviate(*env.Payload.Description, 300)
		}
	}
	return e
}

// ExceptionEncountered error types.
const (
	ExceptionUnexpectedInformation = "UNEXPECTED_INFORMATION_RECEIVED"
	ExceptionUnsupportedOperation  = "UNSUPPORTED_OPERATION"
	ExceptionInternalError         = "INTERNAL_ERROR"
)

// NewExceptionEncountered builds System.ExceptionEncountered for a directive
// that could not be parsed or handled.
func NewExceptionEncountered(raw []byte, errType, message string) []byte {
	type excError struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	ev := map[string]any{
		"context": []any{},
		"event": map[string]any{
			"header": Header{Namespace: "System", Name: "ExceptionEncountered", MessageID: newID()},
			"payload": map[string]any{
				"unparsedDirective": string(raw),
				"error":             excError{Type: errType, Message: message},
			},
		},
	}
	b, _ := json.Marshal(ev) // only strings and maps: cannot fail
	return b
}

// newEvent builds {"context":ctx,"event":{"header":h,"payload":payload}}.
func newEvent(h Header, ctx json.RawMessage, payload any) []byte {
	if h.MessageID == "" {
		h.MessageID = newID()
	}
	ev := struct {
		Context json.RawMessage `json:"context,omitempty"`
		Event   struct {
			Header  Header `json:"header"`
			Payload any    `json:"payload"`
		} `json:"event"`
	}{Context: ctx}
	ev.Event.Header = h
	ev.Event.Payload = payload
	if ev.Event.Payload == nil {
		ev.Event.Payload = struct{}{}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		// Only reachable with a payload that cannot be marshalled: a programming error.
		panic(fmt.Sprintf("avs: marshal event %s: %v", h.Qualified(), err))
	}
	return b
}

func newID() string { return uuid.NewString() }

// newBoundary returns a random multipart boundary.
func newBoundary() string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	const prefix = "avshub-"
	b := make([]byte, len(prefix)+hex.EncodedLen(len(r)))
	copy(b, prefix)
	hex.Encode(b[len(prefix):], r[:])
	return string(b)
}

// formBody encodes one event as the multipart/form-data body AVS expects:
// a single "metadata" part. It runs for every event, so it builds the body in
// one buffer, without intermediate strings.
func formBody(event []byte) (body []byte, contentType string) {
	boundary := newBoundary()
	for bytes.Contains(event, []byte(boundary)) {
		boundary = newBoundary()
	}
	const (
		partHeader = "\r\nContent-Disposition: form-data; name=\"metadata\"\r\n" +
			"Content-Type: application/json; charset=UTF-8\r\n\r\n"
	)
	b := make([]byte, 0, 2+len(boundary)+len(partHeader)+len(event)+4+len(boundary)+4)
	b = append(b, "--"...)
	b = append(b, boundary...)
	b = append(b, partHeader...)
	b = append(b, event...)
	b = append(b, "\r\n--"...)
	b = append(b, boundary...)
	b = append(b, "--\r\n"...)
	return b, "multipart/form-data; boundary=" + boundary
}
