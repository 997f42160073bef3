package main

import (
	"bytes"
	"strings"
	"testing"
	"unicode"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/web"
)

func TestTermWriter(t *testing.T) {
	for in, want := range map[string]string{
		"plain\tline\n":                     "plain\tline\n",
		"\x1b]0;title\x07\u202eLamp":        `\x1b]0;title\x07\u202eLamp`,
		"Café ☕":                            "Café ☕",
		"bad \xff":                          `bad \xff`,
		"\u0085next\u2066isolate\u2069\x00": `\u0085next\u2066isolate\u2069\x00`,
	} {
		var b bytes.Buffer
		// One byte at a time: a character split across writes is still seen whole.
		w := newTermWriter(&b)
		for i := range len(in) {
			if _, err := w.Write([]byte{in[i]}); err != nil {
				t.Fatal(err)
			}
		}
		if b.String() != want {
			t.Errorf("%q printed as %q, want %q", in, b.String(), want)
		}
	}
}

// The status and the endpoint list never put a control or bidi character on
// the terminal, whatever the hub sends.
func TestCLIOutputEscaped(t *testing.T) {
	evil := "\x00\x1b]0;title\x07\u202eevil"
	var out bytes.Buffer
	printStatus(&out, web.Status{Bridges: []web.BridgeStatus{{Name: evil, LastError: evil}}, LeftOut: []string{evil}})
	printEndpoints(&out, []web.Endpoint{{Endpoint: model.Endpoint{FriendlyName: evil, ID: evil}}})
	for _, r := range out.String() {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			t.Fatalf("%U reached the terminal in:\n%s", r, out.String())
		}
	}
	if !strings.Contains(out.String(), `\x1b]0;title\x07\u202eevil`) {
		t.Fatalf("the name is not shown escaped:\n%s", out.String())
	}
}
