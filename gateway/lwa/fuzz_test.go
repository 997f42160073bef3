package lwa

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var fuzzNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// FuzzParseToken feeds arbitrary token answers to the parser: it must not
// panic, and what it accepts must be usable.
func FuzzParseToken(f *testing.F) {
	f.Add([]byte(`{"access_token":"Atza|IwEB","refresh_token":"Atzr|IwEB","token_type":"bearer","expires_in":3600}`), true)
	f.Add([]byte(`{"access_token":"Atza|IwEB","token_type":"bearer","expires_in":3600}`), false)
	f.Add([]byte(`{"access_token":"Atza|IwEB","token_type":"mac","expires_in":3600}`), false)
	f.Add([]byte(`{"access_token":"x","expires_in":-1}`), false)
	f.Add([]byte(`{"access_token":"x","expires_in":"3600"}`), false)
	f.Add([]byte(`{"access_token":"x","expires_in":1e99}`), false)
	f.Add([]byte(`[]`), true)
	f.Add([]byte(`null`), true)
	f.Add([]byte{0xff, '{'}, true)
	f.Fuzz(func(t *testing.T, body []byte, needRefresh bool) {
		tok, err := parseToken(body, fuzzNow, needRefresh)
		if err != nil {
			if tok != nil {
				t.Fatal("token with error")
			}
			if strings.Contains(err.Error(), "Atz") {
				t.Fatalf("error leaks a token shape: %v", err)
			}
			return
		}
		if tok.AccessToken == "" || tok.ExpiresIn <= 0 || !tok.Expiry.After(fuzzNow) || (needRefresh && tok.RefreshToken == "") {
			t.Fatalf("accepted an unusable token: %+v", tok)
		}
		if len(tok.AccessToken) > maxTokenLen || len(tok.RefreshToken) > maxTokenLen {
			t.Fatal("accepted an oversized token")
		}
	})
}

// FuzzParseCodePair: no panic; accepted pairs have codes, an http(s) URI, a
// positive lifetime and a sane interval.
func FuzzParseCodePair(f *testing.F) {
	f.Add([]byte(`{"user_code":"ABC123","device_code":"d","verification_uri":"https://amazon.com/us/code","expires_in":600,"interval":30}`))
	f.Add([]byte(`{"user_code":"ABC123","device_code":"d","verification_url":"https://amazon.com/us/code","expires_in":600}`))
	f.Add([]byte(`{"user_code":"ABC123","device_code":"d","verification_uri":"javascript:alert(1)","expires_in":600}`))
	f.Add([]byte(`{"user_code":"ABC123","device_code":"d","verification_uri":"https://x","expires_in":0}`))
	f.Add([]byte(`{"user_code":"\u0000\n","device_code":"d","verification_uri":"https://x","expires_in":1,"interval":-5}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cp, err := parseCodePair(body, fuzzNow)
		if err != nil {
			return
		}
		if cp.UserCode == "" || cp.DeviceCode == "" || cp.ExpiresIn <= 0 || cp.Interval < 0 || !cp.Expiry.After(fuzzNow) {
			t.Fatalf("accepted an unusable code pair: %+v", cp)
		}
		if !strings.HasPrefix(cp.VerificationURI, "http") {
			t.Fatalf("accepted URI %q", cp.VerificationURI)
		}
		if strings.ContainsFunc(cp.UserCode, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("user code %q has control characters (it is printed to a terminal)", cp.UserCode)
		}
	})
}

// FuzzParseError: any status and body give an *Error whose fields are short
// printable strings and whose message hides token shapes.
func FuzzParseError(f *testing.F) {
	f.Add(400, []byte(`{"error":"invalid_grant","error_description":"The request has an invalid grant parameter : refresh_token"}`))
	f.Add(400, []byte(`{"error":"authorization_pending"}`))
	f.Add(503, []byte(`<html>Service Unavailable</html>`))
	f.Add(400, []byte(`{"error":42,"error_description":{"x":1}}`))
	f.Add(400, []byte(`{"error":"x","error_description":"leaked Atza|secret\u0007"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := parseError(status, body)
		if e.Status != status || len(e.Code) > 64+len("…") || len(e.Description) > 300+len("…") {
			t.Fatalf("bad error %+v", e)
		}
		msg := e.Error()
		if strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("control characters in %q", msg)
		}
		if tokenShape.MatchString(msg) {
			t.Fatalf("token shape in %q", msg)
		}
		_ = e.Unrecoverable()
		_ = e.Temporary()
	})
}

// FuzzRedact: the output never holds a token shape, and redacting twice
// changes nothing more.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"Atza|abc", "x Bearer y", "user_code=ABC&device_code=D", `{"refresh_token":"a\"b"}`, "Atza%7cabc", "bearer bearer bearer x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		r := Redact(s)
		if tokenShape.MatchString(r) {
			t.Fatalf("Redact(%q) = %q still holds a token shape", s, r)
		}
		if rr := Redact(r); rr != r {
			t.Fatalf("not idempotent: %q → %q → %q", s, r, rr)
		}
	})
}
