package model

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTextLen bounds the other texts a bridge gives about a device
// (manufacturer, model), in characters.
const MaxTextLen = 128

// CleanName returns a name a peer gave (a bridge, a device, an MQTT message)
// fit to show to Alexa, on a page or in a terminal: invalid UTF-8 and
// control characters become spaces, bidirectional and other invisible
// formatting characters (which reorder or hide what a reader sees) are
// removed, runs of spaces become one, the ends are trimmed, and the result is
// cut to at most max characters (runes; max <= 0 keeps any length). Bridges
// may use it for names they build; the hub applies it to every name a bridge reports.
func CleanName(s string, max int) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r == '\t' || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
			r == '\u2028' || r == '\u2029' {
			clean = false
			break
		}
	}
	if clean && !strings.Contains(s, "  ") && strings.TrimSpace(s) == s && (max <= 0 || utf8.RuneCountInString(s) <= max) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space, n := false, 0
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				r = ' ' // an invalid byte
			}
		}
		switch {
		case unicode.Is(unicode.Cf, r): // bidi controls, zero-width characters, BOM
			continue
		case unicode.IsControl(r), unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if max > 0 && n+btoi(space) >= max {
			break
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CleanEndpoint returns e with its friendly name, description, manufacturer
// and model cleaned by CleanName (each cut to Alexa's limit for it).
func CleanEndpoint(e Endpoint) Endpoint {
	e.FriendlyName = CleanName(e.FriendlyName, MaxFriendlyNameLen)
	e.Description = CleanName(e.Description, MaxDescriptionLen)
	e.Manufacturer = CleanName(e.Manufacturer, MaxTextLen)
	e.Model = CleanName(e.Model, MaxTextLen)
	return e
}
