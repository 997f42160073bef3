package sign

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"directive":{}}`)
	now := time.Unix(1_800_000_000, 0)
	good := Sign(secret, now, body)
	for _, tc := range []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", good, body, now, nil},
		{"valid within the window", good, body, now.Add(MaxSkew), nil},
		{"clock behind the signer", good, body, now.Add(-MaxSkew), nil},
		{"missing", "", body, now, ErrMissing},
		{"another body", good, []byte(`{"directive":{"x":1}}`), now, ErrBad},
		{"another secret", Sign([]byte("another secret of at least thirty-two"), now, body), body, now, ErrBad},
		{"too old", good, body, now.Add(MaxSkew + time.Second), ErrTooOld},
		{"from the future", good, body, now.Add(-MaxSkew - time.Second), ErrTooOld},
		{"no v1", "t=1800000000", body, now, ErrMalformed},
		{"not hex", "t=1800000000,v1=zz", body, now, ErrMalformed},
		{"no equals", "t1800000000", body, now, ErrMalformed},
		{"time not a number", strings.Replace(good, "t=1800000000", "t=soon", 1), body, now, ErrMalformed},
		{"time changed", strings.Replace(good, "t=1800000000", "t=1800000001", 1), body, now, ErrBad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(secret, tc.header, tc.body, tc.now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzVerify: any header and body give an answer, never a panic, and only
// the signer's own header verifies.
func FuzzVerify(f *testing.F) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	f.Add(Sign(secret, now, []byte("x")), []byte("x"))
	f.Add("t=,v1=", []byte(""))
	f.Add("t=1,v1=00,v1=11", []byte("{}"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		_, err := Verify(secret, header, body, now)
		if err == nil && header != Sign(secret, now, body) && !strings.Contains(header, ",") {
			t.Fatalf("a header the signer did not write verified: %q", header)
		}
	})
}
