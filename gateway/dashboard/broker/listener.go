package broker

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
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
	mu             sync.Mutex
	closing        bool
	open           map[*trackedConn]struct{}
}

// newSafeListener serves ln (through TLS when tlsCfg is set) as listener id.
func newSafeListener(id string, ln net.Listener, tlsCfg *tls.Config, server *mqtt.Server, connectTimeout time.Duration) *safeListener {
	if connectTimeout <= 0 {
		connectTimeout = DefaultConnectTimeout
	}
	l := &safeListener{server: server, raw: ln, connectTimeout: connectTimeout, open: map[*trackedConn]struct{}{}}
	var served net.Listener = (*acceptor)(l)
	if tlsCfg != nil {
		served = tls.NewListener(served, tlsCfg)
	}
	l.Net = listeners.NewNet(id, served)
	return l
}

// acceptor is the safeListener seen as the net.Listener mochi accepts from.
type acceptor safeListener

func (a *acceptor) Accept() (net.Conn, error) {
	l := (*safeListener)(a)
	var c net.Conn
	for delay := time.Duration(0); ; {
		var err error
		if c, err = l.raw.Accept(); err == nil {
			break
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, err
		}
		// Out of file descriptors and the like: mochi would stop serving for
		// good; wait and try again, as net/http does.
		delay = min(max(2*delay, 5*time.Millisecond), time.Second)
		time.Sleep(delay)
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	l.open[tc] = struct{}{}
	_ = c.SetDeadline(time.Now().Add(l.connectTimeout)) // CONNECT (and the TLS handshake) in time
	return tc, nil
}

func (a *acceptor) Close() error   { return a.raw.Close() }
func (a *acceptor) Addr() net.Addr { return a.raw.Addr() }

// trackedConn leaves the listener's set when closed.
type trackedConn struct {
	net.Conn
	l *safeListener
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.open, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// Serve accepts connections until the gate is shut.
func (l *safeListener) Serve(establish listeners.EstablishFn) {
	l.Net.Serve(func(id string, c net.Conn) error {
		l.mu.Lock()
		if l.closing {
			l.mu.Unlock()
			return c.Close()
		}
		l.server.Listeners.ClientsWg.Add(1)
		l.mu.Unlock()
		defer l.server.Listeners.ClientsWg.Done()
		return establish(id, c)
	})
}

// shut refuses new connections from now on.
func (l *safeListener) shut() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
}

// Close stops listening, disconnects the listener's clients and closes every
// connection still open (those that have not logged in).
func (l *safeListener) Close(listeners.CloseFn) {
	l.shut()
	l.Net.Close(func(id string) {
		for _, cl := range l.server.Clients.GetAll() { // one read lock, a copy
			if cl.Net.Listener == id && !cl.Closed() {
				_ = l.server.DisconnectClient(cl, packets.ErrServerShuttingDown)
			}
		}
	})
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
