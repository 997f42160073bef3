package skilltest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/avshub/avshub/gateway/avstest"
)

// Event gateway limits.
const (
	// MaxEventBytes bounds one event (REQUEST_ENTITY_TOO_LARGE_EXCEPTION above).
	MaxEventBytes = 1 << 20
	// MaxReportBytes bounds a discovery report (Alexa's 256 KB).
	MaxReportBytes = 256 << 10
)

// gatewayCodes are the documented error codes per status.
var gatewayCodes = map[int]string{
	http.StatusBadRequest:            "INVALID_REQUEST_EXCEPTION",
	http.StatusUnauthorized:          "INVALID_ACCESS_TOKEN_EXCEPTION",
	http.StatusForbidden:             "SKILL_DISABLED_EXCEPTION",
	http.StatusNotFound:              "SKILL_NOT_FOUND_EXCEPTION",
	http.StatusRequestEntityTooLarge: "REQUEST_ENTITY_TOO_LARGE_EXCEPTION",
	http.StatusTooManyRequests:       "THROTTLING_EXCEPTION",
	http.StatusInternalServerError:   "INTERNAL_SERVICE_EXCEPTION",
	http.StatusServiceUnavailable:    "SERVICE_UNAVAILABLE_EXCEPTION",
}

func writeGatewayError(w http.ResponseWriter, status int, desc string) {
	code := gatewayCodes[status]
	if code == "" {
		code = "INVALID_REQUEST_EXCEPTION"
	}
	b, _ := json.Marshal(map[string]any{
		"header":  map[string]string{"namespace": "System", "name": "Exception", "messageId": uuid.NewString()},
		"payload": map[string]string{"code": code, "description": desc},
	})
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// serveEvent is POST /v3/events.
func (s *Server) serveEvent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeGatewayError(w, http.StatusBadRequest, "use POST")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxEventBytes+1))
	rec := Record{ReceivedAt: time.Now(), Via: "gateway", Event: compact(body)}
	refuse := func(status int, format string, args ...any) {
		rec.Status, rec.Error = status, fmt.Sprintf(format, args...)
		if !json.Valid(body) {
			rec.Event = nil
		}
		s.record(rec)
		writeGatewayError(w, status, rec.Error)
	}
	s.mu.Lock()
	s.events++
	disabled := s.disabled
	fault := 0
	if len(s.faults) > 0 {
		fault, s.faults = s.faults[0], s.faults[1:]
	}
	s.mu.Unlock()
	switch {
	case err != nil:
		refuse(http.StatusBadRequest, "unreadable body")
		return
	case disabled:
		refuse(http.StatusForbidden, "The skill is disabled by the customer")
		return
	case fault != 0:
		refuse(fault, "injected fault")
		return
	case len(body) > MaxEventBytes:
		refuse(http.StatusRequestEntityTooLarge, "the event is larger than %d bytes", MaxEventBytes)
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	linking := s.linkToks[tok]
	s.mu.Unlock()
	switch {
	case !ok || tok == "":
		refuse(http.StatusUnauthorized, "no bearer token")
		return
	case linking:
		refuse(http.StatusUnauthorized, "this is the account-linking token; the event gateway takes the token of the AcceptGrant exchange")
		s.violation("an event was sent with the account-linking token instead of the AcceptGrant token")
		return
	case !s.lwa.ValidAccessToken(tok):
		refuse(http.StatusUnauthorized, "The access token is expired or invalid")
		return
	}
	h := header(body)
	if h.Namespace == "" || h.Name == "" || h.MessageID == "" {
		refuse(http.StatusBadRequest, "not an event: no header namespace, name and messageId")
		return
	}
	if scope := scopeToken(body, h.Namespace == "Alexa.Discovery"); scope != tok {
		refuse(http.StatusBadRequest, "the scope token is missing or is not the bearer token")
		s.violation("%s.%s: scope token missing or different from the Authorization header", h.Namespace, h.Name)
		return
	}
	if err := s.validate(body); err != nil {
		refuse(http.StatusBadRequest, "schema: %v", err)
		s.violation("%s.%s: %v", h.Namespace, h.Name, err)
		return
	}
	if status, why := s.process(h, body); status != 0 {
		refuse(status, "%s", why)
		s.violation("%s.%s: %s", h.Namespace, h.Name, why)
		return
	}
	rec.Status = http.StatusAccepted
	s.record(rec)
	s.mu.Lock()
	ch := s.waiters[h.CorrelationToken]
	s.mu.Unlock()
	if ch != nil && h.CorrelationToken != "" {
		select {
		case ch <- rec.Event:
		default:
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

// scopeToken returns event.endpoint.scope.token, or payload.scope.token for
// discovery reports.
func scopeToken(body []byte, discovery bool) string {
	var e struct {
		Event struct {
			Endpoint struct {
				Scope struct {
					Type  string `json:"type"`
					Token string `json:"token"`
				} `json:"scope"`
			} `json:"endpoint"`
			Payload struct {
				Scope struct {
					Type  string `json:"type"`
					Token string `json:"token"`
				} `json:"scope"`
			} `json:"payload"`
		} `json:"event"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if discovery {
		if e.Event.Payload.Scope.Type != "BearerToken" {
			return ""
		}
		return e.Event.Payload.Scope.Token
	}
	if e.Event.Endpoint.Scope.Type != "BearerToken" {
		return ""
	}
	return e.Event.Endpoint.Scope.Token
}

// process applies what an accepted event means; a non-zero status refuses it.
func (s *Server) process(h hdr, body []byte) (int, string) {
	switch {
	case h.Namespace == "Alexa.Discovery" && (h.Name == "AddOrUpdateReport" || h.Name == "DeleteReport"):
		return s.report(h, body)
	case h.Name == "DeferredResponse":
		return http.StatusBadRequest, "a DeferredResponse is only a synchronous answer"
	case h.Name == "Response" || h.Name == "ErrorResponse":
		s.mu.Lock()
		defer s.mu.Unlock()
		if h.CorrelationToken == "" || !s.deferred[h.CorrelationToken] {
			return http.StatusBadRequest, "an asynchronous " + h.Name + " must answer a directive answered with a DeferredResponse (unknown or used correlationToken)"
		}
		delete(s.deferred, h.CorrelationToken)
		return 0, ""
	case h.Namespace == "Alexa" && (h.Name == "ChangeReport" || h.Name == "StateReport"):
		return 0, ""
	}
	return http.StatusBadRequest, "the event gateway does not take " + h.Namespace + "." + h.Name
}

// report applies AddOrUpdateReport or DeleteReport.
func (s *Server) report(h hdr, body []byte) (int, string) {
	if len(body) > MaxReportBytes {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("a discovery report may be %d bytes", MaxReportBytes)
	}
	var env struct {
		Event struct {
			Payload struct {
				Endpoints []json.RawMessage `json:"endpoints"`
			} `json:"payload"`
		} `json:"event"`
	}
	if err := json.Unmarshal(body, &env); err != nil || len(env.Event.Payload.Endpoints) == 0 {
		return http.StatusBadRequest, "a discovery report needs payload.endpoints"
	}
	eps := env.Event.Payload.Endpoints
	if len(eps) > avstest.MaxEndpoints {
		return http.StatusBadRequest, fmt.Sprintf("%d endpoints in one report; the limit is %d", len(eps), avstest.MaxEndpoints)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.Name == "DeleteReport" {
		for _, e := range eps {
			var ref struct {
				EndpointID string `json:"endpointId"`
			}
			if json.Unmarshal(e, &ref) != nil || ref.EndpointID == "" {
				return http.StatusBadRequest, "DeleteReport endpoint without endpointId"
			}
			delete(s.endpoints, ref.EndpointID)
		}
		s.bumpLocked()
		return 0, ""
	}
	add := map[string]json.RawMessage{}
	for i, e := range eps {
		id, err := avstest.CheckEndpoint(i, e, avstest.ProfileSmartHome)
		if err != nil {
			return http.StatusBadRequest, err.Error()
		}
		add[id] = compact(e)
	}
	n := len(s.endpoints)
	for id := range add {
		if _, ok := s.endpoints[id]; !ok {
			n++
		}
	}
	if n > avstest.MaxEndpoints {
		return http.StatusBadRequest, fmt.Sprintf("the customer would have %d endpoints; Alexa keeps at most %d", n, avstest.MaxEndpoints)
	}
	for id, e := range add {
		if _, ok := s.endpoints[id]; !ok {
			s.order = append(s.order, id)
		}
		s.endpoints[id] = e
	}
	s.bumpLocked()
	return 0, ""
}
