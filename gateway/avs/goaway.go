package avs

import (
	"crypto/tls"
	"net"
	"sync/atomic"
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
