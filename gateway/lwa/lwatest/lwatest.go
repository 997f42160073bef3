// Package lwatest is a faithful emulator of Login with Amazon (LWA) for tests,
// demos and the AVS emulator: code-based linking, refresh and revocation.
//
// The wire format follows api.amazon.com: requests are
// application/x-www-form-urlencoded POSTs, successful answers are JSON, and
// errors are HTTP 400 with a JSON body {"error":…,"error_description":…}
// (as Amazon documents it). Fault knobs (FailNext) and request
// counters (Stats) let tests provoke retries and count requests.
package lwatest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options configures the emulator.
type Options struct {
	// ClientID is the only client id accepted ("" accepts any).
	ClientID string
	// ClientSecret is the security profile's secret; refresh tokens minted by
	// IssueRemote (companion-app authorization) can only be refreshed with it.
	ClientSecret string
	// AccessTokenLifetime is how long an access token lives (default 1 h, as LWA).
	AccessTokenLifetime time.Duration
	// CodePairLifetime is how long a CBL code pair lives (default 10 min, as LWA's example).
	CodePairLifetime time.Duration
	// PollInterval is the polling interval announced with a code pair (default 5 s).
	PollInterval time.Duration
	// VerificationURI is the page the user visits (default https://amazon.com/us/code).
	VerificationURI string
	// KeepRefreshTokens makes refresh return the same refresh token instead of
	// rotating it (rotation invalidates the old refresh token).
	KeepRefreshTokens bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// UserID is the Amazon user every token belongs to unless minted with
	// IssueUser (default DefaultUserID); GET /user/profile returns it.
	UserID string
	// GrantCodeLifetime is how long an authorization code lives (default 5 min).
	GrantCodeLifetime time.Duration
	// ReturnURLs are the security profile's Allowed Return URLs: the
	// authorize page accepts only these redirect_uri values, exactly (none:
	// any https URL, or http on localhost or 127.0.0.1).
	ReturnURLs []string
}

// DefaultUserID is the emulated Amazon account's user id.
const DefaultUserID = "amzn1.account.AVSHUBSIMULATEDUSER0000000001"

// Token is a token pair as LWA issues it.
type Token struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"-"`
}

// Stats counts the requests the emulator has served.
type Stats struct {
	// CodePairs counts POST /auth/o2/create/codepair requests.
	CodePairs int
	// Polls counts token requests with grant_type=device_code.
	Polls int
	// Refreshes counts token requests with grant_type=refresh_token.
	Refreshes int
	// TokenRequests counts every request to /auth/o2/token.
	TokenRequests int
	// Faults counts requests answered by an injected fault (FailNext).
	Faults int
	// Grants counts token requests with grant_type=authorization_code.
	Grants int
	// Profiles counts GET /user/profile requests.
	Profiles int
}

// Paths of the LWA endpoints served by Handler.
const (
	CodePairPath = "/auth/o2/create/codepair"
	TokenPath    = "/auth/o2/token"
	ProfilePath  = "/user/profile"
	// AuthorizePath is the consent page (www.amazon.com/ap/oa on LWA);
	// ConsentPath takes its answer.
	AuthorizePath = "/ap/oa"
	ConsentPath   = "/ap/oa/consent"
)

// Paths of the admin endpoints served by AdminHandler.
const (
	ApprovePath = "/sim/cbl/approve"
	DenyPath    = "/sim/cbl/deny"
	RevokePath  = "/sim/tokens/revoke"
)

type pairState int

const (
	pending pairState = iota
	approved
	denied
	consumed
)

type codePair struct {
	userCode   string
	deviceCode string
	created    time.Time
	expiry     time.Time
	lastPoll   time.Time
	state      pairState
}

type refreshInfo struct {
	remote bool   // needs client_secret
	access string // the latest access token minted from it
	user   string // the Amazon user it belongs to
}

// grantCode is an authorization code (OAuth2 authorization code grant).
type grantCode struct {
	clientID string
	user     string
	expiry   time.Time
	// challenge and redirect are set for a code from the authorize page:
	// the exchange must bring the PKCE verifier and the same redirect_uri.
	challenge, redirect string
}

// Server is the LWA emulator.
type Server struct {
	opts Options

	mu      sync.Mutex
	access  map[string]time.Time // access token → expiry
	users   map[string]string    // access token → Amazon user id
	refresh map[string]*refreshInfo
	codes   map[string]grantCode // authorization code → what it grants
	pairs   []*codePair          // in creation order
	stats   Stats
	faults  int
	fault   int            // HTTP status of injected faults
	gfaults map[string]int // grant_type → faults left
	gfault  map[string]int // grant_type → HTTP status
}

// New returns an emulator.
func New(opts Options) *Server {
	if opts.AccessTokenLifetime <= 0 {
		opts.AccessTokenLifetime = time.Hour
	}
	if opts.CodePairLifetime <= 0 {
		opts.CodePairLifetime = 10 * time.Minute
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 5 * time.Second
	}
	if opts.VerificationURI == "" {
		opts.VerificationURI = "https://amazon.com/us/code"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.UserID == "" {
		opts.UserID = DefaultUserID
	}
	if opts.GrantCodeLifetime <= 0 {
		opts.GrantCodeLifetime = 5 * time.Minute
	}
	return &Server{opts: opts, access: map[string]time.Time{}, users: map[string]string{}, refresh: map[string]*refreshInfo{},
		codes: map[string]grantCode{}}
}

// Handler serves the LWA endpoints (/auth/o2/create/codepair, /auth/o2/token).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(CodePairPath, s.serveCodePair)
	mux.HandleFunc(TokenPath, s.serveToken)
	mux.HandleFunc(ProfilePath, s.serveProfile)
	mux.HandleFunc(AuthorizePath, s.serveAuthorize)
	mux.HandleFunc(ConsentPath, s.serveConsent)
	return mux
}

// AdminHandler serves /sim/cbl/approve, /sim/cbl/deny and /sim/tokens/revoke.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(ApprovePath, func(w http.ResponseWriter, r *http.Request) { s.serveDecide(w, r, approved) })
	mux.HandleFunc(DenyPath, func(w http.ResponseWriter, r *http.Request) { s.serveDecide(w, r, denied) })
	mux.HandleFunc(RevokePath, s.serveRevoke)
	return mux
}

// Issue mints a token pair directly, as if linking had completed (tests, demo).
func (s *Server) Issue() Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mintLocked(false)
}

// IssueRemote mints a token pair as a companion app would obtain it (remote
// authorization): its refresh token can only be refreshed with the client secret.
func (s *Server) IssueRemote() Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mintLocked(true)
}

// IssueUser mints a token pair for another Amazon user (tests of a hub linked
// to someone else).
func (s *Server) IssueUser(userID string) Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mintForLocked(false, userID)
}

// IssueGrantCode mints a single-use authorization code for clientID ("" = any
// client), as Alexa obtains one for Alexa.Authorization.AcceptGrant.
func (s *Server) IssueGrantCode(clientID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for c, g := range s.codes {
		if !now.Before(g.expiry) {
			delete(s.codes, c)
		}
	}
	code := "ANSi" + randHex(16)
	s.codes[code] = grantCode{clientID: clientID, user: s.opts.UserID, expiry: now.Add(s.opts.GrantCodeLifetime)}
	return code
}

// UserOf returns the Amazon user of a live access token.
func (s *Server) UserOf(accessToken string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.access[accessToken]
	if !ok || !s.opts.Now().Before(exp) {
		return "", false
	}
	return s.users[accessToken], true
}

func (s *Server) mintLocked(remote bool) Token { return s.mintForLocked(remote, s.opts.UserID) }

func (s *Server) mintForLocked(remote bool, user string) Token {
	t := Token{AccessToken: "Atza|" + randHex(32), RefreshToken: "Atzr|" + randHex(32), Expiry: s.opts.Now().Add(s.opts.AccessTokenLifetime)}
	s.addAccessLocked(t.AccessToken, t.Expiry)
	s.users[t.AccessToken] = user
	s.refresh[t.RefreshToken] = &refreshInfo{remote: remote, access: t.AccessToken, user: user}
	return t
}

// addAccessLocked records an access token, forgetting long-expired ones
// now and then so a long-running emulator stays small.
func (s *Server) addAccessLocked(tok string, exp time.Time) {
	if len(s.access) >= 1024 {
		cutoff := s.opts.Now().Add(-time.Hour)
		for k, e := range s.access {
			if e.Before(cutoff) {
				delete(s.access, k)
				delete(s.users, k)
			}
		}
	}
	s.access[tok] = exp
}

// ValidAccessToken reports whether tok is a live access token issued here.
func (s *Server) ValidAccessToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.access[tok]
	return ok && s.opts.Now().Before(exp)
}

// ValidRefreshToken reports whether tok is a refresh token LWA would accept now.
func (s *Server) ValidRefreshToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.refresh[tok]
	return ok
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

// RevokeAll revokes every refresh token and the access tokens minted from
// them, as when the owner removes the device from their Amazon account.
// It returns how many refresh tokens were revoked.
func (s *Server) RevokeAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.refresh)
	for rt := range s.refresh {
		s.revokeLocked(rt)
	}
	return n
}

// Revoke revokes one refresh token and its access token; false if unknown.
func (s *Server) Revoke(refreshToken string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.refresh[refreshToken]; !ok {
		return false
	}
	s.revokeLocked(refreshToken)
	return true
}

func (s *Server) revokeLocked(rt string) {
	if info := s.refresh[rt]; info != nil {
		delete(s.access, info.access)
		delete(s.users, info.access)
	}
	delete(s.refresh, rt)
}

// Approve approves the pending code pair with userCode ("" = the newest
// pending one) and returns its user code.
func (s *Server) Approve(userCode string) (string, error) { return s.decide(userCode, approved) }

// Deny denies the pending code pair with userCode ("" = the newest pending one)
// and returns its user code.
func (s *Server) Deny(userCode string) (string, error) { return s.decide(userCode, denied) }

func (s *Server) decide(userCode string, to pairState) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for i := len(s.pairs) - 1; i >= 0; i-- {
		p := s.pairs[i]
		if userCode != "" && !strings.EqualFold(p.userCode, userCode) {
			continue
		}
		if p.state != pending || !now.Before(p.expiry) {
			if userCode != "" {
				return "", fmt.Errorf("code %s is not pending", p.userCode)
			}
			continue
		}
		p.state = to
		return p.userCode, nil
	}
	if userCode != "" {
		return "", fmt.Errorf("unknown code %q", userCode)
	}
	return "", fmt.Errorf("no pending code pair")
}

// PendingUserCodes lists the user codes awaiting approval, newest last.
func (s *Server) PendingUserCodes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	var out []string
	for _, p := range s.pairs {
		if p.state == pending && now.Before(p.expiry) {
			out = append(out, p.userCode)
		}
	}
	return out
}

// FailNext makes the next n requests to the LWA endpoints fail with HTTP
// status (500 when status is 0), as an overloaded LWA would.
func (s *Server) FailNext(n, status int) {
	if status == 0 {
		status = http.StatusInternalServerError
	}
	s.mu.Lock()
	s.faults, s.fault = n, status
	s.mu.Unlock()
}

// FailNextGrant makes the next n token requests with grant_type grant
// ("device_code" or "refresh_token") fail with HTTP status (500 when 0);
// other requests are served normally.
func (s *Server) FailNextGrant(grant string, n, status int) {
	if status == 0 {
		status = http.StatusInternalServerError
	}
	s.mu.Lock()
	if s.gfaults == nil {
		s.gfaults, s.gfault = map[string]int{}, map[string]int{}
	}
	s.gfaults[grant], s.gfault[grant] = n, status
	s.mu.Unlock()
}

// Stats returns the request counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// writeError writes an LWA error: HTTP status with {"error","error_description"}.
func writeError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// parseForm checks the method and content type and parses the body, writing
// the LWA error and returning false when the request is malformed.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "invalid_request", "The request method must be POST")
		return nil, false
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		writeError(w, http.StatusBadRequest, "invalid_request", "The Content-Type must be application/x-www-form-urlencoded")
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "The request body is malformed")
		return nil, false
	}
	return r.PostForm, true
}

// fault consumes one injected fault, if any, and writes it.
func (s *Server) faultLocked(w http.ResponseWriter) bool {
	if s.faults <= 0 {
		return false
	}
	s.faults--
	s.stats.Faults++
	writeError(w, s.fault, "ServerError", "The server encountered an internal error")
	return true
}

func (s *Server) checkClient(w http.ResponseWriter, clientID string) bool {
	if clientID == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : client_id")
		return false
	}
	if s.opts.ClientID != "" && clientID != s.opts.ClientID {
		writeError(w, http.StatusBadRequest, "invalid_client", "The auth profile is not found or the client id is invalid")
		return false
	}
	return true
}

func (s *Server) serveCodePair(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.CodePairs++
	if s.faultLocked(w) {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	form, ok := s.parseForm(w, r)
	if !ok {
		return
	}
	if !s.checkClient(w, form.Get("client_id")) {
		return
	}
	if rt := form.Get("response_type"); rt != "device_code" {
		writeError(w, http.StatusBadRequest, "unsupported_response_type", "The response_type must be device_code")
		return
	}
	if form.Get("scope") != "alexa:all" {
		writeError(w, http.StatusBadRequest, "invalid_scope", "The request has an invalid parameter : scope")
		return
	}
	if err := checkScopeData(form.Get("scope_data")); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "The request has an invalid parameter : scope_data ("+err.Error()+")")
		return
	}
	s.mu.Lock()
	now := s.opts.Now()
	p := &codePair{userCode: userCode(), deviceCode: randHex(18), created: now, expiry: now.Add(s.opts.CodePairLifetime)}
	s.pairs = append(s.pairs, p)
	s.gcLocked(now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code":        p.userCode,
		"device_code":      p.deviceCode,
		"verification_uri": s.opts.VerificationURI,
		"expires_in":       seconds(s.opts.CodePairLifetime),
		"interval":         seconds(s.opts.PollInterval),
	})
}

// gcLocked forgets code pairs that expired long ago, so the list stays small.
func (s *Server) gcLocked(now time.Time) {
	keep := s.pairs[:0]
	for _, p := range s.pairs {
		if now.Sub(p.expiry) < time.Hour {
			keep = append(keep, p)
		}
	}
	s.pairs = keep
}

// checkScopeData checks the AVS scope_data: {"alexa:all":{"productID":…,"productInstanceAttributes":{"deviceSerialNumber":…}}}.
func checkScopeData(raw string) error {
	if raw == "" {
		return fmt.Errorf("missing")
	}
	var sd map[string]struct {
		ProductID                 string `json:"productID"`
		ProductInstanceAttributes struct {
			DeviceSerialNumber string `json:"deviceSerialNumber"`
		} `json:"productInstanceAttributes"`
	}
	if err := json.Unmarshal([]byte(raw), &sd); err != nil {
		return fmt.Errorf("not JSON")
	}
	a, ok := sd["alexa:all"]
	switch {
	case !ok:
		return fmt.Errorf("no alexa:all")
	case a.ProductID == "":
		return fmt.Errorf("no productID")
	case a.ProductInstanceAttributes.DeviceSerialNumber == "":
		return fmt.Errorf("no deviceSerialNumber")
	}
	return nil
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.TokenRequests++
	if s.faultLocked(w) {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	form, ok := s.parseForm(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	if g := form.Get("grant_type"); s.gfaults[g] > 0 {
		s.gfaults[g]--
		s.stats.Faults++
		writeError(w, s.gfault[g], "ServerError", "The server encountered an internal error")
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	switch form.Get("grant_type") {
	case "device_code":
		s.pollToken(w, form)
	case "refresh_token":
		s.refreshToken(w, form)
	case "authorization_code":
		s.grantToken(w, form)
	case "":
		writeError(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : grant_type")
	default:
		writeError(w, http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server")
	}
}

func (s *Server) pollToken(w http.ResponseWriter, form url.Values) {
	dc, uc := form.Get("device_code"), form.Get("user_code")
	if dc == "" || uc == "" {
		s.mu.Lock()
		s.stats.Polls++
		s.mu.Unlock()
		missing := "device_code"
		if dc != "" {
			missing = "user_code"
		}
		writeError(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : "+missing)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Polls++
	now := s.opts.Now()
	var p *codePair
	for _, c := range s.pairs {
		if c.deviceCode == dc && c.userCode == uc {
			p = c
			break
		}
	}
	if p == nil || p.state == consumed || !now.Before(p.expiry) {
		writeError(w, http.StatusBadRequest, "invalid_code_pair", "The code pair given is not valid or has expired")
		return
	}
	fast := !p.lastPoll.IsZero() && now.Sub(p.lastPoll) < s.opts.PollInterval
	p.lastPoll = now
	switch p.state {
	case denied:
		writeError(w, http.StatusBadRequest, "access_denied", "The user denied the authorization request")
	case approved:
		p.state = consumed
		t := s.mintLocked(false)
		writeToken(w, t, s.opts.AccessTokenLifetime)
	default:
		if fast {
			writeError(w, http.StatusBadRequest, "slow_down", "The client is polling too quickly")
			return
		}
		writeError(w, http.StatusBadRequest, "authorization_pending", "The authorization request is still pending")
	}
}

func (s *Server) refreshToken(w http.ResponseWriter, form url.Values) {
	s.mu.Lock()
	s.stats.Refreshes++
	s.mu.Unlock()
	if !s.checkClient(w, form.Get("client_id")) {
		return
	}
	rt := form.Get("refresh_token")
	if rt == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : refresh_token")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok := s.refresh[rt]
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
		return
	}
	if info.remote {
		secret := form.Get("client_secret")
		if secret == "" {
			writeError(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : client_secret")
			return
		}
		if s.opts.ClientSecret != "" && secret != s.opts.ClientSecret {
			writeError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
			return
		}
	}
	t := Token{AccessToken: "Atza|" + randHex(32), RefreshToken: rt, Expiry: s.opts.Now().Add(s.opts.AccessTokenLifetime)}
	s.addAccessLocked(t.AccessToken, t.Expiry)
	s.users[t.AccessToken] = info.user
	if s.opts.KeepRefreshTokens {
		info.access = t.AccessToken
	} else {
		delete(s.refresh, rt)
		t.RefreshToken = "Atzr|" + randHex(32)
		s.refresh[t.RefreshToken] = &refreshInfo{remote: info.remote, access: t.AccessToken, user: info.user}
	}
	writeToken(w, t, s.opts.AccessTokenLifetime)
}

// grantToken exchanges an authorization code (grant_type=authorization_code):
// client_id and client_secret are required, the code is single-use and bound
// to the client it was issued for. The refresh token it returns needs the
// client secret, as every token of a skill's client does.
func (s *Server) grantToken(w http.ResponseWriter, form url.Values) {
	s.mu.Lock()
	s.stats.Grants++
	s.mu.Unlock()
	code, clientID, secret := form.Get("code"), form.Get("client_id"), form.Get("client_secret")
	switch {
	case code == "":
		writeError(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : code")
		return
	case clientID == "":
		writeError(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : client_id")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.codes[code]
	delete(s.codes, code)  // single use, even when refused
	if g.challenge == "" { // a confidential client's code: the secret authenticates it
		if secret == "" {
			writeError(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : client_secret")
			return
		}
		if s.opts.ClientSecret != "" && secret != s.opts.ClientSecret {
			writeError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
			return
		}
	}
	if !ok || !s.opts.Now().Before(g.expiry) {
		writeError(w, http.StatusBadRequest, "invalid_grant", "The request has an invalid grant parameter : code")
		return
	}
	if g.challenge != "" {
		v := form.Get("code_verifier")
		if v == "" {
			writeError(w, http.StatusBadRequest, "invalid_request", "The request is missing a required parameter : code_verifier")
			return
		}
		if pkceChallenge(v) != g.challenge {
			writeError(w, http.StatusBadRequest, "invalid_grant", "The code verifier does not match the code challenge")
			return
		}
		if form.Get("redirect_uri") != g.redirect {
			writeError(w, http.StatusBadRequest, "invalid_grant", "The redirect_uri does not match the one of the authorization request")
			return
		}
	}
	if g.clientID != "" && g.clientID != clientID {
		writeError(w, http.StatusBadRequest, "invalid_grant", "The authorization code was issued to another client")
		return
	}
	// A PKCE code is a public client's: its refresh token needs no secret.
	t := s.mintForLocked(g.challenge == "", g.user)
	writeToken(w, t, s.opts.AccessTokenLifetime)
}

// serveProfile answers GET /user/profile for a bearer access token with the
// user's id (scope profile:user_id), as LWA's Customer Profile REST API does.
func (s *Server) serveProfile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Profiles++
	s.mu.Unlock()
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		writeError(w, http.StatusMethodNotAllowed, "invalid_request", "The request method must be GET")
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok = r.URL.Query().Get("access_token")
	}
	user, ok := s.UserOf(strings.TrimSpace(tok))
	if !ok {
		writeError(w, http.StatusUnauthorized, "invalid_token", "The access token provided is expired, revoked, malformed, or invalid for other reasons.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"user_id": user})
}

func writeToken(w http.ResponseWriter, t Token, life time.Duration) {
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  t.AccessToken,
		"refresh_token": t.RefreshToken,
		"token_type":    "bearer",
		"expires_in":    seconds(life),
	})
}

// adminBody is the optional JSON body of the admin endpoints.
type adminBody struct {
	UserCode     string `json:"user_code"`
	RefreshToken string `json:"refresh_token"`
}

func readAdmin(w http.ResponseWriter, r *http.Request) (adminBody, bool) {
	var b adminBody
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return b, false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	if err := dec.Decode(&b); err != nil && err.Error() != "EOF" {
		writeError(w, http.StatusBadRequest, "invalid_request", "body must be empty or a JSON object")
		return b, false
	}
	return b, true
}

func (s *Server) serveDecide(w http.ResponseWriter, r *http.Request, to pairState) {
	b, ok := readAdmin(w, r)
	if !ok {
		return
	}
	code, err := s.decide(b.UserCode, to)
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_code": code, "approved": to == approved})
}

func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	b, ok := readAdmin(w, r)
	if !ok {
		return
	}
	n := 0
	if b.RefreshToken != "" {
		if s.Revoke(b.RefreshToken) {
			n = 1
		}
	} else {
		n = s.RevokeAll()
	}
	writeJSON(w, http.StatusOK, map[string]any{"revoked": n})
}

func seconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// userCode returns a 6-character code from an alphabet without look-alikes.
func userCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
