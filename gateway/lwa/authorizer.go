package lwa

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// ErrNotLinked means no refresh token is stored: the hub was never linked.
var ErrNotLinked = errors.New("login with amazon: the hub is not linked to an Amazon account; run `avshub link`")

// ErrNeedsRelink is wrapped by every error after LWA refused the hub's
// authorization (revoked refresh token, wrong client id, …): nothing is sent
// to LWA again until the hub is linked again.
var ErrNeedsRelink = errors.New("login with amazon: the hub must be linked again; run `avshub link`")

// relinkError carries why a re-link is needed.
type relinkError struct{ reason string }

func (e *relinkError) Error() string { return ErrNeedsRelink.Error() + " (" + e.reason + ")" }
func (e *relinkError) Unwrap() error { return ErrNeedsRelink }

// Authorizer hands out LWA access tokens to the AVS connection. It implements
// avs.TokenSource: Token refreshes ahead of expiry (RefreshHeadStart) and at
// once after Invalidate (AVS answered 403); every refreshed refresh token is
// persisted; transient LWA failures back off (1 s … 60 s, jittered) without
// ever sending more than one request per backoff step; unrecoverable answers
// switch it to "needs re-link" for good. Safe for concurrent use.
type Authorizer struct {
	cfg   Config
	log   *slog.Logger
	wire  *wire
	store *store
	wake  chan struct{} // Reload nudges WaitReady

	mu          sync.Mutex
	st          stored      // what the file holds
	file        os.FileInfo // the token file when last loaded or written by us (nil: none)
	access      string
	expiry      time.Time
	lifetime    time.Duration
	inflight    chan struct{} // non-nil while a refresh runs
	failures    int
	nextTry     time.Time
	lastErr     error
	lastRefresh time.Time
}

// NewAuthorizer loads the stored refresh token from cfg.DataDir. A hub that
// was never linked still gets an Authorizer (Ready reports ErrNotLinked); it
// picks up tokens stored later by `avshub link` without a restart.
func NewAuthorizer(cfg Config) (*Authorizer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(false); err != nil {
		return nil, err
	}
	a := &Authorizer{
		cfg:   cfg,
		log:   slog.New(NewRedactingHandler(cfg.Logger.Handler())),
		wire:  &wire{client: cfg.HTTPClient, base: cfg.BaseURL},
		store: newStore(cfg.DataDir),
		wake:  make(chan struct{}, 1),
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.reloadLocked(true); err != nil {
		return nil, err
	}
	return a, nil
}

// reloadLocked re-reads the token file if it changed since the last load.
func (a *Authorizer) reloadLocked(force bool) error {
	fi, err := os.Stat(a.store.path())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("login with amazon: %w", err)
	}
	if !force && sameFile(fi, a.file) {
		return nil
	}
	st, err := a.store.load()
	if err != nil {
		return fmt.Errorf("login with amazon: %w", err)
	}
	changed := st.RefreshToken != a.st.RefreshToken
	a.st, a.file = st, fi
	if changed {
		a.access, a.expiry, a.failures, a.nextTry, a.lastErr = "", time.Time{}, 0, time.Time{}, nil
		if !force && st.RefreshToken != "" {
			a.log.Info("using the newly stored Login with Amazon authorization")
		}
	}
	return nil
}

// Ready returns nil when the hub is linked and usable, ErrNotLinked when it was
// never linked, or an error wrapping ErrNeedsRelink.
func (a *Authorizer) Ready() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.st.RefreshToken == "" || a.st.NeedsRelink != "" {
		_ = a.reloadLocked(false)
	}
	return a.readyLocked()
}

func (a *Authorizer) readyLocked() error {
	if a.st.NeedsRelink != "" {
		return &relinkError{reason: a.st.NeedsRelink}
	}
	if a.st.RefreshToken == "" {
		return ErrNotLinked
	}
	return nil
}

// headStartLocked is how early to refresh: RefreshHeadStart, but at most half
// the token's lifetime so short-lived tokens are not refreshed constantly.
func (a *Authorizer) headStartLocked() time.Duration {
	hs := a.cfg.RefreshHeadStart
	if a.lifetime > 0 && hs > a.lifetime/2 {
		hs = a.lifetime / 2
	}
	return hs
}

// Token returns a valid access token, refreshing it first when it is within
// the head start of its expiry or was invalidated. Concurrent callers share
// one refresh. During a backoff after a transient failure it returns the
// current token while it is still valid, else the last error, without a
// request. After an unrecoverable answer it returns an error wrapping
// ErrNeedsRelink.
func (a *Authorizer) Token(ctx context.Context) (string, error) {
	for {
		a.mu.Lock()
		if a.st.RefreshToken == "" || a.st.NeedsRelink != "" {
			_ = a.reloadLocked(false)
		}
		if err := a.readyLocked(); err != nil {
			a.mu.Unlock()
			return "", err
		}
		now := a.cfg.Now()
		if a.access != "" && now.Before(a.expiry.Add(-a.headStartLocked())) {
			tok := a.access
			a.mu.Unlock()
			return tok, nil
		}
		if ch := a.inflight; ch != nil {
			if tok := a.access; tok != "" && now.Before(a.expiry) {
				a.mu.Unlock()
				return tok, nil // still valid: no need to wait for the early refresh
			}
			a.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		if now.Before(a.nextTry) {
			tok, exp, last, next := a.access, a.expiry, a.lastErr, a.nextTry
			a.mu.Unlock()
			if tok != "" && now.Before(exp) {
				return tok, nil
			}
			return "", fmt.Errorf("login with amazon: refresh failed, next attempt at %s: %w", next.Format(time.TimeOnly), last)
		}
		// `avshub link` may have replaced the token file while we ran.
		if err := a.reloadLocked(false); err != nil {
			a.mu.Unlock()
			return "", err
		}
		if err := a.readyLocked(); err != nil {
			a.mu.Unlock()
			return "", err
		}
		ch := make(chan struct{})
		a.inflight = ch
		rt, source := a.st.RefreshToken, a.st.Source
		a.mu.Unlock()

		tok, err := refreshToken(ctx, a.cfg, a.wire, rt, source)

		a.mu.Lock()
		a.inflight = nil
		close(ch)
		done, retErr := a.applyLocked(ctx, rt, tok, err)
		a.mu.Unlock()
		if done {
			return "", retErr
		}
	}
}

// applyLocked records the outcome of a refresh of rt. It returns done=true
// with the error to return when Token must stop.
func (a *Authorizer) applyLocked(ctx context.Context, rt string, tok *oauth2.Token, err error) (bool, error) {
	if rerr := a.reloadLocked(false); rerr != nil {
		return true, rerr
	}
	if a.st.RefreshToken != rt {
		// The file changed under us (a new link); the outcome is stale.
		return false, nil
	}
	if err == nil {
		now := a.cfg.Now()
		a.access, a.expiry, a.lifetime = tok.AccessToken, tok.Expiry, time.Duration(tok.ExpiresIn)*time.Second
		a.failures, a.nextTry, a.lastErr, a.lastRefresh = 0, time.Time{}, nil, now
		if tok.RefreshToken != rt {
			st := a.st
			st.RefreshToken, st.UpdatedAt = tok.RefreshToken, now
			if serr := a.store.save(st); serr != nil {
				// Keep working from memory; the next start may need a re-link.
				a.log.Error("could not persist the refreshed Login with Amazon refresh token; the hub may need `avshub link` after a restart", "err", serr)
			}
			a.st = st
			a.statLocked()
		}
		a.log.Debug("refreshed the access token", "expires", tok.Expiry.Format(time.RFC3339))
		return false, nil
	}
	if ctx.Err() != nil {
		return true, ctx.Err()
	}
	var le *Error
	if errors.As(err, &le) && le.Unrecoverable() {
		reason := le.Code
		if reason == "" {
			reason = fmt.Sprintf("HTTP %d", le.Status)
		}
		if le.Description != "" {
			reason += ": " + Redact(le.Description)
		}
		st := a.st
		st.RefreshToken, st.NeedsRelink, st.UpdatedAt = "", reason, a.cfg.Now()
		if serr := a.store.save(st); serr != nil {
			a.log.Error("could not record the revoked authorization in the token file", "err", serr)
		}
		a.st = st
		a.statLocked()
		a.access, a.expiry = "", time.Time{}
		a.log.Error("Login with Amazon refused the hub's authorization; the hub will not contact Amazon until it is linked again: run `avshub link`", "reason", reason)
		return true, &relinkError{reason: reason}
	}
	a.failures++
	wait := retryPolicy.Delay(a.failures)
	a.nextTry = a.cfg.Now().Add(wait)
	a.lastErr = err
	a.log.Warn("refreshing the access token failed; will retry", "err", err, "attempt", a.failures, "retry_in", wait.Round(time.Second).String())
	return false, nil
}

// statLocked remembers the file's mod time after we wrote it ourselves.
func (a *Authorizer) statLocked() {
	if fi, err := os.Stat(a.store.path()); err == nil {
		a.file = fi
	}
}

// sameFile reports whether the token file is still the one seen before. The
// store replaces the file by a rename, so a new file is a new inode: its
// mod time alone can equal the old one's (timestamps move in clock ticks,
// and `avshub link` may write within the tick of the hub's own write).
func sameFile(now, before os.FileInfo) bool {
	if now == nil || before == nil {
		return now == nil && before == nil
	}
	return os.SameFile(now, before) && now.ModTime().Equal(before.ModTime()) && now.Size() == before.Size()
}

// Invalidate reports that AVS (HTTP 403) or the event gateway (HTTP 401) rejected token: if it is the current
// access token, the next Token call refreshes at once. Stale tokens (already
// replaced by a concurrent refresh) are ignored, so a burst of 403s causes
// one refresh.
func (a *Authorizer) Invalidate(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if token == "" || token != a.access {
		return
	}
	a.access, a.expiry = "", time.Time{}
	a.log.Info("Amazon rejected the access token; refreshing it")
}

// Run refreshes the access token ahead of its expiry until ctx ends, so the
// AVS connection always finds a fresh token. It returns nil when ctx ends.
// While the hub is unlinked or needs a re-link it only watches the token file.
func (a *Authorizer) Run(ctx context.Context) error {
	for {
		a.mu.Lock()
		if a.st.RefreshToken == "" || a.st.NeedsRelink != "" {
			_ = a.reloadLocked(false)
		}
		var wait time.Duration
		now := a.cfg.Now()
		switch {
		case a.readyLocked() != nil:
			wait = time.Minute
		case now.Before(a.nextTry):
			wait = a.nextTry.Sub(now)
		case a.access != "":
			wait = a.expiry.Add(-a.headStartLocked()).Sub(now)
		}
		a.mu.Unlock()
		if wait > 0 {
			if err := a.cfg.Sleep(ctx, wait); err != nil {
				return nil
			}
			if a.Ready() != nil {
				continue
			}
		}
		_, _ = a.Token(ctx) // failures are logged and backed off inside
		if ctx.Err() != nil {
			return nil
		}
	}
}

// OAuth2 adapts the Authorizer to golang.org/x/oauth2 (tokens carry their expiry).
func (a *Authorizer) OAuth2(ctx context.Context) oauth2.TokenSource {
	return tokenSource{ctx: ctx, a: a}
}

type tokenSource struct {
	ctx context.Context
	a   *Authorizer
}

func (t tokenSource) Token() (*oauth2.Token, error) {
	tok, err := t.a.Token(t.ctx)
	if err != nil {
		return nil, err
	}
	t.a.mu.Lock()
	exp := t.a.expiry
	t.a.mu.Unlock()
	return &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: exp}, nil
}

// refreshToken exchanges rt for a new access token (grant_type=refresh_token).
// The client secret is sent only for companion-app tokens. The answer's
// refresh token replaces rt when present.
func refreshToken(ctx context.Context, cfg Config, w *wire, rt, source string) (*oauth2.Token, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {rt},
		"client_id":     {cfg.ClientID},
	}
	if (source == SourceCompanion || source == SourceGrant) && cfg.ClientSecret != "" {
		form.Set("client_secret", cfg.ClientSecret)
	}
	body, err := w.post(ctx, tokenPath, form)
	if err != nil {
		return nil, err
	}
	tok, err := parseToken(body, cfg.Now(), false)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = rt
	}
	return tok, nil
}

// Reload re-reads the token file now if it changed (tokens just stored by
// ExchangeGrantCode in this process), instead of at the next refresh.
func (a *Authorizer) Reload() error {
	a.mu.Lock()
	err := a.reloadLocked(false)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return err
}

// readyPoll is how often WaitReady looks at the token file, which `avshub
// link` writes from another process.
const readyPoll = time.Second

// WaitReady returns nil as soon as the hub is linked and usable (Ready is
// nil): tokens stored by `avshub link` are seen within a second, tokens
// stored in this process are seen at once after Reload. It returns ctx's
// error when ctx ends first.
func (a *Authorizer) WaitReady(ctx context.Context) error {
	t := time.NewTicker(readyPoll)
	defer t.Stop()
	for a.Ready() != nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-a.wake:
		}
	}
	return nil
}
