package skilltest

import (
	"fmt"
	"net/http"
)

// Fault is one fault to inject (POST /sim/fault).
type Fault struct {
	// Kind: expire-token, status, skill-disabled, skill-enabled, clear.
	Kind string `json:"kind"`
	// Status and Count for "status": the next Count gateway requests are
	// answered Status (429, 500 or 503; Count defaults to 1).
	Status int `json:"status,omitempty"`
	Count  int `json:"count,omitempty"`
}

// Inject arms a fault.
func (s *Server) Inject(f Fault) error {
	switch f.Kind {
	case "expire-token":
		s.lwa.ExpireAccessTokens()
		return nil
	case "status":
		switch f.Status {
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable:
		default:
			return fmt.Errorf("skilltest: status must be 429, 500 or 503, not %d", f.Status)
		}
		n := max(f.Count, 1)
		s.mu.Lock()
		for range n {
			s.faults = append(s.faults, f.Status)
		}
		s.bumpLocked()
		s.mu.Unlock()
		return nil
	case "skill-disabled", "skill-enabled":
		s.mu.Lock()
		s.disabled = f.Kind == "skill-disabled"
		if s.disabled {
			s.linked = false
		}
		s.bumpLocked()
		s.mu.Unlock()
		return nil
	case "clear":
		s.mu.Lock()
		s.faults, s.disabled = nil, false
		s.bumpLocked()
		s.mu.Unlock()
		return nil
	}
	return fmt.Errorf("skilltest: unknown fault %q (expire-token, status, skill-disabled, skill-enabled, clear)", f.Kind)
}
