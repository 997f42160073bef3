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
	c, err := net.Dial("tcp", ln.Addr().String())
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
