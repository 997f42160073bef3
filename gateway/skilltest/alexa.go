package skilltest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/avshub/avshub/gateway/alexa/schema"
	"github.com/avshub/avshub/gateway/avstest"
)

// DirectiveRequest is a directive to send (POST /sim/directive); the same
// shape as avstest's.
type DirectiveRequest = avstest.DirectiveRequest

// DirectiveResult is the directive sent and its answers: the synchronous one
// from the Lambda first, then (after a DeferredResponse) the final one from
// the event gateway.
type DirectiveResult = avstest.DirectiveResult

// linkingToken returns the account-linking access token Alexa holds for the
// user, minting a new one (as Alexa refreshes it) when it expired.
func (s *Server) linkingToken() string {
	s.mu.Lock()
	tok := s.linkTok
	s.mu.Unlock()
	if tok != "" && s.lwa.ValidAccessToken(tok) {
		return tok
	}
	t := s.lwa.Issue()
	s.mu.Lock()
	s.linkTok = t.AccessToken
	s.linkToks[t.AccessToken] = true
	s.mu.Unlock()
	return t.AccessToken
}

// correlationToken returns an opaque token in Alexa's style.
func correlationToken() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

// invoke sends one directive through the Lambda and records its answer.
func (s *Server) invoke(ctx context.Context, directive []byte) (json.RawMessage, error) {
	answer, err := s.rt.invoke(ctx, directive, s.opts.AnswerWithin)
	rec := Record{ReceivedAt: time.Now(), Via: "lambda", Status: http.StatusOK, Event: compact(answer)}
	if err != nil {
		rec.Status, rec.Error, rec.Event = http.StatusGatewayTimeout, err.Error(), nil
		if !errors.Is(err, errNoAnswer) {
			rec.Status = http.StatusBadGateway
		}
		s.record(rec)
		return nil, err
	}
	if !json.Valid(answer) {
		rec.Status, rec.Error = http.StatusBadGateway, "the answer is not JSON"
		rec.Event = nil
		s.record(rec)
		return nil, errors.New("skilltest: the Lambda's answer is not JSON")
	}
	if err := s.validate(answer); err != nil {
		rec.Status, rec.Error = http.StatusBadRequest, err.Error()
		s.record(rec)
		s.violation("synchronous answer: %v", err)
		return nil, fmt.Errorf("skilltest: invalid answer: %w", err)
	}
	s.record(rec)
	return compact(answer), nil
}

// validate runs Options.Validate; events the schema does not cover pass.
func (s *Server) validate(event []byte) error {
	err := s.opts.Validate(event)
	if err == nil || errors.Is(err, schema.ErrNotCovered) {
		return nil
	}
	return err
}

// AcceptGrant sends Alexa.Authorization.AcceptGrant with a fresh grant code for
// the skill's client and the user's linking token, as Alexa does right after
// account linking; nil once the skill answered AcceptGrant.Response.
func (s *Server) AcceptGrant(ctx context.Context) error {
	code := s.lwa.IssueGrantCode(s.opts.ClientID)
	d := map[string]any{"directive": map[string]any{
		"header": hdr{Namespace: "Alexa.Authorization", Name: "AcceptGrant", MessageID: uuid.NewString(), CorrelationToken: correlationToken(), PayloadVersion: "3"},
		"payload": map[string]any{
			"grant":   map[string]string{"type": "OAuth2.AuthorizationCode", "code": code},
			"grantee": map[string]string{"type": "BearerToken", "token": s.linkingToken()},
		},
	}}
	b, _ := json.Marshal(d)
	ans, err := s.invoke(ctx, b)
	if err != nil {
		return err
	}
	if h := header(ans); h.Namespace != "Alexa.Authorization" || h.Name != "AcceptGrant.Response" {
		return fmt.Errorf("skilltest: AcceptGrant answered %s.%s: %s", h.Namespace, h.Name, ans)
	}
	s.mu.Lock()
	s.linked, s.disabled = true, false
	s.bumpLocked()
	s.mu.Unlock()
	return nil
}

// Discover sends Alexa.Discovery.Discover and replaces Alexa's endpoint list
// with the answer, checked against Alexa's discovery rules.
func (s *Server) Discover(ctx context.Context) ([]json.RawMessage, error) {
	d := map[string]any{"directive": map[string]any{
		"header":  hdr{Namespace: "Alexa.Discovery", Name: "Discover", MessageID: uuid.NewString(), PayloadVersion: "3"},
		"payload": map[string]any{"scope": map[string]string{"type": "BearerToken", "token": s.linkingToken()}},
	}}
	b, _ := json.Marshal(d)
	ans, err := s.invoke(ctx, b)
	if err != nil {
		return nil, err
	}
	if h := header(ans); h.Namespace != "Alexa.Discovery" || h.Name != "Discover.Response" {
		return nil, fmt.Errorf("skilltest: Discover answered %s.%s: %s", h.Namespace, h.Name, ans)
	}
	var env struct {
		Event struct {
			Payload struct {
				Endpoints []json.RawMessage `json:"endpoints"`
			} `json:"payload"`
		} `json:"event"`
	}
	if err := json.Unmarshal(ans, &env); err != nil {
		return nil, err
	}
	eps := env.Event.Payload.Endpoints
	if len(eps) > avstest.MaxEndpoints {
		s.violation("Discover.Response with %d endpoints; Alexa keeps at most %d", len(eps), avstest.MaxEndpoints)
		return nil, fmt.Errorf("skilltest: %d endpoints; the limit is %d", len(eps), avstest.MaxEndpoints)
	}
	m := map[string]json.RawMessage{}
	var order []string
	for i, e := range eps {
		id, err := avstest.CheckEndpoint(i, e, avstest.ProfileSmartHome)
		if err != nil {
			s.violation("Discover.Response: %v", err)
			return nil, fmt.Errorf("skilltest: %w", err)
		}
		if _, dup := m[id]; dup {
			s.violation("Discover.Response lists %s twice", id)
			return nil, fmt.Errorf("skilltest: endpoint %s listed twice", id)
		}
		m[id] = compact(e)
		order = append(order, id)
	}
	s.mu.Lock()
	s.endpoints, s.order, s.discovered = m, order, true
	s.bumpLocked()
	s.mu.Unlock()
	return eps, nil
}

// SendDirective sends a directive through the Lambda as Alexa would:
// messageId, correlationToken, payloadVersion "3", the endpoint's cookie and
// scope (the user's linking token). With wait, after a DeferredResponse it
// collects the final answer from the event gateway until ctx ends.
func (s *Server) SendDirective(ctx context.Context, req DirectiveRequest, wait bool) (DirectiveResult, error) {
	if req.Namespace == "" || req.Name == "" {
		return DirectiveResult{}, errors.New("skilltest: a directive needs a namespace and a name")
	}
	payload := req.Payload
	if len(bytes.TrimSpace(payload)) == 0 {
		payload = json.RawMessage("{}")
	}
	if !json.Valid(payload) {
		return DirectiveResult{}, errors.New("skilltest: payload is not valid JSON")
	}
	h := hdr{Namespace: req.Namespace, Name: req.Name, Instance: req.Instance, MessageID: uuid.NewString(),
		CorrelationToken: correlationToken(), PayloadVersion: "3"}
	dir := map[string]any{"header": h, "payload": payload}
	if req.EndpointID != "" {
		ep := map[string]any{"scope": map[string]string{"type": "BearerToken", "token": s.linkingToken()}, "endpointId": req.EndpointID}
		if raw, ok := s.Endpoint(req.EndpointID); ok {
			var e struct {
				Cookie map[string]any `json:"cookie"`
			}
			if json.Unmarshal(raw, &e) == nil && len(e.Cookie) > 0 {
				ep["cookie"] = e.Cookie
			}
		}
		dir["endpoint"] = ep
	}
	b, _ := json.Marshal(map[string]any{"directive": dir})
	return s.send(ctx, b, h.CorrelationToken, wait)
}

// SendRaw sends a directive as given (Amazon's samples, capability test plans),
// replacing the scope tokens with the user's linking token, and collects the
// answers like SendDirective.
func (s *Server) SendRaw(ctx context.Context, directive []byte, wait bool) (DirectiveResult, error) {
	var env map[string]map[string]json.RawMessage
	if err := json.Unmarshal(directive, &env); err != nil || env["directive"] == nil {
		return DirectiveResult{}, errors.New("skilltest: not a directive")
	}
	d := env["directive"]
	tok := s.linkingToken()
	setScope := func(raw json.RawMessage, key string) json.RawMessage {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return raw
		}
		if _, ok := m[key]; !ok && key == "grantee" {
			return raw
		}
		m[key], _ = json.Marshal(map[string]string{"type": "BearerToken", "token": tok})
		out, _ := json.Marshal(m)
		return out
	}
	if d["endpoint"] != nil {
		d["endpoint"] = setScope(d["endpoint"], "scope")
	}
	var h hdr
	_ = json.Unmarshal(d["header"], &h)
	if h.Namespace == "Alexa.Discovery" {
		d["payload"] = setScope(d["payload"], "scope")
	}
	b, _ := json.Marshal(env)
	return s.send(ctx, b, h.CorrelationToken, wait)
}

func (s *Server) send(ctx context.Context, directive []byte, corr string, wait bool) (DirectiveResult, error) {
	res := DirectiveResult{Directive: directive, Events: []json.RawMessage{}}
	var ch chan json.RawMessage
	if wait && corr != "" {
		ch = make(chan json.RawMessage, 16)
		s.mu.Lock()
		s.waiters[corr] = ch
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.waiters, corr)
			s.mu.Unlock()
		}()
	}
	ans, err := s.invoke(ctx, directive)
	if err != nil {
		return res, err
	}
	res.Events = append(res.Events, ans)
	if header(ans).Name != "DeferredResponse" {
		res.Complete = true
		return res, nil
	}
	s.mu.Lock()
	s.deferred[corr] = true
	s.mu.Unlock()
	if ch == nil {
		return res, nil
	}
	for {
		select {
		case ev := <-ch:
			res.Events = append(res.Events, ev)
			if header(ev).Name != "DeferredResponse" {
				res.Complete = true
				return res, nil
			}
		case <-ctx.Done():
			return res, fmt.Errorf("skilltest: no final answer on the event gateway: %w", ctx.Err())
		}
	}
}
