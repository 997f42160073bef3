// Package sign is the HMAC the skill's Lambda forwarder puts on every
// directive it forwards to the hub, and the hub checks (gateway/skill).
//
// The header is X-Avshub-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>,
// the MAC taken with the shared secret over "v1:<t>:" followed by the exact
// request body. The timestamp bounds replays to a window (MaxSkew); the hub
// also refuses a signature it has already seen within that window. The package
// has no dependencies beyond the standard library, so the Lambda stays small.
package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header is the HTTP header carrying the signature.
const Header = "X-Avshub-Signature"

// MaxSkew is how far a signature's time may be from the verifier's clock.
const MaxSkew = 5 * time.Minute

// Errors of Verify (wrapped).
var (
	ErrMissing   = errors.New("sign: no signature")
	ErrBad       = errors.New("sign: signature does not match")
	ErrTooOld    = errors.New("sign: signature outside the time window")
	ErrMalformed = errors.New("sign: malformed signature header")
)

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("v1:" + ts + ":"))
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the header value for body signed at time at.
func Sign(secret []byte, at time.Time, body []byte) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// Verify checks header against body and the clock now. It returns the signing
// time on success.
func Verify(secret []byte, header string, body []byte, now time.Time) (time.Time, error) {
	if header == "" {
		return time.Time{}, ErrMissing
	}
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return time.Time{}, ErrMalformed
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return time.Time{}, ErrMalformed
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return time.Time{}, ErrMalformed
	}
	if !hmac.Equal(got, mac(secret, ts, body)) {
		return time.Time{}, ErrBad
	}
	at := time.Unix(sec, 0)
	if d := now.Sub(at); d > MaxSkew || d < -MaxSkew {
		return time.Time{}, fmt.Errorf("%w: signed %s, clock %s", ErrTooOld, at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return at, nil
}
