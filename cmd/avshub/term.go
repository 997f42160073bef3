package main

import (
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"
)

// termWriter escapes, in what the CLI prints for a person, every character
// that would act on the terminal instead of being shown: control characters
// but newline and tab (an escape sequence could retitle the window or move
// the cursor), bidi and other formatting characters (they reorder a line),
// and invalid UTF-8. They become \x1b, \u202e and the like. The hub cleans
// names as they enter; this guards against anything that still carries them
// (an older hub, an error text).
type termWriter struct {
	w     io.Writer
	carry []byte // an incomplete UTF-8 sequence from the previous Write
}

func newTermWriter(w io.Writer) *termWriter { return &termWriter{w: w} }

func (t *termWriter) Write(p []byte) (int, error) {
	buf := append(t.carry, p...)
	t.carry = nil
	out := make([]byte, 0, len(buf))
	for i := 0; i < len(buf); {
		if !utf8.FullRune(buf[i:]) {
			t.carry = append([]byte(nil), buf[i:]...)
			break
		}
		r, size := utf8.DecodeRune(buf[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out = fmt.Appendf(out, `\x%02x`, buf[i])
		case r == '\n' || r == '\t':
			out = append(out, byte(r))
		case r < 0x80 && unicode.IsControl(r):
			out = fmt.Appendf(out, `\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, buf[i:i+size]...)
		}
		i += size
	}
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
