package mochiclose

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// TestClientsWhileClientsComeAndGo: enumerating a listener's clients while
// others connect and leave never blocks. mochi's own enumeration
// (Clients.GetByListener) blocks for good within seconds under this churn.
func TestClientsWhileClientsComeAndGo(t *testing.T) {
	srv := mqtt.New(nil)
	stop := make(chan struct{})
	churned := make(chan struct{})
	go func() {
		defer close(churned)
		c := &mqtt.Client{ID: "elsewhere"}
		c.Net.Listener = "other"
		for {
			select {
			case <-stop:
				return
			default:
			}
			srv.Clients.Add(c)
			srv.Clients.Delete(c.ID)
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		closeClients := Clients(srv)
		for range 200_000 {
			closeClients("tcp")
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Error("enumerating the clients blocked while others came and went")
	}
	close(stop)
	<-churned
}

// TestWrapDisconnectsClients: a wrapped listener's clients are disconnected
// when the server closes.
func TestWrapDisconnectsClients(t *testing.T) {
	srv, addr := serveWrapped(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// CONNECT, MQTT 3.1.1, clean session, keep-alive 60 s, client id "c".
	if _, err := c.Write([]byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 1, 'c'}); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	connack := make([]byte, 4)
	if _, err := io.ReadFull(c, connack); err != nil || connack[0] != 0x20 || connack[3] != 0 {
		t.Fatalf("CONNACK % x, %v", connack, err)
	}
	closed := make(chan struct{})
	go func() { defer close(closed); _ = srv.Close() }()
	if n, err := io.Copy(io.Discard, c); err != nil {
		t.Fatalf("after the server closed: %d bytes, then %v; want the connection closed", n, err)
	}
	<-closed
}

// TestGateCountsBeforeMochi: a connection passed through the gate is counted
// in the server's ClientsWg for as long as its establish runs (Server.Close
// waits for it), and one that comes once the gate is shut is closed without
// reaching mochi.
func TestGateCountsBeforeMochi(t *testing.T) {
	srv := mqtt.New(nil)
	g := NewGate(srv)
	entered, release := make(chan struct{}), make(chan struct{})
	calls := 0
	est := g.Establish(func(string, net.Conn) error {
		calls++
		close(entered)
		<-release
		return nil
	})
	a, b := net.Pipe()
	defer b.Close()
	go func() { _ = est("t", a) }()
	<-entered
	waited := make(chan struct{})
	go func() { srv.Listeners.ClientsWg.Wait(); close(waited) }()
	select {
	case <-waited:
		t.Fatal("ClientsWg.Wait returned while a connection was being established")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-waited

	g.Shut()
	if !g.IsShut() {
		t.Fatal("IsShut false after Shut")
	}
	c, d := net.Pipe()
	defer d.Close()
	if err := est("t", c); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("establish called %d times, want once (not after Shut)", calls)
	}
	if _, err := d.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("a connection refused by the shut gate: read %v, want EOF (closed)", err)
	}
}

// TestCloseWhileConnecting: clients dial a wrapped listener while the server
// closes. Under the race detector mochi's own counting was reported (a
// ClientsWg.Add concurrent with Close's Wait); through the gate it is not,
// and Close returns.
func TestCloseWhileConnecting(t *testing.T) {
	for range 20 {
		srv, addr := serveWrapped(t)
		dialed := make(chan struct{})
		go func() {
			defer close(dialed)
			for range 20 {
				if c, err := net.Dial("tcp", addr); err == nil {
					_ = c.Close()
				}
			}
		}()
		closed := make(chan struct{})
		go func() { defer close(closed); _ = srv.Close() }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("Close blocked")
		}
		<-dialed
	}
}

// serveWrapped starts a broker that lets everyone in, on a wrapped TCP
// listener; it returns the server and the listener's address.
func serveWrapped(t *testing.T) (*mqtt.Server, string) {
	t.Helper()
	srv := mqtt.New(&mqtt.Options{Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddListener(Wrap(listeners.NewNet("tcp", ln), srv)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	return srv, ln.Addr().String()
}
