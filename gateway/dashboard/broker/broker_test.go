package broker

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/internal/testcert"
	paho "github.com/eclipse/paho.mqtt.golang"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startBroker(t testing.TB, cfg Config) *Broker {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	cfg.Logger = quietLogger()
	b, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

type creds struct{ user, pass string }

// closeWithin closes b and fails the test with msg if Close takes longer than d.
func closeWithin(t *testing.T, b *Broker, d time.Duration, msg string) {
	t.Helper()
	closed := make(chan struct{})
	go func() { _ = b.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(d):
		t.Fatal(msg)
	}
}

// connect dials the broker with paho and fails the test on error.
func connect(t testing.TB, b *Broker, c creds) paho.Client {
	t.Helper()
	cl, err := dial(b, c)
	if err != nil {
		t.Fatalf("connect as %q: %v", c.user, err)
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	return cl
}

func dial(b *Broker, c creds) (paho.Client, error) {
	o := paho.NewClientOptions().AddBroker(b.URL()).SetClientID("t-" + c.user + "-" + randHex()).
		SetUsername(c.user).SetPassword(c.pass).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	if tc := b.ClientTLS(); tc != nil {
		o.SetTLSConfig(tc)
	}
	cl := paho.NewClient(o)
	tok := cl.Connect()
	if !tok.WaitTimeout(5 * time.Second) {
		return nil, errors.New("connect timed out")
	}
	return cl, tok.Error()
}

func randHex() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(big.NewInt(0).SetBytes(b[:]).Text(16))
}

func internal(b *Broker) creds {
	u, p := b.Credentials()
	return creds{u, p}
}

// subscribe returns a channel of messages on filter and the SUBACK code.
func subscribe(t *testing.T, cl paho.Client, filter string) (<-chan paho.Message, byte) {
	t.Helper()
	ch := make(chan paho.Message, 64)
	tok := cl.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { ch <- m })
	if !tok.WaitTimeout(5 * time.Second) {
		t.Fatalf("subscribe %s timed out", filter)
	}
	if err := tok.Error(); err != nil {
		return ch, 0x80
	}
	return ch, tok.(*paho.SubscribeToken).Result()[filter]
}

func publish(t *testing.T, cl paho.Client, topic string, retained bool, payload string) error {
	t.Helper()
	tok := cl.Publish(topic, 1, retained, payload)
	if !tok.WaitTimeout(5 * time.Second) {
		return errors.New("publish timed out")
	}
	return tok.Error()
}

func receive(t *testing.T, ch <-chan paho.Message) paho.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5 s")
		return nil
	}
}

func TestAnonymousPublishSubscribe(t *testing.T) {
	b := startBroker(t, Config{})
	// The hub's own login exists on an anonymous broker too (the limits
	// exempt it), and no one gets it without its password.
	if u, p := b.Credentials(); u != InternalUsername || len(p) < 32 {
		t.Fatalf("anonymous broker gave credentials %q %q", u, p)
	}
	if _, err := dial(b, creds{InternalUsername, "guess"}); err == nil {
		t.Fatal("the internal user logged in with a wrong password")
	}
	if cl, err := dial(b, internal(b)); err != nil {
		t.Fatalf("the internal user: %v", err)
	} else {
		cl.Disconnect(0)
	}
	if !strings.HasPrefix(b.URL(), "tcp://127.0.0.1:") || strings.HasSuffix(b.URL(), ":0") {
		t.Fatalf("URL = %q", b.URL())
	}
	cl := connect(t, b, creds{})
	ch, code := subscribe(t, cl, "a/#")
	if code >= 0x80 {
		t.Fatalf("SUBACK %#x", code)
	}
	if err := publish(t, cl, "a/b", false, "hello"); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, ch); m.Topic() != "a/b" || string(m.Payload()) != "hello" {
		t.Fatalf("got %s %q", m.Topic(), m.Payload())
	}
}

func TestUsersAndACL(t *testing.T) {
	b := startBroker(t, Config{Users: []User{
		{Username: "dash", Password: "s3cret", Read: []string{"avshub/#", "homeassistant/+/config"}, Write: []string{"avshub/+/set"}},
		{Username: "reader", Password: "r", Read: []string{"avshub/#"}},
	}})
	hub := connect(t, b, internal(b))
	all, code := subscribe(t, hub, "#")
	if code >= 0x80 {
		t.Fatalf("internal user refused #: %#x", code)
	}

	t.Run("login", func(t *testing.T) {
		for _, c := range []creds{{"dash", "wrong"}, {"nobody", "x"}, {"", ""}, {InternalUsername, "guess"}} {
			if cl, err := dial(b, c); err == nil {
				cl.Disconnect(0)
				t.Errorf("login as %q with a wrong password succeeded", c.user)
			}
		}
	})

	dash := connect(t, b, creds{"dash", "s3cret"})
	t.Run("subscribe", func(t *testing.T) {
		for _, tc := range []struct {
			filter string
			ok     bool
		}{
			{"avshub/#", true}, {"avshub/light1/state", true}, {"avshub/+/state", true},
			{"homeassistant/device/config", true}, {"#", false}, {"homeassistant/#", false},
			{"other/x", false}, {"+/light1/state", false},
		} {
			_, code := subscribe(t, dash, tc.filter)
			if got := code < 0x80; got != tc.ok {
				t.Errorf("subscribe %q: allowed=%v (SUBACK %#x), want %v", tc.filter, got, code, tc.ok)
			}
		}
	})

	t.Run("publish allowed", func(t *testing.T) {
		if err := publish(t, dash, "avshub/light1/set", false, "ok"); err != nil {
			t.Fatal(err)
		}
		if m := receive(t, all); m.Topic() != "avshub/light1/set" {
			t.Fatalf("got %s", m.Topic())
		}
	})

	t.Run("publish refused", func(t *testing.T) {
		reader := connect(t, b, creds{"reader", "r"})
		// MQTT 3.1.1 has no negative PUBACK: the broker drops the client.
		_ = publish(t, reader, "avshub/light1/set", false, "nope")
		// A marker published afterwards by the hub arrives first if nothing leaked.
		if err := publish(t, hub, "marker", false, "m"); err != nil {
			t.Fatal(err)
		}
		if m := receive(t, all); m.Topic() != "marker" {
			t.Fatalf("refused publish was delivered: %s %q", m.Topic(), m.Payload())
		}
	})
}

func TestRetainedSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, Config{DataDir: dir})
	cl := connect(t, b, creds{})
	for topic, p := range map[string]string{"avshub/a/state": `{"on":true}`, "avshub/b/state": "x", "avshub/gone": "y"} {
		if err := publish(t, cl, topic, true, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := publish(t, cl, "avshub/gone", true, ""); err != nil { // clears the retained message
		t.Fatal(err)
	}
	cl.Disconnect(100)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, RetainedFile)); err != nil {
		t.Fatal(err)
	}

	b2 := startBroker(t, Config{DataDir: dir})
	cl2 := connect(t, b2, creds{})
	ch, _ := subscribe(t, cl2, "avshub/#")
	got := map[string]string{}
	for range 2 {
		m := receive(t, ch)
		if !m.Retained() {
			t.Errorf("%s not flagged retained", m.Topic())
		}
		got[m.Topic()] = string(m.Payload())
	}
	if got["avshub/a/state"] != `{"on":true}` || got["avshub/b/state"] != "x" {
		t.Fatalf("retained after restart = %v", got)
	}
	if err := publish(t, cl2, "marker/x", false, "m"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-ch:
		t.Fatalf("unexpected retained message %s %q (cleared before the restart)", m.Topic(), m.Payload())
	case <-time.After(200 * time.Millisecond):
	}
}

func TestAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Start(context.Background(), Config{Listen: ln.Addr().String(), Logger: quietLogger()})
	if !errors.Is(err, ErrAddressInUse) {
		t.Fatalf("err = %v, want ErrAddressInUse", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "mqtt.broker: tcp://"+ln.Addr().String()) {
		t.Fatalf("message is not one line naming the config key: %q", msg)
	}
}

func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{":1883": "127.0.0.1:1883", "0.0.0.0:1883": "127.0.0.1:1883",
		"[::]:1883": "127.0.0.1:1883", "192.168.1.2:1883": "192.168.1.2:1883", "[::1]:1883": "[::1]:1883", "bad": "bad"} {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContextEndCloses(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	b, err := Start(ctx, Config{Listen: "127.0.0.1:0", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-b.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("broker did not stop when its context ended")
	}
	if _, err := dial(b, creds{}); err == nil {
		t.Fatal("connected to a closed broker")
	}
	_ = b.Close() // idempotent
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := testcert.WriteSelfSigned(t, dir, "broker.test")
	b := startBroker(t, Config{TLSCert: cert, TLSKey: key, Users: []User{{Username: "u", Password: "p", Read: []string{"#"}, Write: []string{"#"}}}})
	if !strings.HasPrefix(b.URL(), "ssl://") {
		t.Fatalf("URL = %q", b.URL())
	}
	if b.CertPool() == nil {
		t.Fatal("no cert pool")
	}
	cl := connect(t, b, internal(b))
	ch, _ := subscribe(t, cl, "x")
	if err := publish(t, cl, "x", false, "tls"); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, ch); string(m.Payload()) != "tls" {
		t.Fatalf("got %q", m.Payload())
	}
	// A plain TCP client gets nowhere.
	o := paho.NewClientOptions().AddBroker("tcp://" + b.Addr()).SetAutoReconnect(false).SetConnectTimeout(time.Second)
	plain := paho.NewClient(o)
	if tok := plain.Connect(); tok.WaitTimeout(3*time.Second) && tok.Error() == nil {
		plain.Disconnect(0)
		t.Fatal("plain TCP connection to the TLS listener succeeded")
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"reserved name": {Users: []User{{Username: InternalUsername, Password: "x"}}},
		"no password":   {Users: []User{{Username: "a"}}},
		"no username":   {Users: []User{{Password: "a"}}},
		"duplicate":     {Users: []User{{Username: "a", Password: "x"}, {Username: "a", Password: "y"}}},
		"bad filter":    {Users: []User{{Username: "a", Password: "x", Read: []string{"a/#/b"}}}},
		"cert only":     {TLSCert: "c.pem"},
		"missing cert":  {TLSCert: "/nonexistent/c.pem", TLSKey: "/nonexistent/k.pem"},
	} {
		cfg.Listen, cfg.Logger = "127.0.0.1:0", quietLogger()
		if b, err := Start(context.Background(), cfg); err == nil {
			_ = b.Close()
			t.Errorf("%s: Start succeeded", name)
		}
	}
}

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		allowed, sub string
		want         bool
	}{
		{"#", "a/b", true},
		{"#", "$SYS/x", false},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"a/#", "a/#", true},
		{"a/#", "#", false},
		{"a/+", "a/b", true},
		{"a/+", "a/+", true},
		{"a/+", "a/#", false},
		{"a/+", "a/b/c", false},
		{"a/b", "a/+", false},
		{"a/b", "a/b", true},
		{"a/b", "a/b/c", false},
		{"+/b", "x/b", true},
		{"+/b", "$SYS/b", false},
	} {
		if got := Covers(tc.allowed, tc.sub); got != tc.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tc.allowed, tc.sub, got, tc.want)
		}
	}
}

func TestValidFilter(t *testing.T) {
	for f, ok := range map[string]bool{"a/b": true, "#": true, "a/#": true, "+/a/+": true,
		"": false, "a/#/b": false, "a#": false, "a/b+": false} {
		if err := ValidFilter(f); (err == nil) != ok {
			t.Errorf("ValidFilter(%q) = %v, want ok=%v", f, err, ok)
		}
	}
}

// TestCloseWhileClientsChurn: Close returns while clients connect and
// disconnect (mochi's own close path could deadlock on its clients lock).
func TestCloseWhileClientsChurn(t *testing.T) {
	for round := 0; round < 3; round++ {
		b, err := Start(context.Background(), Config{Listen: "127.0.0.1:0", Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					rawConnect(b.Addr())
				}
			}()
		}
		timer := time.NewTimer(100 * time.Millisecond)
		<-timer.C
		closeWithin(t, b, 10*time.Second, "Close hung while clients were connecting and disconnecting")
		close(stop)
		wg.Wait()
	}
}

// rawConnect opens an MQTT 3.1.1 session, waits for the CONNACK and drops the connection.
func rawConnect(addr string) {
	c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		return
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	id := "churn-" + randHex()
	body := append([]byte{0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, byte(len(id))}, id...)
	_, _ = c.Write(append([]byte{0x10, byte(len(body))}, body...))
	var ack [4]byte
	_, _ = io.ReadFull(c, ack[:])
}

// TestSubscribeWhileRetainedFlow: a subscription made while the broker is
// still delivering retained QoS 1 messages of an earlier one is granted (its
// packet id may equal one of the broker's own in-flight ids).
func TestSubscribeWhileRetainedFlow(t *testing.T) {
	b := startBroker(t, Config{})
	seed := connect(t, b, creds{})
	for i := range 40 {
		if err := publish(t, seed, "flow/"+strconv.Itoa(i), true, "x"); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 20 {
		cl := connect(t, b, creds{})
		var filters []string
		for i := range 6 {
			filters = append(filters, "flow/#", "other/"+strconv.Itoa(i))
		}
		for i, f := range filters {
			tok := cl.Subscribe(f, 1, func(paho.Client, paho.Message) {})
			if !tok.WaitTimeout(5 * time.Second) {
				t.Fatalf("round %d: subscribe %s timed out", round, f)
			}
			if code := tok.(*paho.SubscribeToken).Result()[f]; code >= 0x80 {
				t.Fatalf("round %d: subscription %d (%s) refused with %#x", round, i, f, code)
			}
		}
		cl.Disconnect(0)
	}
}

// A connection that never logs in is closed after ConnectTimeout, and does not
// hold up Close: a port scanner or a stuck client cannot pin the broker.
func TestSilentConnections(t *testing.T) {
	b := startBroker(t, Config{Listen: "127.0.0.1:0", ConnectTimeout: 200 * time.Millisecond})
	dialRaw := func() net.Conn {
		c, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	closed := func(c net.Conn, within time.Duration) bool {
		_ = c.SetReadDeadline(time.Now().Add(within))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	if c := dialRaw(); !closed(c, 5*time.Second) {
		t.Error("a connection that sent nothing is still open after the CONNECT timeout")
	}
	// A client that logs in keeps its connection beyond the CONNECT timeout.
	cl := connect(t, b, creds{})
	time.Sleep(400 * time.Millisecond) // twice the CONNECT timeout
	if !cl.IsConnectionOpen() {
		t.Error("a logged-in client was dropped by the CONNECT timeout")
	}
	if err := publish(t, cl, "x/y", false, "still here"); err != nil {
		t.Errorf("publish after the CONNECT timeout: %v", err)
	}

	// Close does not wait for a connection that has not logged in.
	b2, err := Start(context.Background(), Config{Listen: "127.0.0.1:0", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", b2.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closeWithin(t, b2, 5*time.Second, "Close waited for a connection that never sent CONNECT")
	if !closed(c, 5*time.Second) {
		t.Error("the silent connection is still open after Close")
	}
}
