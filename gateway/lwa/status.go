package lwa

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Status is the authorization state for the status page and `avshub status`.
type Status struct {
	// Linked is true when a usable refresh token is stored.
	Linked bool `json:"linked"`
	// Source is how the token was obtained: "cbl", "web", "companion" or "grant".
	Source string `json:"source,omitempty"`
	// LinkedAt is when the hub was linked.
	LinkedAt time.Time `json:"linkedAt,omitzero"`
	// AccessTokenExpiry is when the current access token expires (zero: none in memory).
	AccessTokenExpiry time.Time `json:"accessTokenExpiry,omitzero"`
	// LastRefresh is the time of the last successful refresh.
	LastRefresh time.Time `json:"lastRefresh,omitzero"`
	// NeedsRelink is true after LWA refused the authorization.
	NeedsRelink bool `json:"needsRelink"`
	// Reason says why a re-link is needed.
	Reason string `json:"reason,omitempty"`
	// LastError is the last transient refresh failure (redacted).
	LastError string `json:"lastError,omitempty"`
	// RetryAt is when the next refresh attempt may run after a failure.
	RetryAt time.Time `json:"retryAt,omitzero"`
	// TokenFile is where the refresh token is stored.
	TokenFile string `json:"tokenFile"`
}

// Status returns the current authorization state.
func (a *Authorizer) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := statusOf(a.st, a.store.path())
	s.AccessTokenExpiry = a.expiry
	s.LastRefresh = a.lastRefresh
	if a.lastErr != nil {
		s.LastError = a.lastErr.Error()
		s.RetryAt = a.nextTry
	}
	return s
}

func statusOf(st stored, path string) Status {
	return Status{
		Linked:      st.RefreshToken != "" && st.NeedsRelink == "",
		Source:      st.Source,
		LinkedAt:    st.LinkedAt,
		NeedsRelink: st.NeedsRelink != "",
		Reason:      st.NeedsRelink,
		TokenFile:   path,
	}
}

// LoadStatus reads the stored authorization state without contacting LWA
// (for `avshub status` when the hub is not running).
func LoadStatus(cfg Config) (Status, error) {
	cfg = cfg.withDefaults()
	if cfg.DataDir == "" {
		return Status{}, fmt.Errorf("%w: missing hub.dataDir", ErrConfig)
	}
	s := newStore(cfg.DataDir)
	st, err := s.load()
	if err != nil {
		return Status{TokenFile: s.path()}, fmt.Errorf("login with amazon: %w", err)
	}
	return statusOf(st, s.path()), nil
}

// WriteStatus prints s for people, one fact per line, relative to now.
func WriteStatus(w io.Writer, s Status, now time.Time) error {
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format+"\n", args...)
		}
	}
	switch {
	case s.NeedsRelink:
		p("Amazon account: NEEDS RE-LINK (%s)", s.Reason)
		p("  press Link with Amazon on the status page, or run `avshub link`, to link the hub again")
	case !s.Linked:
		p("Amazon account: not linked")
		p("  press Link with Amazon on the status page, or run `avshub link`, to link the hub")
	default:
		how := "code-based linking"
		switch s.Source {
		case SourceCompanion:
			how = "companion app"
		case SourceWeb:
			how = "from the status page"
		}
		p("Amazon account: linked (%s)", how)
		if !s.LinkedAt.IsZero() {
			p("  linked at:           %s", s.LinkedAt.Local().Format(time.RFC1123))
		}
		if !s.AccessTokenExpiry.IsZero() {
			left := s.AccessTokenExpiry.Sub(now).Round(time.Second)
			if left > 0 {
				p("  access token expires: %s (in %s)", s.AccessTokenExpiry.Local().Format(time.TimeOnly), left)
			} else {
				p("  access token expired: %s ago", -left)
			}
		}
		if s.LastError != "" {
			p("  last refresh failed:  %s (next try %s)", s.LastError, s.RetryAt.Local().Format(time.TimeOnly))
		}
	}
	if s.TokenFile != "" {
		p("  token file:          %s", s.TokenFile)
	}
	return err
}

// Unlink deletes the stored authorization (the hub then needs `avshub link`).
func Unlink(cfg Config) error {
	cfg = cfg.withDefaults()
	if cfg.DataDir == "" {
		return fmt.Errorf("%w: missing hub.dataDir", ErrConfig)
	}
	if err := os.Remove(TokenFile(cfg.DataDir)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("login with amazon: %w", err)
	}
	return nil
}
