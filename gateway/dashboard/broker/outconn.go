package broker

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// outConn is a client's connection as mochi sees it: its own outbound
// buffer, in bytes, between mochi's write path and the socket. A Write
// copies the packets mochi encoded into the buffer and returns at once; the
// connection's writer goroutine writes them to the socket, in order.
//
// Mochi (v2.7.9) writes to the connection while it holds the client's lock,
// and takes that lock to number each QoS 1/2 message it delivers to the
// client: with the socket written directly, a client that reads slowly or
// not at all held every publisher with a message for it, up to the write's
// stall time. Here mochi's writes never wait on the client, so no publisher
// does; what waits for the client is bounded in bytes:
//
//   - the outbound hook lets a message into the buffer (the read ACL check,
//     before mochi copies it into the client's in-flight store and queue)
//     only while the client's buffer is under MaxOutboundBytes and all
//     buffers under MaxOutboundBytesTotal; one message always goes into an
//     empty buffer. A message refused there was never the client's (not in
//     flight, not numbered): the client's session and the other clients'
//     deliveries are unaffected.
//   - other packets (acknowledgements, SUBACKs, PINGRESPs) always go in, up
//     to hardMax: a client that is not the hub's own and sends packets while
//     reading none past that is disconnected; the hub's own clients (exempt
//     from the budgets) wait for room instead, as on a socket.
//   - the messages mochi resends when a kept session's client comes back
//     (PUBLISHes with DUP set) always go in, and the hard bound is on what
//     else is buffered: they are the session's in-flight messages, bounded
//     by the queue budgets (MaxQueueBytes, MaxQueueBytesTotal) and
//     maxInflight, and mochi (v2.7.9) writes them all at once, before it
//     reads the client. Held to hardMax, a session larger than it ended the
//     connection at every return of its client, which never got its messages.
//   - a write to the socket that makes no progress for the stall time ends
//     the connection (trackedConn.Write).
//
// Close writes what is buffered (a CONNACK or DISCONNECT with its reason
// code) within closeFlush before closing the socket; reads fail at once.
type outConn struct {
	net.Conn
	// total counts the bytes buffered by every outConn of the listener but
	// the hub's own clients'.
	total   *atomic.Int64
	hardMax int

	mu      sync.Mutex
	room    sync.Cond // signalled when bytes leave the buffer or the connection ends
	bufs    [][]byte  // packets (as written by mochi) not yet written to the socket
	n       int       // bytes in bufs
	resent  int       // bytes of resent PUBLISHes (isResend) in bufs, not held to hardMax
	in      int64     // bytes ever put in bufs
	writing int       // bytes of bufs[0] while the writer writes it to the socket
	exempt  bool      // a hub client: not in total, Write waits for room past hardMax
	failed  error     // the socket failed (or the buffer overflowed): what is buffered is dropped
	closing bool      // Close was called: the writer writes what is left, then closes the socket
	since   time.Time // when the socket last took a packet, or the buffer was last empty
	flush   *time.Timer

	wake chan struct{} // a packet was buffered, or the connection ends
	// scans lets one client at a time have the retained messages matching
	// a wildcard filter delivered (shared by the listener's connections);
	// scanning is set while this client holds it.
	scans     chan struct{}
	scanning  atomic.Bool
	closed    chan struct{} // closed by Close
	closeOnce sync.Once
	done      chan struct{} // the writer has ended
}

// hardMaxSlack is the room an outbound buffer keeps beyond what its budget
// lets in, for the packets that answer the client's (acknowledgements).
const hardMaxSlack = 64 << 10

// closeFlush is how long a closed connection may take to write what was
// buffered before it (the CONNACK of a refused login, a DISCONNECT).
const closeFlush = time.Second

// errOutboundOverflow ends a connection whose outbound buffer passed its
// hard bound: the client sends packets and reads none of the answers.
var errOutboundOverflow = errors.New("mqtt broker: client reads nothing while its outbound buffer is full")

// newOutConn wraps c with an outbound buffer of hardMax bytes at most
// (counted in total) and starts its writer.
func newOutConn(c net.Conn, total *atomic.Int64, hardMax int, scans chan struct{}) *outConn {
	o := &outConn{Conn: c, total: total, hardMax: hardMax, since: time.Now(), scans: scans,
		wake: make(chan struct{}, 1), done: make(chan struct{}), closed: make(chan struct{})}
	o.room.L = &o.mu
	go o.writer()
	return o
}

// Write buffers a copy of p for the writer and returns at once. Past
// hardMax a hub client's Write waits for room; any other client's
// connection is closed. One packet always goes into an empty buffer.
func (o *outConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	resend := isResend(p)
	over := func() bool { rest := o.n - o.resent; return !resend && rest > 0 && rest+len(p) > o.hardMax }
	for o.failed == nil && !o.closing && o.exempt && over() {
		o.room.Wait()
	}
	if o.failed == nil && !o.closing && over() {
		o.failLocked(errOutboundOverflow)
	}
	switch {
	case o.failed != nil:
		return 0, o.failed
	case o.closing:
		return 0, net.ErrClosed
	}
	if o.n == 0 {
		o.since = time.Now()
	}
	o.bufs = append(o.bufs, append([]byte(nil), p...))
	o.n += len(p)
	if resend {
		o.resent += len(p)
	}
	o.in += int64(len(p))
	if !o.exempt {
		o.total.Add(int64(len(p)))
	}
	o.signal()
	return len(p), nil
}

func (o *outConn) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// writer writes the buffered packets to the socket, in order, until the
// socket fails or the connection is closed (then once what is left is written).
func (o *outConn) writer() {
	defer close(o.done)
	defer func() { _ = o.Conn.Close() }()
	for range o.wake {
		for {
			o.mu.Lock()
			if o.failed != nil || (o.closing && len(o.bufs) == 0) {
				o.dropLocked()
				if o.flush != nil {
					o.flush.Stop()
				}
				o.mu.Unlock()
				return
			}
			if len(o.bufs) == 0 {
				o.mu.Unlock()
				break
			}
			b := o.bufs[0]
			o.writing = len(b)
			o.mu.Unlock()
			_, err := o.Conn.Write(b)
			o.mu.Lock()
			o.bufs[0] = nil
			o.bufs = o.bufs[1:]
			o.n -= len(b)
			if isResend(b) {
				o.resent -= len(b)
			}
			o.writing = 0
			if !o.exempt {
				o.total.Add(-int64(len(b)))
			}
			o.since = time.Now()
			if err != nil {
				o.failLocked(err)
			}
			o.room.Broadcast()
			o.mu.Unlock()
		}
	}
}

// failLocked ends the connection with err (the first error stays); o.mu is held.
func (o *outConn) failLocked(err error) {
	if o.failed == nil {
		o.failed = err
	}
	o.room.Broadcast()
	o.signal()
}

// dropLocked forgets what is buffered; o.mu is held.
func (o *outConn) dropLocked() {
	if !o.exempt {
		o.total.Add(-int64(o.n))
	}
	clear(o.bufs)
	o.bufs, o.n, o.resent, o.writing = nil, 0, 0, 0
}

// isResend reports whether p, a packet as mochi writes it, is a PUBLISH
// with DUP set: mochi (v2.7.9) sets DUP only on the in-flight messages it
// resends when a kept session's client comes back (the broker clears it on
// incoming publications, OnPublish).
func isResend(p []byte) bool {
	return len(p) > 0 && p[0]&0xf0 == 0x30 && p[0]&0x08 != 0
}

// Close ends reads at once, and closes the socket once what is buffered
// is written (the socket is closed after closeFlush at the latest).
func (o *outConn) Close() error {
	o.closeOnce.Do(func() {
		close(o.closed)
		o.endScan()
		_ = o.Conn.SetReadDeadline(time.Unix(1, 0))
		o.mu.Lock()
		defer o.mu.Unlock()
		o.closing = true
		o.flush = time.AfterFunc(closeFlush, func() { _ = o.Conn.Close() })
		o.room.Broadcast()
		o.signal()
	})
	return nil
}

// buffered is the number of bytes waiting for the socket, those of the
// packet being written to it, and how long the socket has taken nothing
// (0 when nothing is buffered).
func (o *outConn) buffered(now time.Time) (waiting, writing int, stalled time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == 0 {
		return 0, 0, 0
	}
	return o.n - o.writing, o.writing, now.Sub(o.since)
}

// written is the number of bytes ever put in the buffer.
func (o *outConn) written() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.in
}

// setExempt takes a hub client's connection out of the budgets: its bytes
// leave the total, and past hardMax its writes wait for room.
func (o *outConn) setExempt() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.exempt {
		o.exempt = true
		o.total.Add(-int64(o.n))
	}
}

// SetDeadline sets the read deadline (trackedConn's); once the connection
// is closing, reads stay ended. Mochi sets the keep-alive deadline before
// each read, once the client's previous packet is processed: a retained
// scan the client held (its SUBSCRIBE's) has ended.
func (o *outConn) SetDeadline(t time.Time) error {
	o.endScan()
	o.mu.Lock()
	closing := o.closing
	o.mu.Unlock()
	if closing {
		t = time.Unix(1, 0)
	}
	return o.Conn.SetDeadline(t)
}

// startScan waits until no other client has retained messages delivered
// for a wildcard filter (or the connection closes), and holds that turn
// until the client's SUBSCRIBE is processed (the next SetDeadline).
//
// Mochi (v2.7.9) collects every retained message matching the filter into
// a slice (a copy of each packet, about 800 bytes besides the payload) and
// copies each again, payload and all, before the read ACL check where the
// outbound budget drops what does not fit: a subscription to '#' over a
// full retained store (MaxRetainedBytes) costs about twice the store while
// it runs. One at a time, that transient memory is bounded whatever the
// number of clients subscribing at once.
func (o *outConn) startScan() {
	if o.scans == nil || o.scanning.Load() {
		return
	}
	select {
	case o.scans <- struct{}{}:
		o.scanning.Store(true)
	case <-o.closed:
	}
}

// endScan gives the retained-delivery turn back, if this client held it.
func (o *outConn) endScan() {
	if o.scanning.CompareAndSwap(true, false) {
		<-o.scans
	}
}
