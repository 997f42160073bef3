// Package lwatest is a faithful emulator of Login with Amazon (LWA) for tests,
// demos and the AVS emulator: code-based linking, refresh and revocation.
package lwatest

// NOTE: skeleton. The CBL endpoints, admin API, expiry and revocation are being
// written; the exported API below is the contract avstest relies on.

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// Options configures the emulator.
type Options struct {
	// ClientID is the only client id accepted ("" accepts any).
	ClientID string
	// AccessTokenLifetime is how long an access token lives (default 1 h, as LWA).
	AccessTokenLifetime time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Token is a token pair as LWA issues it.
type Token struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"-"`
}

// Server is the LWA emulator.
type Server struct {
	opts   Options
	mu     sync.Mutex
	access map[string]time.Time // access token → expiry
}

// New returns an emulator.
func New(opts Options) *Server {
	if opts.AccessTokenLifetime <= 0 {
		opts.AccessTokenLifetime = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{opts: opts, access: map[string]time.Time{}}
}

// Handler serves the LWA endpoints (/auth/o2/create/codepair, /auth/o2/token).
func (s *Server) Handler() http.Handler { return http.NotFoundHandler() }

// AdminHandler serves /sim/cbl/approve, /sim/cbl/deny and /sim/tokens/revoke.
func (s *Server) AdminHandler() http.Handler { return http.NotFoundHandler() }

// Issue mints a token pair directly, as if linking had completed (tests, demo).
func (s *Server) Issue() Token {
	t := Token{AccessToken: "Atza|" + randHex(32), RefreshToken: "Atzr|" + randHex(32), Expiry: s.opts.Now().Add(s.opts.AccessTokenLifetime)}
	s.mu.Lock()
	s.access[t.AccessToken] = t.Expiry
	s.mu.Unlock()
	return t
}

// ValidAccessToken reports whether tok is a live access token issued here.
func (s *Server) ValidAccessToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.access[tok]
	return ok && s.opts.Now().Before(exp)
}

// ExpireAccessTokens makes every access token issued so far expire now (fault injection).
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for k := range s.access {
		s.access[k] = now
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
