// Package mqtttest starts a real embedded MQTT broker (mochi-mqtt v2) on a
// loopback port for tests, the way net/http/httptest starts an HTTP server.
//
// The broker speaks MQTT 3.1.1 and 5 over TCP (optionally TLS) and, on request,
// WebSocket. It allows every client unless a username and password are set.
// Restart stops the broker and starts a fresh one on the same ports, so a test
// can take the broker away from its clients and give it back.
package mqtttest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/avshub/avshub/internal/mochiclose"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Options configures a Broker. The zero value is a plain TCP broker that allows
// everyone.
type Options struct {
	// TLS, when set, makes the TCP listener speak TLS (URL scheme ssl://).
	TLS *tls.Config
	// Websocket adds a WebSocket listener (WSURL, path /mqtt or any other).
	Websocket bool
	// Username and Password, when set, are the only credentials accepted.
	Username, Password string
	// KeepRetained carries retained messages over a Restart, like a broker with
	// persistence (Mosquitto with persistence true). Without it a restart loses them.
	KeepRetained bool
	// Logger receives the broker's own log; nil discards it.
	Logger *slog.Logger
}

// Broker is a running embedded broker.
type Broker struct {
	// Addr is the TCP listener's host:port.
	Addr string
	// URL is the broker URL for paho: tcp://host:port (ssl:// with TLS).
	URL string
	// WSURL is the WebSocket URL (ws://host:port/mqtt), when Options.Websocket is set.
	WSURL string

	opts   Options
	wsAddr string

	mu     sync.Mutex
	srv    *mqtt.Server
	kept   []packets.Packet
	serial *serialiseHook
	conns  *connTracker
}

// Start starts a broker on 127.0.0.1 with a free port.
func Start(opts Options) (*Broker, error) {
	b := &Broker{opts: opts, Addr: "127.0.0.1:0"}
	if opts.Websocket {
		// mochi's WebSocket listener cannot report a port chosen by the kernel,
		// so reserve one first.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("mqtttest: reserve websocket port: %w", err)
		}
		b.wsAddr = l.Addr().String()
		_ = l.Close()
		b.WSURL = "ws://" + b.wsAddr + "/mqtt"
	}
	if err := b.start(nil); err != nil {
		return nil, err
	}
	scheme := "tcp"
	if opts.TLS != nil {
		scheme = "ssl"
	}
	b.URL = scheme + "://" + b.Addr
	return b, nil
}

// TB is the part of testing.TB that MustStart uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// MustStart starts a broker for a test and closes it when the test ends.
func MustStart(t TB, opts Options) *Broker {
	t.Helper()
	b, err := Start(opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func (b *Broker) start(retained []packets.Packet) error {
	log := b.opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: log})
	var err error
	if b.opts.Username != "" || b.opts.Password != "" {
		err = srv.AddHook(new(auth.Hook), &auth.Options{Ledger: &auth.Ledger{
			Auth: auth.AuthRules{{Username: auth.RString(b.opts.Username), Password: auth.RString(b.opts.Password), Allow: true}},
			ACL:  auth.ACLRules{{Filters: auth.Filters{"#": auth.ReadWrite}}},
		}})
	} else {
		err = srv.AddHook(new(auth.AllowHook), nil)
	}
	if err != nil {
		return fmt.Errorf("mqtttest: auth hook: %w", err)
	}
	serial := new(serialiseHook)
	if err := srv.AddHook(serial, nil); err != nil {
		return fmt.Errorf("mqtttest: serialise hook: %w", err)
	}
	ln, err := net.Listen("tcp", b.Addr)
	if err != nil {
		return fmt.Errorf("mqtttest: listen on %s: %w", b.Addr, err)
	}
	conns := &connTracker{Listener: ln, conns: map[*trackedConn]struct{}{}}
	var served net.Listener = conns
	if b.opts.TLS != nil {
		served = tls.NewListener(conns, b.opts.TLS)
	}
	// Wrapped: mochi's own Close can block for ever when a client comes or
	// goes at that moment (a make test run hung in Stop on it).
	tcp := listeners.NewNet("tcp", served)
	if err := srv.AddListener(mochiclose.Wrap(tcp, srv)); err != nil {
		_ = ln.Close()
		return fmt.Errorf("mqtttest: listen on %s: %w", b.Addr, err)
	}
	if b.wsAddr != "" {
		ws := listeners.NewWebsocket(listeners.Config{ID: "ws", Address: b.wsAddr})
		if err := srv.AddListener(mochiclose.Wrap(ws, srv)); err != nil {
			_ = srv.Close()
			return fmt.Errorf("mqtttest: websocket listener: %w", err)
		}
	}
	for _, pk := range retained {
		srv.Topics.RetainMessage(pk)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return fmt.Errorf("mqtttest: serve: %w", err)
	}
	b.Addr = tcp.Address()
	b.mu.Lock()
	b.srv, b.serial, b.conns = srv, serial, conns
	b.mu.Unlock()
	return nil
}

// connTracker is the broker's TCP listener; it keeps the connections it
// accepted so that Stop can close every one, as a broker process that goes
// away does. (mochi's Close only closes the clients it has registered: a
// connection accepted during the shutdown stayed open, its client waiting
// for a CONNACK until its own timeout.)
type connTracker struct {
	net.Listener
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

type trackedConn struct {
	net.Conn
	t *connTracker
}

func (c *trackedConn) Close() error {
	c.t.mu.Lock()
	delete(c.t.conns, c)
	c.t.mu.Unlock()
	return c.Conn.Close()
}

func (t *connTracker) Accept() (net.Conn, error) {
	c, err := t.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, t: t}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	t.conns[tc] = struct{}{}
	return tc, nil
}

// closeAll closes the listener and the open connections that which selects
// (all of them when which is nil).
func (t *connTracker) closeAll(which func(net.Conn) bool) {
	_ = t.Listener.Close()
	t.mu.Lock()
	t.closed = true
	var conns []*trackedConn
	for c := range t.conns {
		if which == nil || which(c) {
			conns = append(conns, c)
		}
	}
	t.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// Server returns the running mochi server (nil while stopped), for inline
// publishing and subscribing.
func (b *Broker) Server() *mqtt.Server {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.srv
}

// Publish publishes a message from the broker's inline client.
func (b *Broker) Publish(topic string, payload []byte, retain bool, qos byte) error {
	b.mu.Lock()
	srv, serial := b.srv, b.serial
	b.mu.Unlock()
	if srv == nil {
		return errors.New("mqtttest: broker is stopped")
	}
	if retain {
		serial.mu.Lock()
		defer serial.mu.Unlock()
	}
	return srv.Publish(topic, payload, retain, qos)
}

// Retained returns the retained payload on topic, if any.
func (b *Broker) Retained(topic string) ([]byte, bool) {
	srv := b.Server()
	if srv == nil {
		return nil, false
	}
	pk, ok := srv.Topics.Retained.Get(topic)
	if !ok || len(pk.Payload) == 0 {
		return nil, false
	}
	return bytes.Clone(pk.Payload), true
}

// Stop stops the broker and drops every client; Resume starts it again on the
// same ports. Stopping a stopped broker does nothing.
func (b *Broker) Stop() {
	b.mu.Lock()
	srv, conns := b.srv, b.conns
	b.srv, b.conns = nil, nil
	b.mu.Unlock()
	if srv == nil {
		return
	}
	if b.opts.KeepRetained {
		b.mu.Lock()
		b.kept = b.kept[:0]
		for _, pk := range srv.Topics.Retained.GetAll() {
			b.kept = append(b.kept, pk)
		}
		b.mu.Unlock()
	}
	// No new connections, and none left that mochi has not registered as a
	// client: its Close waits for connections still sending CONNECT (for
	// ever) and closes only registered clients.
	registered := map[net.Conn]bool{}
	for _, cl := range srv.Clients.GetAll() {
		c := cl.Net.Conn
		if tc, ok := c.(*tls.Conn); ok {
			c = tc.NetConn()
		}
		registered[c] = true
	}
	conns.closeAll(func(c net.Conn) bool { return !registered[c] })
	_ = srv.Close() // DISCONNECT to the registered clients
	conns.closeAll(nil)
}

// Resume starts a stopped broker again on the same address.
func (b *Broker) Resume() error {
	if b.Server() != nil {
		return nil
	}
	b.mu.Lock()
	kept := b.kept
	b.kept = nil
	b.mu.Unlock()
	return b.start(kept)
}

// Restart stops the broker and starts it again on the same ports.
func (b *Broker) Restart() error {
	b.Stop()
	return b.Resume()
}

// Close stops the broker for good.
func (b *Broker) Close() error {
	b.Stop()
	return nil
}
