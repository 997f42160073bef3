// Package hexbytes turns the spaced hex of protocol notes ("fe 00 21 01")
// into bytes for the Zigbee packages' tests.
package hexbytes

import (
	"encoding/hex"
	"strings"
	"testing"
)

// Must decodes s, hex with optional spaces, or fails the test.
func Must(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
