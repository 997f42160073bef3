// Package mochiclose closes a mochi-mqtt listener and its clients safely.
//
// mochi v2.7.9's Server.Close has each listener disconnect its clients
// through Clients.GetByListener, which takes the clients' read lock twice
// (the second time through Clients.Len). When a client connects or leaves
// between the two, its write lock waits for the first read lock and the
// second read lock waits for it: the broker blocks for ever (mochi issue 488,
// still open). A listener built with Wrap enumerates its clients under one
// read lock instead.
//
// Server.Close then waits for the clients on Listeners.ClientsWg, which mochi
// adds a connection to only once the goroutine its listener started for it
// runs: a connection accepted as the server closes is added while Close
// already waits (a WaitGroup misuse the race detector reports, seen in a
// test, and a Close that can return before that client is gone). A Gate
// counts each connection before it reaches mochi and refuses those that come
// once it is shut; Wrap's listener has one.
package mochiclose

import (
	"net"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Clients returns the function that disconnects the clients of a listener of
// srv (the listeners.CloseFn a listener's Close calls), told that the server
// is shutting down.
func Clients(srv *mqtt.Server) listeners.CloseFn {
	return func(id string) {
		for _, cl := range srv.Clients.GetAll() { // one read lock, a copy
			if cl.Net.Listener == id && !cl.Closed() {
				_ = srv.DisconnectClient(cl, packets.ErrServerShuttingDown)
			}
		}
	}
}

// Gate admits a listener's connections to a server until it is shut.
type Gate struct {
	srv  *mqtt.Server
	mu   sync.Mutex
	shut bool
}

// NewGate returns an open gate to srv.
func NewGate(srv *mqtt.Server) *Gate { return &Gate{srv: srv} }

// Establish wraps a listener's establish function: a connection is counted in
// the server's Listeners.ClientsWg until establish returns, or closed at once
// when the gate is shut.
func (g *Gate) Establish(establish listeners.EstablishFn) listeners.EstablishFn {
	return func(id string, c net.Conn) error {
		g.mu.Lock()
		if g.shut {
			g.mu.Unlock()
			_ = c.Close()
			return nil
		}
		g.srv.Listeners.ClientsWg.Add(1)
		g.mu.Unlock()
		defer g.srv.Listeners.ClientsWg.Done()
		return establish(id, c)
	}
}

// Shut refuses the connections that come from now on.
func (g *Gate) Shut() {
	g.mu.Lock()
	g.shut = true
	g.mu.Unlock()
}

// IsShut says whether Shut was called.
func (g *Gate) IsShut() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.shut
}

// Listener is a mochi listener whose connections pass a Gate and whose Close
// disconnects its clients with Clients rather than with the function mochi
// gives it.
type Listener struct {
	listeners.Listener
	srv  *mqtt.Server
	gate *Gate
}

// Wrap returns l, a listener of srv, with the gate and the safe Close.
func Wrap(l listeners.Listener, srv *mqtt.Server) *Listener {
	return &Listener{Listener: l, srv: srv, gate: NewGate(srv)}
}

// Serve serves the listener, its connections through the gate.
func (l *Listener) Serve(establish listeners.EstablishFn) {
	l.Listener.Serve(l.gate.Establish(establish))
}

// Close shuts the gate, stops the listener and disconnects its clients.
func (l *Listener) Close(listeners.CloseFn) {
	l.gate.Shut()
	l.Listener.Close(Clients(l.srv))
}
