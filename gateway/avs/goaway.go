package avs

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// frameGoAway is the HTTP/2 GOAWAY frame type (RFC 9113 §6.8).
const frameGoAway = 0x7

// goAwayConn is the connection under the HTTP/2 client; it watches the frame
// headers the server sends for GOAWAY. x/net/http2's own transport reported
// GOAWAY in its connection state (Closing); from Go 1.27 on, that transport wraps
// net/http's HTTP/2 client, whose connection state says only that the connection
// takes no new stream (as it also does when all streams are in use) until it has
// ended, and AVS may keep the downchannel open for a long time after GOAWAY.
// Reading the frame headers is the one signal that means exactly "GOAWAY".
type goAwayConn struct {
	net.Conn
	seen atomic.Bool

	// Only the transport's read loop calls Read, so these need no lock.
	hdr  [9]byte // the current frame header, hn bytes of it read so far
	hn   int
	left int // payload bytes of the current frame still to come

	// Writes: a request's HEADERS frame that a DATA frame follows (an
	// event POST) is held until that DATA is written, so that both leave in
	// one TLS record and one system call (net/http's HTTP/2 client flushes
	// each on its own). A hold lasts at most holdMax.
	wmu  sync.Mutex
	held []byte
	hold *time.Timer
	werr error // a held write that failed, for the next Write
}

// holdMax bounds how long a HEADERS frame waits for its DATA (the body
// writer waits for flow-control credit): it then goes out alone. A variable
// only so that a test of what is joined does not depend on the machine's load.
var holdMax = time.Millisecond

// HTTP/2 frame types and flags (RFC 9113 §6.1, §6.2).
const (
	frameHeaders    = 0x1
	flagEndStream   = 0x1
	flagEndHeaders  = 0x4
	frameHeaderSize = 9
)

// bodyFollows tells whether p is exactly one HEADERS frame of a client
// stream that is complete (END_HEADERS) but does not end the stream: the
// transport writes the request's DATA right after it.
func bodyFollows(p []byte) bool {
	if len(p) < frameHeaderSize || p[3] != frameHeaders {
		return false
	}
	n := int(p[0])<<16 | int(p[1])<<8 | int(p[2])
	id := (uint32(p[5])<<24 | uint32(p[6])<<16 | uint32(p[7])<<8 | uint32(p[8])) &^ (1 << 31)
	return len(p) == frameHeaderSize+n && p[4]&flagEndHeaders != 0 && p[4]&flagEndStream == 0 && id%2 == 1
}

// Write writes p, holding a request's HEADERS for the DATA that follows.
func (c *goAwayConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return 0, c.werr
	}
	if len(c.held) == 0 {
		if !bodyFollows(p) {
			return c.Conn.Write(p)
		}
		c.held = append(c.held, p...)
		if c.hold == nil {
			c.hold = time.AfterFunc(holdMax, c.release)
		} else {
			c.hold.Reset(holdMax)
		}
		return len(p), nil
	}
	c.hold.Stop()
	h := len(c.held)
	buf := append(c.held, p...)
	c.held = buf[:0]
	if cap(buf) > 64<<10 { // a big discovery report: not kept
		c.held = nil
	}
	n, err := c.Conn.Write(buf)
	return max(n-h, 0), err
}

// release writes a held HEADERS frame whose DATA did not come within holdMax.
func (c *goAwayConn) release() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if len(c.held) == 0 || c.werr != nil {
		return
	}
	_, err := c.Conn.Write(c.held)
	c.held = c.held[:0]
	c.werr = err
}

// Read reads from the connection and scans what it read.
func (c *goAwayConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.scan(p[:n])
	return n, err
}

// scan follows the frame boundaries in b (RFC 9113 §4.1: a 9-byte header whose
// first 3 bytes are the payload length and 4th the type).
func (c *goAwayConn) scan(b []byte) {
	for len(b) > 0 {
		if c.left > 0 {
			k := min(c.left, len(b))
			c.left -= k
			b = b[k:]
			continue
		}
		k := copy(c.hdr[c.hn:], b)
		c.hn += k
		b = b[k:]
		if c.hn < len(c.hdr) {
			return
		}
		c.hn = 0
		c.left = int(c.hdr[0])<<16 | int(c.hdr[1])<<8 | int(c.hdr[2])
		if c.hdr[3] == frameGoAway {
			c.seen.Store(true)
		}
	}
}

// goneAway reports whether the server has sent GOAWAY.
func (c *goAwayConn) goneAway() bool { return c.seen.Load() }

// ConnectionState is the TLS state, for the transport's response.TLS.
func (c *goAwayConn) ConnectionState() tls.ConnectionState {
	if tc, ok := c.Conn.(*tls.Conn); ok {
		return tc.ConnectionState()
	}
	return tls.ConnectionState{}
}
