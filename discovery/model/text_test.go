package model

import (
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
		abbr string
	}{
		{"Küche", 2, "Kü", "Kü…"},
		{"Küche", 5, "Küche", "Küche"},
		{"Küche", 9, "Küche", "Küche"},
		{"日本語のライト", 3, "日本語", "日本語…"},
		{"ab", 0, "", "…"},
		{"", 3, "", ""},
	} {
		if got := Truncate(c.in, c.n); got != c.want || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
		if got := Abbreviate(c.in, c.n); got != c.abbr {
			t.Errorf("Abbreviate(%q, %d) = %q, want %q", c.in, c.n, got, c.abbr)
		}
	}
}
