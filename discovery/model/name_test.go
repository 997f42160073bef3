package model

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCleanName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"Kitchen Light", 128, "Kitchen Light"},
		{"\u0000\u001b]0;title\u0007\u202eevil", 128, "]0;title evil"},
		{"  Front\tDoor\r\n Lock ", 128, "Front Door Lock"},
		{"a\u200bb\u2066c\u2069\ufeff", 128, "abc"},
		{"bad \xff\xfe utf8", 128, "bad utf8"},
		{"Café ☕ 🏠", 128, "Café ☕ 🏠"},
		{"ééééé", 3, "ééé"},
		{"ab   cd", 4, "ab c"},
		{"ab cd", 3, "ab"},
		{"line\u2028sep", 128, "line sep"},
		{"\u0000\u0001", 128, ""},
		{"unbounded " + strings.Repeat("x", 300), 0, "unbounded " + strings.Repeat("x", 300)},
	} {
		if got := CleanName(tc.in, tc.max); got != tc.want {
			t.Errorf("CleanName(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func FuzzCleanName(f *testing.F) {
	f.Add("\u0000\u001b]0;title\u0007\u202eevil", 128)
	f.Add("Café  ☕\t", 3)
	f.Add("\xff\xfe", 1)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 300
		out := CleanName(s, max)
		if !utf8.ValidString(out) {
			t.Fatalf("%q → invalid UTF-8 %q", s, out)
		}
		if max > 0 && utf8.RuneCountInString(out) > max {
			t.Fatalf("%q → %q longer than %d", s, out, max)
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("%q → %q keeps %U", s, out, r)
			}
		}
		if strings.TrimSpace(out) != out || strings.Contains(out, "  ") {
			t.Fatalf("%q → %q has stray spaces", s, out)
		}
		if again := CleanName(out, max); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", s, out, again)
		}
	})
}
