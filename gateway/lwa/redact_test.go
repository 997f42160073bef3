package lwa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"", ""},
		{"plain text, HTTP 503", "plain text, HTTP 503"},
		{"token Atza|IwEBIJx-y_z.9+/=abc end", "token [REDACTED] end"},
		{"Atzr|IwEBIA", "[REDACTED]"},
		{"code Atc|MQEWY", "code [REDACTED]"},
		{"url-encoded Atza%7CIwEB%2Fx&next=1", "url-encoded [REDACTED]&next=1"},
		{"Authorization: Bearer abc.def-123", "Authorization: [REDACTED]"},
		{"authorization: bearer abc", "authorization: [REDACTED]"},
		{"grant_type=device_code&device_code=d3f&user_code=ABC123", "grant_type=device_code&device_code=[REDACTED]&user_code=[REDACTED]"},
		{"refresh_token=xyz&client_id=amzn1", "refresh_token=[REDACTED]&client_id=amzn1"},
		{"client_secret=hunter2 ok", "client_secret=[REDACTED] ok"},
		{`{"access_token":"abc","expires_in":3600}`, `{"access_token":"[REDACTED]","expires_in":3600}`},
		{`{"user_code": "ABC123", "interval":5}`, `{"user_code": "[REDACTED]", "interval":5}`},
		{`{"error":"invalid_grant","error_description":"bad"}`, `{"error":"invalid_grant","error_description":"bad"}`},
		{"status code: 500", "status code: 500"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"token": true, "access_token": true, "refreshToken": true, "code": true, "user_code": true,
		"device_code": true, "userCode": true, "client_secret": true, "Authorization": true, "password": true,
		"status_code": false, "msg": false, "err": false, "expires": false, "attempt": false, "reason": false,
	} {
		if got := SecretKey(key); got != want {
			t.Errorf("SecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

// TestRedactingHandler logs secrets every way slog allows and checks none
// survive, with both the wrapping handler and the ReplaceAttr function.
func TestRedactingHandler(t *testing.T) {
	const secret = "Atza|SECRETSECRET"
	for name, mk := range map[string]func(*bytes.Buffer) *slog.Logger{
		"handler": func(b *bytes.Buffer) *slog.Logger {
			return slog.New(NewRedactingHandler(slog.NewJSONHandler(b, nil)))
		},
		"ReplaceAttr": func(b *bytes.Buffer) *slog.Logger {
			return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{ReplaceAttr: RedactAttr}))
		},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			log := mk(&b).With("token", "plainvalue1").WithGroup("g").With("x", secret)
			log.Info("message with "+secret,
				"code", "ABC123",
				"err", fmt.Errorf("wrapped: %w", errors.New("refresh_token="+secret)),
				"str", stringer("s "+secret),
				"bytes", []byte(secret),
				slog.Group("nested", "user_code", "ABC123", "v", secret),
				"n", 42)
			out := b.String()
			for _, s := range []string{"SECRETSECRET", "plainvalue1", "ABC123"} {
				if strings.Contains(out, s) {
					t.Errorf("output contains %q: %s", s, out)
				}
			}
			for _, s := range []string{"message with", "wrapped:", "42", Redacted} {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q: %s", s, out)
				}
			}
		})
	}
	if h := NewRedactingHandler(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn})); h.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("Enabled ignores the wrapped handler's level")
	}
}

func TestRedactError(t *testing.T) {
	base := errors.New("refresh_token=Atzr|abc failed")
	err := RedactError(fmt.Errorf("outer: %w", base))
	if strings.Contains(err.Error(), "abc") || !errors.Is(err, base) {
		t.Errorf("RedactError = %q (Is base: %v)", err, errors.Is(err, base))
	}
	if RedactError(nil) != nil {
		t.Error("RedactError(nil) != nil")
	}
	if RedactError(err) != err {
		t.Error("RedactError wraps twice")
	}
}
