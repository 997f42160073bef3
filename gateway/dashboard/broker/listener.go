package broker

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avshub/avshub/discovery/backoff"
	"github.com/avshub/avshub/internal/mochiclose"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// safeListener is the broker's TCP (or TLS) listener, made safe to close
// while clients come and go, against connections that never log in, and
// against a failed accept. Mochi (v2.7.9) has five bugs there: its client
// enumeration on close (Clients.GetByListener) takes the clients' read lock
// twice, which blocks forever when a client disconnects at that moment; each
// connection adds to the listeners' WaitGroup from its own goroutine, racing
// with the Wait in Server.Close; it waits for CONNECT without a deadline, so a
// connection that sends nothing holds a goroutine for ever and Server.Close
// waits for it; a connection accepted while the listener closes is neither
// served nor closed; and any accept error (out of file descriptors) ends the
// listener for good. Here every accepted connection is tracked and must send
// CONNECT within connectTimeout (mochi then sets the keep-alive deadline); a
// failed accept is retried; connections are counted in that WaitGroup before
// they start, under a gate that Close shuts first; clients are enumerated
// with one lock; and Close closes every connection still open once the
// clients were told.
type safeListener struct {
	*listeners.Net
	server *mqtt.Server
	raw    net.Listener

	connectTimeout time.Duration
	// writeStall is how long a write to a client's socket may make no
	// progress before the connection is closed.
	writeStall time.Duration
	log        *slog.Logger
	// buffered counts the bytes in the connections' outbound buffers
	// (outConn), hardMax bounds each.
	buffered *atomic.Int64
	hardMax  int
	// scans lets one client at a time have retained messages delivered for a wildcard filter.
	scans   chan struct{}
	gate    *mochiclose.Gate // counts each connection before mochi does; shut as the broker closes
	mu      sync.Mutex
	open    map[*trackedConn]struct{}
	pending int // connections not yet answered a CONNACK
}

// newSafeListener serves ln (through TLS when tlsCfg is set) as listener id.
func newSafeListener(id string, ln net.Listener, tlsCfg *tls.Config, server *mqtt.Server, connectTimeout, writeStall time.Duration, log *slog.Logger) *safeListener {
	if connectTimeout <= 0 {
		connectTimeout = DefaultConnectTimeout
	}
	if writeStall <= 0 {
		writeStall = defaultOutboundStall
	}
	l := &safeListener{server: server, raw: ln, connectTimeout: connectTimeout, writeStall: writeStall, log: log,
		gate: mochiclose.NewGate(server), open: map[*trackedConn]struct{}{}, buffered: new(atomic.Int64), scans: make(chan struct{}, 1)}
	var served net.Listener = (*acceptor)(l)
	if tlsCfg != nil {
		served = tls.NewListener(served, tlsCfg)
	}
	l.Net = listeners.NewNet(id, served)
	return l
}

// acceptor is the safeListener seen as the net.Listener mochi accepts from.
type acceptor safeListener

// acceptRetry is the wait before accepting again after a failed accept.
var acceptRetry = backoff.Policy{Min: 5 * time.Millisecond, Max: time.Second}

func (a *acceptor) Accept() (net.Conn, error) {
	l := (*safeListener)(a)
	var c net.Conn
	for retry := 1; ; retry++ {
		var err error
		if c, err = l.raw.Accept(); err == nil {
			break
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, err
		}
		// Out of file descriptors and the like: mochi would stop serving for
		// good; wait and try again, as net/http does.
		time.Sleep(acceptRetry.Delay(retry))
	}
	tc := &trackedConn{Conn: c, l: l, pending: true}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gate.IsShut() {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	if l.pending >= maxPendingLogins {
		// Refused at once, and without an error (mochi would stop accepting).
		l.log.Warn("MQTT connection refused: too many connections have not logged in yet",
			"max", maxPendingLogins, "remote", c.RemoteAddr().String())
		_ = c.Close()
		tc = &trackedConn{Conn: closedConn{c}, l: l}
		return tc, nil
	}
	l.pending++
	l.open[tc] = struct{}{}
	_ = c.SetDeadline(time.Now().Add(l.connectTimeout)) // CONNECT (and the TLS handshake) in time
	return tc, nil
}

func (a *acceptor) Close() error   { return a.raw.Close() }
func (a *acceptor) Addr() net.Addr { return a.raw.Addr() }

// trackedConn leaves the listener's set when closed. Until the broker first
// writes to it (the CONNACK) it is pending: it counts towards
// maxPendingLogins, and the fixed header of its first packet is read here, as
// the bytes pass, so a CONNECT larger than maxConnectSize ends the connection
// before mochi allocates room for it.
type trackedConn struct {
	net.Conn
	l *safeListener

	pending bool // guarded by l.mu
	header  fixedHeader
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.open, c)
	c.loggedIn()
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// loggedIn ends the pending state; l.mu must be held.
func (c *trackedConn) loggedIn() {
	if c.pending {
		c.pending = false
		c.l.pending--
	}
}

// Write marks the connection answered (mochi's first write is the CONNACK)
// and writes p; a write that makes no progress for the listener's
// writeStall closes the connection. Mochi (v2.7.9) holds the client's lock
// while it writes, and takes it to number each QoS 1/2 message for the
// client: a write blocked for good (a client that never reads) would hold
// every publisher with a message for that client.
func (c *trackedConn) Write(p []byte) (int, error) {
	c.l.mu.Lock()
	c.loggedIn()
	c.l.mu.Unlock()
	total := 0
	for {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.l.writeStall))
		n, err := c.Conn.Write(p[total:])
		total += n
		var ne net.Error
		if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			return total, err
		}
		if n > 0 {
			continue // it took some: a slow reader, not a stuck one
		}
		c.l.log.Warn("MQTT connection closed: the client has taken nothing written to it for the stall time",
			"remote", c.RemoteAddr().String(), "stall", c.l.writeStall, "unwritten_bytes", len(p)-total)
		_ = c.Close()
		return total, err
	}
}

// SetDeadline sets the read deadline only: mochi sets both at each packet
// read (the keep-alive), which would lift the bound Write keeps on a stuck write.
func (c *trackedConn) SetDeadline(t time.Time) error { return c.Conn.SetReadDeadline(t) }

// errConnectTooLarge ends a connection whose CONNECT exceeds maxConnectSize.
var errConnectTooLarge = errors.New("mqtt broker: CONNECT packet too large")

// Read passes the bytes on, checking the first packet's announced length.
func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.header.done && n > 0 {
		c.header.feed(p[:n])
		if c.header.done && c.header.remaining > maxConnectSize {
			c.l.log.Warn("MQTT connection closed: its first packet is larger than a CONNECT may be",
				"bytes", c.header.remaining, "max", maxConnectSize, "remote", c.RemoteAddr().String())
			_ = c.Close()
			return 0, errConnectTooLarge
		}
	}
	return n, err
}

// fixedHeader decodes an MQTT fixed header fed in pieces: a type byte, then
// the remaining length, 1 to 4 bytes of 7 bits each.
type fixedHeader struct {
	done      bool
	seen      int // bytes of the header seen
	remaining int
}

func (h *fixedHeader) feed(p []byte) {
	for _, b := range p {
		if h.done {
			return
		}
		if h.seen > 0 {
			h.remaining |= int(b&0x7f) << (7 * (h.seen - 1))
			if b&0x80 == 0 || h.seen == 4 { // a fifth length byte is malformed: mochi refuses it
				h.done = true
			}
		}
		h.seen++
	}
}

// closedConn is a connection refused at accept: reads and writes fail at once.
type closedConn struct{ net.Conn }

func (closedConn) Read([]byte) (int, error)  { return 0, net.ErrClosed }
func (closedConn) Write([]byte) (int, error) { return 0, net.ErrClosed }

// Serve accepts connections until the gate is shut.
func (l *safeListener) Serve(establish listeners.EstablishFn) {
	l.Net.Serve(l.gate.Establish(func(id string, c net.Conn) error {
		// Mochi logs an establish error as a WARN without a message, once per
		// connection that ends without DISCONNECT: a flood from any client.
		// Refusals worth a warning were logged with their reason already.
		// mochi writes to the client through its outbound buffer.
		if err := establish(id, newOutConn(c, l.buffered, l.hardMax, l.scans)); err != nil {
			l.log.Debug("MQTT connection ended", "error", err, "remote", c.RemoteAddr().String())
		}
		return nil
	}))
}

// shut refuses new connections from now on.
func (l *safeListener) shut() { l.gate.Shut() }

// Close stops listening, disconnects the listener's clients and closes every
// connection still open (those that have not logged in).
func (l *safeListener) Close(listeners.CloseFn) {
	l.shut()
	l.Net.Close(mochiclose.Clients(l.server))
	l.mu.Lock()
	open := make([]*trackedConn, 0, len(l.open))
	for c := range l.open {
		open = append(open, c)
	}
	l.mu.Unlock()
	for _, c := range open {
		_ = c.Close()
	}
}
