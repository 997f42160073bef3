package lwa

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/avshub/avshub/discovery/backoff"
	"github.com/avshub/avshub/discovery/model"
)

// LWA error codes.
const (
	codeAuthorizationPending = "authorization_pending"
	codeSlowDown             = "slow_down"
	codeInvalidCodePair      = "invalid_code_pair"
	codeExpiredToken         = "expired_token" // RFC 8628's name for invalid_code_pair
	codeAccessDenied         = "access_denied"
	codeInvalidGrant         = "invalid_grant"
)

// unrecoverable are the codes after which retrying cannot help: the
// authorization was revoked or the security profile configuration is wrong.
var unrecoverable = map[string]bool{
	codeInvalidGrant:            true,
	"invalid_request":           true,
	"invalid_client":            true,
	"unauthorized_client":       true,
	"unsupported_grant_type":    true,
	"unsupported_response_type": true,
	"invalid_scope":             true,
	"InvalidValue":              true,
}

// Error is an error answer from LWA: an HTTP status and, when the body was
// LWA's JSON, its "error" and "error_description".
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is the "error" field ("" when the body was not an LWA error object).
	Code string
	// Description is the "error_description" field.
	Description string
}

// Error describes the failure without any secret.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "login with amazon: HTTP %d", e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	return Redact(b.String())
}

// Temporary reports whether the request may succeed later (5xx, 429).
func (e *Error) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

// Unrecoverable reports whether the error means the hub must be linked again
// or its configuration fixed (revoked grant, wrong client id, …).
func (e *Error) Unrecoverable() bool {
	if e.Temporary() {
		return false
	}
	if unrecoverable[e.Code] {
		return true
	}
	// Any other 4xx without a known polling code is a configuration problem too.
	return e.Status >= 400 && e.Status < 500 && !pollingCode(e.Code)
}

func pollingCode(code string) bool {
	switch code {
	case codeAuthorizationPending, codeSlowDown, codeInvalidCodePair, codeExpiredToken, codeAccessDenied:
		return true
	}
	return false
}

// maxTokenLen bounds tokens and codes: LWA tokens are at most 2048 bytes.
const maxTokenLen = 4096

// maxBody bounds what we read from LWA.
const maxBody = 64 << 10

// parseError decodes an LWA error answer. It never fails: a body that is not
// LWA JSON gives an Error with only the status.
func parseError(status int, body []byte) *Error {
	e := &Error{Status: status}
	var v struct {
		Error       any `json:"error"`
		Description any `json:"error_description"`
	}
	if json.Unmarshal(body, &v) == nil {
		e.Code = shortString(v.Error, 64)
		e.Description = shortString(v.Description, 300)
	}
	return e
}

// shortString returns v if it is a string, without control characters and
// cut to n characters.
func shortString(v any, n int) string {
	s, _ := v.(string)
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return model.Abbreviate(s, n)
}

// parseToken decodes a successful token answer; now stamps the expiry.
// needRefresh requires a refresh token (device_code grant).
func parseToken(body []byte, now time.Time, needRefresh bool) (*oauth2.Token, error) {
	var v struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    *int64 `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("login with amazon: token response is not JSON: %w", RedactError(err))
	}
	switch {
	case v.AccessToken == "":
		return nil, errors.New("login with amazon: token response has no access_token")
	case len(v.AccessToken) > maxTokenLen || len(v.RefreshToken) > maxTokenLen:
		return nil, errors.New("login with amazon: token response has an oversized token")
	case needRefresh && v.RefreshToken == "":
		return nil, errors.New("login with amazon: token response has no refresh_token")
	case v.ExpiresIn == nil || *v.ExpiresIn <= 0 || *v.ExpiresIn > 366*24*3600:
		return nil, errors.New("login with amazon: token response has no valid expires_in")
	case v.TokenType != "" && !strings.EqualFold(v.TokenType, "bearer"):
		return nil, fmt.Errorf("login with amazon: token type %q is not bearer", shortString(v.TokenType, 20))
	}
	return &oauth2.Token{
		AccessToken:  v.AccessToken,
		RefreshToken: v.RefreshToken,
		TokenType:    "Bearer",
		ExpiresIn:    *v.ExpiresIn,
		Expiry:       now.Add(time.Duration(*v.ExpiresIn) * time.Second),
	}, nil
}

// codePair is LWA's answer to /auth/o2/create/codepair.
type codePair struct {
	UserCode        string
	DeviceCode      string
	VerificationURI string
	Expiry          time.Time
	ExpiresIn       time.Duration
	Interval        time.Duration
}

// parseCodePair decodes a code pair; it rejects the answer as the AVS SDK does
// when a code or the URI is missing or expires_in is not positive.
func parseCodePair(body []byte, now time.Time) (*codePair, error) {
	var v struct {
		UserCode        string `json:"user_code"`
		DeviceCode      string `json:"device_code"`
		VerificationURI string `json:"verification_uri"`
		VerificationURL string `json:"verification_url"`
		ExpiresIn       int64  `json:"expires_in"`
		Interval        int64  `json:"interval"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("login with amazon: code pair response is not JSON: %w", RedactError(err))
	}
	if v.VerificationURI == "" {
		v.VerificationURI = v.VerificationURL
	}
	// The user code is shown to a person: only its printable characters count.
	user := shortString(v.UserCode, 64)
	switch {
	case user == "" || v.DeviceCode == "":
		return nil, errors.New("login with amazon: code pair response lacks a printable user_code or a device_code")
	case len(v.UserCode) > 64 || len(v.DeviceCode) > maxTokenLen:
		return nil, errors.New("login with amazon: code pair response has an oversized code")
	case v.VerificationURI == "":
		return nil, errors.New("login with amazon: code pair response lacks verification_uri")
	case v.ExpiresIn <= 0 || v.ExpiresIn > 24*3600:
		return nil, errors.New("login with amazon: code pair response has no valid expires_in")
	case v.Interval < 0 || v.Interval > 3600:
		return nil, errors.New("login with amazon: code pair response has an invalid interval")
	}
	u, err := url.Parse(v.VerificationURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("login with amazon: code pair verification_uri is not an http(s) URL")
	}
	exp := time.Duration(v.ExpiresIn) * time.Second
	return &codePair{
		UserCode:        user,
		DeviceCode:      v.DeviceCode,
		VerificationURI: v.VerificationURI,
		ExpiresIn:       exp,
		Expiry:          now.Add(exp),
		Interval:        time.Duration(v.Interval) * time.Second,
	}, nil
}

// wire performs LWA requests.
type wire struct {
	client *http.Client
	base   string
}

// post sends a form to LWA. It returns the 2xx body, an *Error for an LWA
// error answer, or a transport error (all redacted).
func (w *wire) post(ctx context.Context, path string, form url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("login with amazon: %w", RedactError(err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("login with amazon: POST %s: %w", path, RedactError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("login with amazon: POST %s: reading response: %w", path, RedactError(err))
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("login with amazon: POST %s: response larger than %d bytes", path, maxBody)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, parseError(resp.StatusCode, body)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "" && mt != "application/json" && !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return nil, fmt.Errorf("login with amazon: POST %s: unexpected content type %q", path, mt)
	}
	return body, nil
}

// Paths on the LWA base URL.
const (
	codePairPath = "/auth/o2/create/codepair"
	tokenPath    = "/auth/o2/token"
)

// Endpoint returns the LWA endpoints under baseURL as an oauth2.Endpoint (for
// code that wants to use golang.org/x/oauth2 directly).
func Endpoint(baseURL string) oauth2.Endpoint {
	baseURL = strings.TrimRight(baseURL, "/")
	return oauth2.Endpoint{
		DeviceAuthURL: baseURL + codePairPath,
		TokenURL:      baseURL + tokenPath,
		AuthStyle:     oauth2.AuthStyleInParams,
	}
}

// retryPolicy is the LWA retry table the AVS SDK uses (CBLAuthDelegate
// calculateTimeToRetry), applied with ±50 % jitter; the last step repeats.
var retryPolicy = backoff.Policy{
	Steps:  []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 10 * time.Second, 30 * time.Second, 60 * time.Second},
	Jitter: backoff.Half,
}

// certError reports whether err is a TLS certificate failure: retrying cannot
// help until the trust store (lwa.caFile) or the URL is fixed.
func certError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he)
}
