package lwa

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultAuthorizeURL is Login with Amazon's authorization page.
const DefaultAuthorizeURL = "https://www.amazon.com/ap/oa"

// AuthorizeURLFor is the authorization page that goes with an LWA API base
// URL: Amazon's for api.amazon.com, else the same host's /ap/oa (the emulator).
func AuthorizeURLFor(baseURL string) string {
	if baseURL == "" || strings.TrimRight(baseURL, "/") == DefaultBaseURL {
		return DefaultAuthorizeURL
	}
	return strings.TrimRight(baseURL, "/") + "/ap/oa"
}

// SourceWeb marks tokens obtained by linking from the status page (an
// authorization code with PKCE).
const SourceWeb = "web"

// webLinkLifetime is how long a started link waits for its callback.
const webLinkLifetime = 10 * time.Minute

// maxPendingLinks bounds the links started and not finished.
const maxPendingLinks = 16

// ErrUnknownLinkState means a callback whose state this hub did not hand out
// (or handed out more than webLinkLifetime ago, or already used).
var ErrUnknownLinkState = errors.New("login with amazon: this sign-in was not started here or has expired; press Link with Amazon again")

// WebLinker links the hub from a browser, as AVS's companion website does:
// Start makes a PKCE code verifier (S256) and returns Login with Amazon's
// authorize URL (scope alexa:all, scope_data with the product id and serial
// number, response_type code, the code challenge); Finish takes the code the
// browser brings back to the hub's callback and exchanges it with the
// verifier, which never leaves the hub. It is safe for concurrent use.
type WebLinker struct {
	cfg          Config
	authorizeURL string

	mu      sync.Mutex
	pending map[string]webLink // state → link
}

type webLink struct {
	verifier, redirect string
	expiry             time.Time
}

// NewWebLinker returns a linker for cfg; authorizeURL "" means
// AuthorizeURLFor(cfg.BaseURL).
func NewWebLinker(cfg Config, authorizeURL string) (*WebLinker, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(true); err != nil {
		return nil, err
	}
	if authorizeURL == "" {
		authorizeURL = AuthorizeURLFor(cfg.BaseURL)
	}
	return &WebLinker{cfg: cfg, authorizeURL: authorizeURL, pending: map[string]webLink{}}, nil
}

// randomURLSafe returns n random bytes as base64url without padding.
func randomURLSafe(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CodeChallenge is the S256 code challenge of a PKCE code verifier
// (RFC 7636 §4.2): base64url of its SHA-256, without padding.
func CodeChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Start begins a link whose callback is redirectURI and returns the URL to
// send the person's browser to and the link's state (single use, 192 random
// bits), which the caller may bind to the browser (a cookie). LWA sends the browser back only to a URL
// listed exactly (scheme, host, port, path) among the security profile's
// Allowed Return URLs (Web Settings), which must be https; a hub on the LAN
// meets that with a name it is reached by over https (a reverse proxy with a
// certificate), or by being opened as http://localhost:PORT through an SSH
// tunnel (ssh -L PORT:127.0.0.1:PORT hub), http://localhost being what LWA
// allows without https for development (the emulator accepts https, or http
// on localhost and 127.0.0.1, unless given its own list).
func (w *WebLinker) Start(redirectURI string) (authorizeURL, state string, err error) {
	u, err := url.Parse(redirectURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", fmt.Errorf("login with amazon: the return URL %q is not an absolute http(s) URL", redirectURI)
	}
	verifier := randomURLSafe(48) // 64 characters, within RFC 7636's 43–128
	state = randomURLSafe(24)
	now := w.cfg.Now()
	w.mu.Lock()
	for s, l := range w.pending {
		if !now.Before(l.expiry) {
			delete(w.pending, s)
		}
	}
	if len(w.pending) >= maxPendingLinks {
		w.mu.Unlock()
		return "", "", errors.New("login with amazon: too many sign-ins are waiting; finish one or wait ten minutes")
	}
	w.pending[state] = webLink{verifier: verifier, redirect: redirectURI, expiry: now.Add(webLinkLifetime)}
	w.mu.Unlock()
	q := url.Values{
		"client_id":             {w.cfg.ClientID},
		"scope":                 {"alexa:all"},
		"scope_data":            {scopeData(w.cfg.ProductID, w.cfg.SerialNumber)},
		"response_type":         {"code"},
		"redirect_uri":          {redirectURI},
		"state":                 {state},
		"code_challenge":        {CodeChallenge(verifier)},
		"code_challenge_method": {"S256"},
	}
	return w.authorizeURL + "?" + q.Encode(), state, nil
}

// Cancel forgets the link state names (the person cancelled on Login with
// Amazon's page); it reports whether the state was waiting.
func (w *WebLinker) Cancel(state string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	l, ok := w.pending[state]
	delete(w.pending, state)
	return ok && w.cfg.Now().Before(l.expiry)
}

// Finish completes the link state names with the authorization code LWA
// sent to the callback: it exchanges code with the verifier (and the client
// secret when one is configured), tests the refresh token once and stores
// the one that test returned in cfg.DataDir (where the running Authorizer
// picks it up).
// A state is single use.
func (w *WebLinker) Finish(ctx context.Context, state, code string) error {
	w.mu.Lock()
	l, ok := w.pending[state]
	delete(w.pending, state)
	w.mu.Unlock()
	if !ok || !w.cfg.Now().Before(l.expiry) {
		return ErrUnknownLinkState
	}
	code = strings.TrimSpace(code)
	if code == "" || len(code) > maxTokenLen {
		return errors.New("login with amazon: the callback carried no authorization code")
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {l.redirect},
		"client_id":     {w.cfg.ClientID},
		"code_verifier": {l.verifier},
	}
	if w.cfg.ClientSecret != "" {
		form.Set("client_secret", w.cfg.ClientSecret)
	}
	wr := &wire{client: w.cfg.HTTPClient, base: w.cfg.BaseURL}
	body, err := wr.post(ctx, tokenPath, form) // the code is single use: no retry
	if err != nil {
		return fmt.Errorf("login with amazon: exchanging the authorization code: %w", err)
	}
	tok, err := parseToken(body, w.cfg.Now(), true)
	if err != nil {
		return fmt.Errorf("login with amazon: exchanging the authorization code: %w", err)
	}
	return storeAndTest(ctx, w.cfg, wr, io.Discard, tok.RefreshToken, SourceWeb)
}
