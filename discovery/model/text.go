package model

import "unicode/utf8"

// Truncate returns s cut to at most n runes, never inside a UTF-8 sequence.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n {
			return s[:k]
		}
		i++
	}
	return s
}

// Abbreviate is Truncate with "…" appended when s was cut (for logs and messages).
func Abbreviate(s string, n int) string {
	if t := Truncate(s, n); len(t) < len(s) {
		return t + "…"
	}
	return s
}
