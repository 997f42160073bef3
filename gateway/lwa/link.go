package lwa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"
)

// ErrCodeExpired means the owner did not enter the code before every code
// pair Link requested had expired.
var ErrCodeExpired = errors.New("login with amazon: the code expired before it was entered; run `avshub link` again")

// ErrDenied means the owner declined the authorization request.
var ErrDenied = errors.New("login with amazon: the authorization request was denied")

// errCodePairExpired ends one polling round; Link starts over.
var errCodePairExpired = errors.New("code pair expired")

// maxPollInterval caps the polling interval after slow_down (AVS SDK).
const maxPollInterval = 60 * time.Second

// defaultPollInterval applies when LWA sends no interval.
const defaultPollInterval = 5 * time.Second

// maxTransientRetries bounds retries of a single request on 5xx or network errors
// outside the code pair's own deadline (code pair requests, refresh tests).
const maxTransientRetries = 6

// Link runs code-based linking: it requests a code pair, prints the
// verification URL and user code to out, polls until the owner approves (a
// countdown and the polling state go to out), tests the refresh token at once
// and stores the one the test returned in cfg.DataDir. An expired code pair is
// replaced by a new one up to cfg.CodePairAttempts times. It returns nil once
// the tokens are stored, ErrCodeExpired, ErrDenied, or another clear error.
func Link(ctx context.Context, cfg Config, out io.Writer) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(true); err != nil {
		return err
	}
	if out == nil {
		out = io.Discard
	}
	l := &linker{cfg: cfg, out: out, wire: &wire{client: cfg.HTTPClient, base: cfg.BaseURL}}
	for attempt := 1; attempt <= cfg.CodePairAttempts; attempt++ {
		cp, err := l.codePair(ctx)
		if err != nil {
			return err
		}
		l.show(cp)
		tok, err := l.poll(ctx, cp)
		if errors.Is(err, errCodePairExpired) {
			if attempt < cfg.CodePairAttempts {
				l.printf("\nThe code %s expired before it was entered. Here is a new one.\n", cp.UserCode)
			}
			continue
		}
		if err != nil {
			return err
		}
		return l.finish(ctx, tok)
	}
	return ErrCodeExpired
}

type linker struct {
	cfg  Config
	out  io.Writer
	wire *wire
}

func (l *linker) printf(format string, args ...any) {
	_, _ = fmt.Fprintf(l.out, format, args...)
}

// scopeData is AVS's scope_data for alexa:all.
func scopeData(productID, serial string) string {
	b, _ := json.Marshal(map[string]any{
		"alexa:all": map[string]any{
			"productID":                 productID,
			"productInstanceAttributes": map[string]string{"deviceSerialNumber": serial},
		},
	})
	return string(b)
}

// codePair requests a code pair, retrying transient failures with backoff.
func (l *linker) codePair(ctx context.Context) (*codePair, error) {
	form := url.Values{
		"response_type": {"device_code"},
		"client_id":     {l.cfg.ClientID},
		"scope":         {"alexa:all"},
		"scope_data":    {scopeData(l.cfg.ProductID, l.cfg.SerialNumber)},
	}
	for try := 1; ; try++ {
		body, err := l.wire.post(ctx, codePairPath, form)
		if err == nil {
			cp, perr := parseCodePair(body, l.cfg.Now())
			if perr == nil {
				if cp.Interval <= 0 {
					cp.Interval = defaultPollInterval
				}
				return cp, nil
			}
			err = perr
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var le *Error
		if errors.As(err, &le) && !le.Temporary() {
			return nil, fmt.Errorf("requesting a code: %w%s", err, configHint(le))
		}
		if certError(err) {
			return nil, fmt.Errorf("requesting a code: %w (check lwa.url and lwa.caFile)", err)
		}
		if try >= maxTransientRetries {
			return nil, fmt.Errorf("requesting a code: giving up after %d attempts: %w", try, err)
		}
		wait := retryPolicy.Delay(try)
		l.printf("Login with Amazon is not answering properly (%v); retrying in %s…\n", err, wait.Round(time.Second))
		if err := l.cfg.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// configHint explains the usual cause of a configuration error.
func configHint(le *Error) string {
	switch le.Code {
	case "invalid_client", "unauthorized_client":
		return " (check lwa.clientId: it must be the client id of the security profile's \"Other devices and platforms\" tab)"
	case "invalid_scope", "InvalidValue":
		return " (check hub.productId and hub.serialNumber against the AVS product)"
	case "invalid_request":
		if strings.Contains(le.Description, "client_secret") {
			return " (this refresh token needs lwa.clientSecret, or the client id is from the wrong security-profile tab)"
		}
	}
	return ""
}

// show prints the instructions in a copyable form.
func (l *linker) show(cp *codePair) {
	l.printf("\nTo link this hub with your Amazon account:\n\n")
	l.printf("  1. On a phone or computer, open:\n\n       %s\n\n", cp.VerificationURI)
	l.printf("  2. Sign in and enter this code:\n\n       %s\n\n", cp.UserCode)
	l.printf("The code is valid for %s.\n", fmtLeft(cp.ExpiresIn))
}

// fmtLeft prints a duration as m:ss (or h:mm:ss).
func fmtLeft(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s%3600/60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// pollReportEvery is how often an unchanged polling state is printed again.
const pollReportEvery = 30 * time.Second

// poll polls the token endpoint until approval, denial, a terminal error or
// the code pair's expiry (errCodePairExpired).
func (l *linker) poll(ctx context.Context, cp *codePair) (*oauth2.Token, error) {
	form := url.Values{
		"grant_type":  {"device_code"},
		"device_code": {cp.DeviceCode},
		"user_code":   {cp.UserCode},
	}
	interval := cp.Interval
	var wait time.Duration = interval
	var lastState string
	var lastPrint time.Time
	failures := 0
	report := func(state string) {
		now := l.cfg.Now()
		if state == lastState && now.Sub(lastPrint) < pollReportEvery {
			return
		}
		lastState, lastPrint = state, now
		l.printf("  [%s left] %s\n", fmtLeft(cp.Expiry.Sub(now)), state)
	}
	report("waiting for the code to be entered…")
	for {
		if left := cp.Expiry.Sub(l.cfg.Now()); left <= 0 {
			return nil, errCodePairExpired
		} else if wait > left {
			wait = left
		}
		if err := l.cfg.Sleep(ctx, wait); err != nil {
			return nil, err
		}
		if !l.cfg.Now().Before(cp.Expiry) {
			return nil, errCodePairExpired
		}
		wait = interval
		body, err := l.wire.post(ctx, tokenPath, form)
		if err == nil {
			tok, perr := parseToken(body, l.cfg.Now(), true)
			if perr == nil {
				l.printf("  approved.\n")
				return tok, nil
			}
			err = perr
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var le *Error
		if !errors.As(err, &le) {
			failures++
			wait = max(interval, retryPolicy.Delay(failures))
			report(fmt.Sprintf("cannot reach Login with Amazon (%v); retrying in %s", err, wait.Round(time.Second)))
			continue
		}
		switch {
		case le.Code == codeAuthorizationPending:
			failures = 0
			report("waiting for the code to be entered…")
		case le.Code == codeSlowDown:
			interval = min(interval*2, maxPollInterval)
			wait = interval
			report(fmt.Sprintf("Login with Amazon asked to poll more slowly; now every %s", interval))
		case le.Code == codeInvalidCodePair || le.Code == codeExpiredToken:
			return nil, errCodePairExpired
		case le.Code == codeAccessDenied:
			return nil, ErrDenied
		case le.Temporary():
			failures++
			wait = max(interval, retryPolicy.Delay(failures))
			report(fmt.Sprintf("Login with Amazon is unavailable (HTTP %d); retrying in %s", le.Status, wait.Round(time.Second)))
		default:
			return nil, fmt.Errorf("waiting for approval: %w%s", err, configHint(le))
		}
	}
}

// finish tests the refresh token at once, as the AVS SDK does, and stores
// the refresh token the test returns.
func (l *linker) finish(ctx context.Context, tok *oauth2.Token) error {
	return storeAndTest(ctx, l.cfg, l.wire, l.out, tok.RefreshToken, SourceCBL)
}

// storeAndTest refreshes rt once (retrying transient failures) and stores the
// refresh token that refresh returned. The token file only ever receives a
// token after its test: a running hub takes up whatever the file holds, and
// a refresh may rotate the refresh token, so a token stored before its test
// would be refreshed by two parties at once, and the loser would be told the
// authorization is invalid (a page link left the hub "needs to be linked
// again" this way).
func storeAndTest(ctx context.Context, cfg Config, w *wire, out io.Writer, rt, source string) error {
	s := newStore(cfg.DataDir)
	now := cfg.Now()
	st := stored{RefreshToken: rt, Source: source, ClientID: cfg.ClientID, LinkedAt: now, UpdatedAt: now}
	for try := 1; ; try++ {
		tok, err := refreshToken(ctx, cfg, w, rt, source)
		if err == nil {
			st.RefreshToken, st.UpdatedAt = tok.RefreshToken, cfg.Now()
			if err := s.save(st); err != nil {
				return fmt.Errorf("login with amazon: storing tokens: %w", err)
			}
			_, _ = fmt.Fprintf(out, "\nLinked. The refresh token works (access token valid for %s) and is stored in %s.\n",
				time.Duration(tok.ExpiresIn)*time.Second, s.path())
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var le *Error
		if (errors.As(err, &le) && !le.Temporary()) || try >= maxTransientRetries {
			hint := ""
			if le != nil {
				hint = configHint(le)
			}
			return fmt.Errorf("login with amazon: the refresh token does not work: %w%s", err, hint)
		}
		wait := retryPolicy.Delay(try)
		_, _ = fmt.Fprintf(out, "Testing the refresh token failed (%v); retrying in %s…\n", err, wait.Round(time.Second))
		if err := cfg.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// ImportRefreshToken stores a refresh token obtained by a companion app
// (remote authorization) after testing it with one refresh; refreshes of this
// token send cfg.ClientSecret when it is set. Progress goes to out.
func ImportRefreshToken(ctx context.Context, cfg Config, refreshToken string, out io.Writer) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(false); err != nil {
		return err
	}
	if out == nil {
		out = io.Discard
	}
	refreshToken = strings.TrimSpace(refreshToken)
	if refreshToken == "" || len(refreshToken) > maxTokenLen || strings.IndexFunc(refreshToken, unicode.IsSpace) >= 0 {
		return errors.New("login with amazon: that is not a refresh token (expected one line like Atzr|…)")
	}
	w := &wire{client: cfg.HTTPClient, base: cfg.BaseURL}
	_, _ = fmt.Fprintln(out, "Testing the imported refresh token with Login with Amazon…")
	return storeAndTest(ctx, cfg, w, out, refreshToken, SourceCompanion)
}

// ReadRefreshTokenFile reads a refresh token from path: either the bare token
// or JSON with a "refresh_token" field (what LWA's token endpoint returns).
func ReadRefreshTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("login with amazon: reading refresh token file: %w", err)
	}
	if len(b) > 64<<10 {
		return "", fmt.Errorf("login with amazon: refresh token file %s is too large", path)
	}
	text := strings.TrimSpace(string(b))
	if strings.HasPrefix(text, "{") {
		var v struct {
			RefreshToken string `json:"refresh_token"`
		}
		if json.Unmarshal([]byte(text), &v) != nil || v.RefreshToken == "" {
			return "", fmt.Errorf("login with amazon: %s is JSON without a refresh_token field", path)
		}
		return v.RefreshToken, nil
	}
	return text, nil
}

// ExchangeGrantCode exchanges an authorization code (the grant of a Smart Home
// skill's Alexa.Authorization.AcceptGrant) for tokens with cfg's client id and
// secret (grant_type=authorization_code), and stores the refresh token in
// cfg.DataDir like a linked hub's (0600, atomically), where an Authorizer on
// the same directory picks it up without a restart. Transient LWA failures are
// retried briefly; the code is single-use, so a refused code is final.
func ExchangeGrantCode(ctx context.Context, cfg Config, code string) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(false); err != nil {
		return err
	}
	if cfg.ClientSecret == "" {
		return fmt.Errorf("%w: the client secret is required to exchange an authorization code", ErrConfig)
	}
	code = strings.TrimSpace(code)
	if code == "" || len(code) > maxTokenLen || strings.IndexFunc(code, unicode.IsSpace) >= 0 {
		return errors.New("login with amazon: that is not an authorization code")
	}
	w := &wire{client: cfg.HTTPClient, base: cfg.BaseURL}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"client_id":     {cfg.ClientID},
		"client_secret": {cfg.ClientSecret},
	}
	var body []byte
	for try := 1; ; try++ {
		var err error
		body, err = w.post(ctx, tokenPath, form)
		if err == nil {
			break
		}
		var le *Error
		if ctx.Err() != nil || (errors.As(err, &le) && !le.Temporary()) || try >= maxTransientRetries {
			return fmt.Errorf("login with amazon: exchanging the authorization code: %w", err)
		}
		if err := cfg.Sleep(ctx, retryPolicy.Delay(try)); err != nil {
			return err
		}
	}
	tok, err := parseToken(body, cfg.Now(), true)
	if err != nil {
		return fmt.Errorf("login with amazon: exchanging the authorization code: %w", err)
	}
	now := cfg.Now()
	st := stored{RefreshToken: tok.RefreshToken, Source: SourceGrant, ClientID: cfg.ClientID, LinkedAt: now, UpdatedAt: now}
	if err := newStore(cfg.DataDir).save(st); err != nil {
		return fmt.Errorf("login with amazon: storing tokens: %w", err)
	}
	return nil
}
