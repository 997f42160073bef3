package skill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/avshub/avshub/discovery/backoff"
	"github.com/avshub/avshub/gateway/alexa"
	"github.com/avshub/avshub/gateway/lwa"
)

// Event gateway URLs per region (Amazon's "Send Events" documentation).
var eventGateways = map[string]string{
	"NA": "https://api.amazonalexa.com/v3/events",
	"EU": "https://api.eu.amazonalexa.com/v3/events",
	"FE": "https://api.fe.amazonalexa.com/v3/events",
}

// EventGateway returns the event gateway URL of region (NA, EU or FE).
func EventGateway(region string) (string, bool) {
	u, ok := eventGateways[region]
	return u, ok
}

// Errors of Send (wrapped).
var (
	// ErrSkillDisabled: the event gateway answered 403 SKILL_DISABLED_EXCEPTION;
	// nothing is sent until the skill is enabled and linked again (AcceptGrant).
	ErrSkillDisabled = errors.New("skill: Alexa says the skill is disabled; enable and link it again in the Alexa app")
	// ErrNotLinked: no AcceptGrant has given the hub event gateway tokens yet.
	ErrNotLinked = errors.New("skill: no event gateway tokens yet (waiting for Alexa.Authorization.AcceptGrant)")
	// ErrRefused: the event gateway refused the event for good (400, 404, 413).
	ErrRefused = errors.New("skill: the event gateway refused the event")
)

// gatewayError is the event gateway's error body.
type gatewayError struct {
	Payload struct {
		Code        string `json:"code"`
		Type        string `json:"type"`
		Description string `json:"description"`
		Message     string `json:"message"`
	} `json:"payload"`
}

func (g gatewayError) code() string {
	if g.Payload.Code != "" {
		return g.Payload.Code
	}
	return g.Payload.Type
}

func (g gatewayError) text() string {
	if g.Payload.Description != "" {
		return g.Payload.Description
	}
	return g.Payload.Message
}

// retryPolicy is the waits between attempts after 429, 5xx or a transport
// failure (jittered ±50 %); the last repeats.
var retryPolicy = backoff.Policy{
	Steps:  []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 10 * time.Second, 30 * time.Second, 60 * time.Second},
	Jitter: backoff.Half,
}

// send delivers one event to the event gateway, adding the scope token. It
// retries 429, 5xx and transport failures with backoff (honouring
// Retry-After) until delivered or ctx ends, refreshes the token once after
// 401, and stops at 403 SKILL_DISABLED_EXCEPTION (ErrSkillDisabled) or a
// permanent refusal (ErrRefused).
func (s *Server) send(ctx context.Context, ev []byte) error {
	s.queued.Add(1)
	defer s.queued.Add(-1)
	refreshed := false
	for attempt := 1; ; attempt++ {
		if s.disabled() {
			return ErrSkillDisabled
		}
		if err := s.auth.Ready(); err != nil {
			if errors.Is(err, lwa.ErrNotLinked) {
				return ErrNotLinked
			}
			return fmt.Errorf("skill: event gateway tokens: %w", err)
		}
		tok, err := s.auth.Token(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, lwa.ErrNeedsRelink) {
				return fmt.Errorf("skill: %w", err)
			}
			if werr := s.wait(ctx, retryPolicy.Delay(attempt), ""); werr != nil {
				return err
			}
			continue
		}
		body, err := scoped(ev, tok)
		if err != nil {
			return fmt.Errorf("skill: %w", err)
		}
		status, ge, retryAfter, err := s.post(ctx, body, tok)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("event gateway unreachable; retrying", "err", err, "attempt", attempt)
		case status == http.StatusAccepted || status == http.StatusOK:
			s.sent.Add(1)
			s.noteSent()
			return nil
		case status == http.StatusUnauthorized:
			s.auth.Invalidate(tok)
			if !refreshed {
				refreshed = true
				attempt--
				continue
			}
			s.log.Warn("event gateway refused the refreshed token too; retrying", "reason", ge.code())
		case status == http.StatusForbidden && ge.code() == "SKILL_DISABLED_EXCEPTION":
			s.setDisabled(ge.text())
			return ErrSkillDisabled
		case status == http.StatusForbidden:
			s.setState(StateNeedsPermission, ge.code()+": "+ge.text())
			return fmt.Errorf("%w: 403 %s: %s (does the skill have the Send Alexa Events permission?)", ErrRefused, ge.code(), ge.text())
		case status == http.StatusTooManyRequests || status >= 500:
			s.log.Warn("event gateway busy; retrying", "status", status, "reason", ge.code(), "attempt", attempt)
		default:
			return fmt.Errorf("%w: HTTP %d %s: %s", ErrRefused, status, ge.code(), ge.text())
		}
		if err := s.wait(ctx, retryPolicy.Delay(attempt), retryAfter); err != nil {
			return fmt.Errorf("skill: event not delivered: %w", err)
		}
	}
}

// scoped adds the scope token where the event gateway wants it.
func scoped(ev []byte, tok string) ([]byte, error) {
	var h struct {
		Event struct {
			Header struct {
				Namespace string `json:"namespace"`
			} `json:"header"`
		} `json:"event"`
	}
	if err := json.Unmarshal(ev, &h); err != nil {
		return nil, fmt.Errorf("not an event: %w", err)
	}
	if h.Event.Header.Namespace == alexa.NamespaceDiscovery {
		return alexa.WithScopeToken(ev, tok)
	}
	return alexa.WithEndpointScope(ev, tok)
}

// wait sleeps d, or the server's Retry-After when it is longer (at most 5 min).
func (s *Server) wait(ctx context.Context, d time.Duration, retryAfter string) error {
	if sec, err := strconv.Atoi(retryAfter); err == nil && sec > 0 {
		d = max(d, min(time.Duration(sec)*time.Second, 5*time.Minute))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// post sends one request; a transport failure is err.
func (s *Server) post(ctx context.Context, body []byte, tok string) (int, gatewayError, string, error) {
	var ge gatewayError
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, s.opts.EventGateway, bytes.NewReader(body))
	if err != nil {
		return 0, ge, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, ge, "", lwa.RedactError(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		_ = json.Unmarshal(b, &ge)
	}
	return resp.StatusCode, ge, resp.Header.Get("Retry-After"), nil
}
