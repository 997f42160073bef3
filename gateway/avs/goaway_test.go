package avs

import (
	"testing"

	"bytes"
	"golang.org/x/net/http2"
)

// TestGoAwayConnScan feeds real HTTP/2 frames (SETTINGS, DATA, PING, then
// GOAWAY) split at every possible byte boundary and requires GOAWAY to be seen
// exactly when its header has arrived, and never inside a payload that happens
// to hold the byte 0x7.
func TestGoAwayConnScan(t *testing.T) {
	var buf bytes.Buffer
	fr := http2.NewFramer(&buf, nil)
	if err := fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 10}); err != nil {
		t.Fatal(err)
	}
	// A DATA payload full of bytes that look like a GOAWAY header.
	if err := fr.WriteData(1, false, bytes.Repeat([]byte{0, 0, 8, frameGoAway, 0, 0, 0, 0, 0}, 30)); err != nil {
		t.Fatal(err)
	}
	if err := fr.WritePing(false, [8]byte{7, 7, 7, 7, 7, 7, 7, 7}); err != nil {
		t.Fatal(err)
	}
	before := buf.Len()
	if err := fr.WriteGoAway(3, http2.ErrCodeNo, nil); err != nil {
		t.Fatal(err)
	}
	stream := buf.Bytes()
	for split := 0; split <= len(stream); split++ {
		c := &goAwayConn{}
		c.scan(stream[:split])
		if want := split >= before+9; c.goneAway() != want {
			t.Fatalf("split at %d: goneAway = %v before the rest, want %v", split, c.goneAway(), want)
		}
		c.scan(stream[split:])
		if !c.goneAway() {
			t.Fatalf("split at %d: GOAWAY not seen", split)
		}
	}
	c := &goAwayConn{}
	c.scan(stream[:before])
	if c.goneAway() {
		t.Fatal("GOAWAY seen in frames without one")
	}
}
