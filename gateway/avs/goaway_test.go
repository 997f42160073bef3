package avs

import (
	"bytes"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

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

// writeLog is a net.Conn that records each Write.
type writeLog struct {
	net.Conn
	mu     sync.Mutex
	writes [][]byte
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, append([]byte(nil), p...))
	return len(p), nil
}

func (w *writeLog) got() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([][]byte(nil), w.writes...)
}

// frame is one HTTP/2 frame: type, flags, stream, payload.
func frame(typ, flags byte, stream uint32, payload string) []byte {
	n := len(payload)
	return append([]byte{byte(n >> 16), byte(n >> 8), byte(n), typ, flags,
		byte(stream >> 24), byte(stream >> 16), byte(stream >> 8), byte(stream)}, payload...)
}

func TestWriteJoinsHeadersAndTheirData(t *testing.T) {
	// What is joined, not how soon a held frame leaves (TestHeldHeadersGoOutAlone):
	// under load the test's next Write can come later than holdMax.
	defer func(d time.Duration) { holdMax = d }(holdMax)
	holdMax = time.Minute
	const endStream, endHeaders = 0x1, 0x4
	post := frame(0x1, endHeaders, 3, "hpack")
	data := frame(0x0, endStream, 3, "body")
	get := frame(0x1, endHeaders|endStream, 5, "hpack")
	settings := frame(0x4, 0, 0, "")
	for _, tc := range []struct {
		name   string
		writes [][]byte
		want   [][]byte
	}{
		{"POST: HEADERS then DATA in one write", [][]byte{post, data}, [][]byte{append(append([]byte(nil), post...), data...)}},
		{"GET: HEADERS ending the stream at once", [][]byte{get}, [][]byte{get}},
		{"other frames at once", [][]byte{settings, get}, [][]byte{settings, get}},
		{"what comes after a held HEADERS goes with it", [][]byte{post, settings, data}, [][]byte{append(append([]byte(nil), post...), settings...), data}},
		{"HEADERS without END_HEADERS (CONTINUATION follows) at once", [][]byte{frame(0x1, 0, 7, "h")}, [][]byte{frame(0x1, 0, 7, "h")}},
		{"two frames in one write at once", [][]byte{append(append([]byte(nil), post...), data...)}, [][]byte{append(append([]byte(nil), post...), data...)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &writeLog{}
			c := &goAwayConn{Conn: w}
			for _, p := range tc.writes {
				if n, err := c.Write(p); n != len(p) || err != nil {
					t.Fatalf("Write(%d bytes) = %d, %v", len(p), n, err)
				}
			}
			if got := w.got(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("writes on the wire:\n got %x\nwant %x", got, tc.want)
			}
		})
	}
}

func TestHeldHeadersGoOutAlone(t *testing.T) {
	w := &writeLog{}
	c := &goAwayConn{Conn: w}
	post := frame(0x1, 0x4, 1, "hpack")
	if _, err := c.Write(post); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(w.got()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("a HEADERS frame whose DATA never came was never written")
		}
		time.Sleep(holdMax)
	}
	if got := w.got(); len(got) != 1 || !bytes.Equal(got[0], post) {
		t.Fatalf("writes %x, want the HEADERS frame alone", got)
	}
}
