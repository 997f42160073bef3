package lwa

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"

	"github.com/avshub/avshub/gateway/config"
)

// Redacted replaces secret text in logs and errors.
const Redacted = "[REDACTED]"

// tokenShape matches LWA tokens and codes wherever they appear: access tokens
// (Atza|…), refresh tokens (Atzr|…), authorization codes (Atc|…), their
// URL-encoded forms (Atza%7C…), and bearer credentials.
var tokenShape = regexp.MustCompile(`At[a-z]{1,2}(?:\||%7[Cc])[A-Za-z0-9\-_.~+/=|%]*|(?i:\bbearer\s+)[A-Za-z0-9\-_.~+/=|%]+`)

// secretNames are the parameter names whose values are secrets.
const secretNames = `access_token|refresh_token|device_code|user_code|client_secret|code|token|password`

// formSecret matches name=value pairs of form bodies and URLs.
var formSecret = regexp.MustCompile(`(?i)\b((?:` + secretNames + `)=)[^&\s"',;]+`)

// jsonSecret matches "name":"value" pairs of JSON echoed into errors.
var jsonSecret = regexp.MustCompile(`(?i)("(?:` + secretNames + `)"\s*:\s*")(?:[^"\\]|\\.)*"`)

// Redact returns s with every token-shaped substring, every secret-named
// parameter value and every URL's password replaced by [REDACTED].
func Redact(s string) string {
	// Cheap pre-checks keep ordinary log lines off the regexp engine.
	if strings.Contains(s, "At") && strings.ContainsAny(s, "|%") || containsFold(s, "bearer") {
		s = tokenShape.ReplaceAllString(s, Redacted)
	}
	if strings.Contains(s, "=") {
		s = formSecret.ReplaceAllString(s, "${1}"+Redacted)
	}
	if strings.Contains(s, `"`) && strings.Contains(s, ":") {
		s = jsonSecret.ReplaceAllString(s, "${1}"+Redacted+`"`)
	}
	return config.RedactURL(s) // a password in a URL (mqtt.broker)
}

// containsFold reports whether s contains the lower-case ASCII word sub,
// ignoring case, without allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 != sub[0] {
			continue
		}
		j := 1
		for j < len(sub) && s[i+j]|0x20 == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// SecretKey reports whether a log attribute or form field named key carries a
// secret: anything named like a token, code, secret, password or credential.
func SecretKey(key string) bool {
	k := strings.ToLower(key)
	if k == "code" || strings.HasSuffix(k, "_code") || strings.HasSuffix(k, "usercode") || strings.HasSuffix(k, "devicecode") {
		return k != "status_code" && k != "error_code"
	}
	for _, w := range []string{"token", "secret", "password", "passwd", "authorization", "credential", "cookie"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// RedactAttr is a slog.HandlerOptions.ReplaceAttr function that hides secrets:
// attributes with a secret name lose their value and every string (including
// the message, errors and Stringers) is passed through Redact.
func RedactAttr(_ []string, a slog.Attr) slog.Attr {
	return redactAttr(a)
}

func redactAttr(a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindGroup {
		attrs := a.Value.Group()
		out := make([]slog.Attr, len(attrs))
		for i, x := range attrs {
			out[i] = redactAttr(x)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	}
	if SecretKey(a.Key) && a.Key != slog.MessageKey {
		return slog.String(a.Key, Redacted)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Redact(v.String()))
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, Redact(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, Redact(x.String()))
		case []byte:
			return slog.String(a.Key, Redact(string(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// RedactingHandler wraps a slog.Handler so no record it passes on carries a
// token: the message and every attribute go through RedactAttr.
type RedactingHandler struct {
	next slog.Handler
}

// NewRedactingHandler wraps next; use it for the hub's root logger (its
// signature fits logging.Options.Redact).
func NewRedactingHandler(next slog.Handler) slog.Handler {
	return &RedactingHandler{next: next}
}

// Enabled reports whether the wrapped handler handles level.
func (h *RedactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle redacts the record and passes it on.
func (h *RedactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs redacts attrs and returns a handler that adds them.
func (h *RedactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = redactAttr(a)
	}
	return &RedactingHandler{next: h.next.WithAttrs(out)}
}

// WithGroup returns a handler that nests further attributes in group name.
func (h *RedactingHandler) WithGroup(name string) slog.Handler {
	return &RedactingHandler{next: h.next.WithGroup(name)}
}

// redactedError keeps the chain of err (errors.Is/As still work) while its
// message is redacted.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// RedactError returns err with a redacted message (nil for nil); errors.Is and
// errors.As still see the original chain.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	var re *redactedError
	if errors.As(err, &re) && re == err {
		return err
	}
	return &redactedError{msg: Redact(err.Error()), err: err}
}
