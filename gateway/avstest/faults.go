package avstest

import (
	"fmt"
	"net/http"
)

// Fault kinds.
const (
	// FaultGoAway sends GOAWAY on every connection and ends the downchannel
	// (unless Keep), as AVS does about once an hour.
	FaultGoAway = "goaway"
	// FaultDropDownchannel ends the downchannel stream.
	FaultDropDownchannel = "drop-downchannel"
	// FaultExpireToken makes every access token issued so far expire.
	FaultExpireToken = "expire-token"
	// FaultStall holds the next Count streams of Target (no response headers,
	// or with Phase "body" headers and then no body) until FaultClear.
	FaultStall = "stall"
	// FaultStatus answers the next Count requests of Target with Status.
	FaultStatus = "status"
	// FaultNoEventProcessed skips Alexa.EventProcessed for the next Count
	// discovery reports (the client must time out and resend).
	FaultNoEventProcessed = "no-event-processed"
	// FaultClear removes pending faults and releases stalled streams.
	FaultClear = "clear"
)

// Fault targets.
const (
	TargetEvents     = "events"
	TargetPing       = "ping"
	TargetDirectives = "directives"
	// targetEventProcessed is internal: FaultNoEventProcessed's queue.
	targetEventProcessed = "event-processed"
)

// Fault is one injected fault (POST /sim/fault takes it as JSON).
type Fault struct {
	Kind   string `json:"kind"`
	Status int    `json:"status,omitempty"`
	Count  int    `json:"count,omitempty"`
	Target string `json:"target,omitempty"`
	Phase  string `json:"phase,omitempty"`
	Keep   bool   `json:"keep,omitempty"`
}

// Inject applies or queues a fault.
func (s *Server) Inject(f Fault) error {
	if f.Target == "" {
		f.Target = TargetEvents
	}
	if f.Count <= 0 {
		f.Count = 1
	}
	switch f.Target {
	case TargetEvents, TargetPing, TargetDirectives, targetEventProcessed:
	default:
		return fmt.Errorf("avstest: unknown fault target %q (events, ping, directives)", f.Target)
	}
	switch f.Kind {
	case FaultGoAway:
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			// Graceful: GOAWAY(NO_ERROR), then the streams opened before it
			// may finish (a client may keep reading its downchannel); Close
			// ends the wait.
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				_ = c.base.Shutdown(s.ctx)
			}()
			if !f.Keep && c.dc != nil {
				c.dc.close()
			}
		}
		return nil
	case FaultDropDownchannel:
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.current == nil || s.current.dc == nil {
			return errNoDownchannel
		}
		s.current.dc.close()
		return nil
	case FaultExpireToken:
		s.lwa.ExpireAccessTokens()
		return nil
	case FaultClear:
		s.mu.Lock()
		defer s.mu.Unlock()
		s.faults = nil
		s.releaseLocked()
		s.bumpLocked()
		return nil
	case FaultStall:
		if f.Phase == "" {
			f.Phase = "headers"
		}
		if f.Phase != "headers" && f.Phase != "body" {
			return fmt.Errorf("avstest: unknown stall phase %q (headers, body)", f.Phase)
		}
	case FaultNoEventProcessed:
		f.Target = targetEventProcessed
	case FaultStatus:
		if f.Status < 400 || f.Status > 599 {
			return fmt.Errorf("avstest: fault status %d is not an HTTP error status", f.Status)
		}
	default:
		return fmt.Errorf("avstest: unknown fault kind %q", f.Kind)
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.bumpLocked()
	s.mu.Unlock()
	return nil
}

func (s *Server) releaseLocked() {
	close(s.release)
	s.release = make(chan struct{})
}

// takeFault consumes one queued fault for target.
func (s *Server) takeFault(target string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.faults {
		f := &s.faults[i]
		if f.Target != target {
			continue
		}
		out := *f
		f.Count--
		if f.Count <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		s.bumpLocked()
		return out, true
	}
	return Fault{}, false
}

// hold blocks until stalled streams are released, the request ends or the server closes.
func (s *Server) hold(r *http.Request) {
	s.mu.Lock()
	rel := s.release
	s.held++
	s.bumpLocked()
	s.mu.Unlock()
	select {
	case <-rel:
	case <-r.Context().Done():
	case <-s.ctx.Done():
	}
	s.mu.Lock()
	s.held--
	s.bumpLocked()
	s.mu.Unlock()
}

// exceptionCodes are the System.Exception codes per status.
var exceptionCodes = map[int]string{
	http.StatusBadRequest:           "INVALID_REQUEST_EXCEPTION",
	http.StatusForbidden:            "UNAUTHORIZED_REQUEST_EXCEPTION",
	http.StatusUnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
	http.StatusTooManyRequests:      "THROTTLING_EXCEPTION",
	http.StatusInternalServerError:  "INTERNAL_SERVICE_EXCEPTION",
}

var exceptionText = map[int]string{
	http.StatusForbidden:           "Unable to authenticate the request. Please provide a valid authorization token.",
	http.StatusTooManyRequests:     "Request could not be processed due to throttling.",
	http.StatusInternalServerError: "Internal service exception.",
}

// writeFaultStatus answers with status the way AVS does: a JSON System.Exception
// body, except 503 which has none.
func writeFaultStatus(w http.ResponseWriter, status int) {
	if status == http.StatusServiceUnavailable {
		w.WriteHeader(status)
		return
	}
	writeException(w, status, exceptionText[status])
}
