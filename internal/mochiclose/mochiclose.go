// Package mochiclose closes a mochi-mqtt listener's clients safely.
//
// mochi v2.7.9's Server.Close has each listener disconnect its clients
// through Clients.GetByListener, which takes the clients' read lock twice
// (the second time through Clients.Len). When a client connects or leaves
// between the two, its write lock waits for the first read lock and the
// second read lock waits for it: the broker blocks for ever (mochi issue 488,
// still open). A listener built with Wrap enumerates its clients under one
// read lock instead.
package mochiclose

import (
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

// Listener is a mochi listener whose Close disconnects its clients with
// Clients rather than with the function mochi gives it.
type Listener struct {
	listeners.Listener
	srv *mqtt.Server
}

// Wrap returns l, a listener of srv, with the safe Close.
func Wrap(l listeners.Listener, srv *mqtt.Server) Listener { return Listener{Listener: l, srv: srv} }

// Close stops the listener and disconnects its clients.
func (l Listener) Close(listeners.CloseFn) { l.Listener.Close(Clients(l.srv)) }
