package config

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"tcp://user:secret@host:1883", "tcp://user:[REDACTED]@host:1883"},
		{"ssl://u:p%40ss@broker.lan:8883/x?y=1", "ssl://u:[REDACTED]@broker.lan:8883/x?y=1"},
		{"tcp://user@host:1883", "tcp://user@host:1883"},
		{"tcp://host:1883", "tcp://host:1883"},
		{"", ""},
		{"dial tcp://user:secret@host:1883: connection refused", "dial tcp://user:[REDACTED]@host:1883: connection refused"},
		{`broker "ws://a:b@h:1/mqtt" and wss://c:d@h2`, `broker "ws://a:[REDACTED]@h:1/mqtt" and wss://c:[REDACTED]@h2`},
		{"mail me: a@b.example", "mail me: a@b.example"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzRedactURL(f *testing.F) {
	f.Add("tcp://user:secret@host:1883")
	f.Add("x ws://a:b@c d")
	f.Fuzz(func(t *testing.T, s string) {
		out := RedactURL(s)
		if RedactURL(out) != out {
			t.Fatalf("not idempotent: %q → %q → %q", s, out, RedactURL(out))
		}
		if !strings.Contains(s, "@") && out != s {
			t.Fatalf("changed a string without userinfo: %q → %q", s, out)
		}
	})
}
