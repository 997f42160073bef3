package broker

import (
	"fmt"
	"io"
	"math"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
)

// slowReader logs in with a raw connection, subscribes to filter at qos
// and from then on never reads its socket (its receive buffer kept small).
func slowReader(t testing.TB, b *Broker, c creds, filter string, qos byte) net.Conn {
	t.Helper()
	rc, code, err := rawLogin(b.Addr(), 4, c, nil)
	if err != nil || code != 0 {
		t.Fatalf("login: %v (code %#x)", err, code)
	}
	t.Cleanup(func() { rc.Close() })
	_ = rc.Conn.(*net.TCPConn).SetReadBuffer(16 << 10)
	body := append([]byte{0, 1}, mqttString(filter)...)
	body = append(body, qos)
	if _, err := rc.Write(append(append([]byte{0x82}, varint(len(body))...), body...)); err != nil {
		t.Fatal(err)
	}
	_ = rc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var ack [5]byte
	if _, err := io.ReadFull(rc, ack[:]); err != nil || ack[0] != 0x90 || ack[4] != qos {
		t.Fatalf("SUBACK: % x, %v", ack, err)
	}
	return rc
}

// waiting is what waits to be written to cl's socket, in bytes, counting
// msg per packet in mochi's queue (its channel of packets not yet taken by
// its write loop) and the bytes in its outConn buffer but the packet being
// written to the socket.
func waiting(cl *mqtt.Client, msg int) int {
	n := outboundLen(cl) * msg
	if oc, ok := cl.Net.Conn.(*outConn); ok {
		w, _, _ := oc.buffered(time.Now())
		n += w
	}
	return n
}

// clientAt returns the broker's client whose remote address is conn's local one.
func clientAt(b *Broker, conn net.Conn) *mqtt.Client {
	for _, cl := range b.server.Clients.GetAll() {
		if cl.Net.Remote == conn.LocalAddr().String() {
			return cl
		}
	}
	return nil
}

// TestSlowReader: clients that subscribe to everything and never read their
// socket get at most MaxOutboundBytes (plus one message) waiting in their
// outbound buffer while a publisher sends them megabytes (before the bound,
// mochi queued up to 256 packets of up to 1 MiB each for every one of them);
// a client reading normally gets every message meanwhile; the drops are
// counted; once they have read nothing for the stall time they are
// disconnected. A slow reader logged in as the hub is exempt: neither
// dropped for nor disconnected.
func TestSlowReader(t *testing.T) {
	for _, tc := range []struct {
		name    string
		users   []User
		slow    int
		payload int
	}{
		{"anonymous, 3 slow readers, 128 KiB", nil, 3, 128 << 10},
		{"users, 1 slow reader, 512 KiB", []User{{Username: "u", Password: "p", Read: []string{"#"}, Write: []string{"#"}}}, 1, 512 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const perClient = 256 << 10
			var refusals refusalCounts
			b := startBroker(t, Config{Users: tc.users, Limits: Limits{MaxOutboundBytes: perClient,
				MaxOutboundBytesTotal: 4 << 20, outboundStall: time.Hour},
				OnRefused: refusals.add})
			c := credsFor(tc.users)
			var slow []net.Conn
			for range tc.slow {
				slow = append(slow, slowReader(t, b, c, "#", 0))
			}
			hub := slowReader(t, b, internal(b), "big/#", 0)
			live := connect(t, b, c)
			ch, _ := subscribe(t, live, "big/#")
			pub := connect(t, b, c)
			payload := strings.Repeat("p", tc.payload)
			send := func(from, to int) {
				for i := from; i < to; i++ {
					topic := "big/" + strconv.Itoa(i%4)
					if err := publish(t, pub, topic, false, payload); err != nil {
						t.Fatal(err)
					}
					if m := receive(t, ch); m.Topic() != topic || len(m.Payload()) != tc.payload {
						t.Fatalf("the live subscriber got %s (%d bytes), want %s", m.Topic(), len(m.Payload()), topic)
					}
				}
			}
			// Well more than the kernel's socket buffers take (about 4 MiB).
			n := (10 << 20) / tc.payload
			send(0, n)
			msg := tc.payload + MessageOverhead
			for i, conn := range slow {
				cl := clientAt(b, conn)
				if cl == nil {
					t.Fatalf("slow reader %d disconnected before its stall time", i)
				}
				// One message always fits in an empty buffer.
				if w := waiting(cl, msg); w > max(perClient, msg) {
					t.Fatalf("slow reader %d: %d bytes wait in its outbound buffer, want at most %d", i, w, max(perClient, msg))
				}
			}
			if refusals.get("maxOutboundBytes") == 0 {
				t.Fatal("no drop was counted for maxOutboundBytes")
			}
			// The hub's own slow reader has more than the bound queued.
			if cl := clientAt(b, hub); cl == nil || waiting(cl, msg) <= perClient {
				t.Fatal("the hub's own slow reader was dropped for or disconnected")
			}

			// Past the stall time (an hour so far, so that sending took less
			// on any machine), the next drop disconnects the slow readers.
			b.outbound.mu.Lock()
			b.outbound.stall = 100 * time.Millisecond
			b.outbound.mu.Unlock()
			time.Sleep(200 * time.Millisecond)
			send(n, n+4)
			waitFor(t, "the slow readers to be disconnected", func() bool {
				for _, conn := range slow {
					if clientAt(b, conn) != nil {
						return false
					}
				}
				return true
			})
			if clientAt(b, hub) == nil {
				t.Fatal("the hub's own slow reader was disconnected")
			}
			if !live.IsConnected() {
				t.Fatal("the live subscriber was disconnected")
			}
		})
	}
}

// TestMochiState: the mochi version in use has the unexported state the
// outbound budgets read (else Start refuses to run, with errMochiOutbound).
func TestMochiState(t *testing.T) {
	if err := checkMochi(); err != nil {
		t.Fatal(err)
	}
}

// TestStuckWrite: a client that takes nothing written to it for the stall
// time is disconnected by that write, with no further publication. Before,
// only the next message dropped for it did, or mochi's keep-alive deadline
// (90 s here), which the client's own packets push back; meanwhile mochi
// held the client's lock in the write, and a publisher numbering a QoS 1
// message for it waited.
func TestStuckWrite(t *testing.T) {
	const stall = 3 * time.Second
	b := startBroker(t, Config{Limits: Limits{outboundStall: stall}})
	conn := slowReader(t, b, creds{}, "#", 0)
	pub := connect(t, b, creds{})
	payload := strings.Repeat("s", 512<<10)
	for range 16 { // 8 MiB: more than the socket buffers take
		if err := publish(t, pub, "stuck/x", false, payload); err != nil {
			t.Fatal(err)
		}
	}
	// (Sending took less than the stall time on any machine but a very slow
	// one; then only the stuck write can end the connection.)
	for deadline := time.Now().Add(stall + 10*time.Second); clientAt(b, conn) != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the stuck reader is still connected %v after the last message", stall+10*time.Second)
		}
	}
	if !pub.IsConnected() {
		t.Fatal("the publisher was disconnected")
	}
}

// socketOf is the TCP socket under a client's connection as mochi has it.
func socketOf(c net.Conn) *net.TCPConn {
	for {
		switch x := c.(type) {
		case *outConn:
			c = x.Conn
		case *trackedConn:
			c = x.Conn
		case *net.TCPConn:
			return x
		default:
			return nil
		}
	}
}

// readRaw reads one MQTT packet: its first byte and its body.
func readRaw(c net.Conn) (byte, []byte, error) {
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return 0, nil, err
	}
	typ, n := b[0], 0
	for i := 0; ; i++ {
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return 0, nil, err
		}
		n |= int(b[0]&0x7f) << (7 * i)
		if b[0]&0x80 == 0 {
			break
		}
	}
	body := make([]byte, n)
	_, err := io.ReadFull(c, body)
	return typ, body, err
}

// TestMomentaryStall: a QoS 1 subscriber that stops reading for a while
// (its socket's buffers full, the broker's side kept small) loses nothing
// while what waits for it fits in MaxOutboundBytes: once it reads again it
// gets every message, in order, and acknowledges each. Before the outbound
// buffers of our own (outConn), mochi's write to the stalled socket held the
// client's lock; a QoS 1 delivery then waited at most 100 ms for the client
// to be idle before the client was suspended, and it missed the messages
// published until it had caught up.
func TestMomentaryStall(t *testing.T) {
	b := startBroker(t, Config{})
	sub := slowReader(t, b, creds{}, "stall/#", 1)
	cl := clientAt(b, sub)
	if cl == nil {
		t.Fatal("the subscriber is not connected")
	}
	if s := socketOf(cl.Net.Conn); s == nil || s.SetWriteBuffer(8<<10) != nil {
		t.Fatal("cannot shrink the broker's socket buffer for the subscriber")
	}
	pub := connect(t, b, creds{})
	// 512 KiB: far more than the sockets' buffers, less than MaxOutboundBytes.
	const n, size = 64, 8 << 10
	for i := range n {
		if err := publish(t, pub, "stall/x", false, fmt.Sprintf("%04d", i)+strings.Repeat("m", size-4)); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	_ = sub.SetReadDeadline(time.Now().Add(10 * time.Second))
	for want := 0; want < n; {
		typ, body, err := readRaw(sub)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", want, n, err)
		}
		if typ&0xf0 != 0x30 {
			continue
		}
		tl := int(body[0])<<8 | int(body[1])
		if len(body) < tl+8 {
			t.Fatalf("short PUBLISH: % x", body)
		}
		if got := string(body[tl+4 : tl+8]); got != fmt.Sprintf("%04d", want) {
			t.Fatalf("got message %s, want %04d: the ones between were lost", got, want)
		}
		if _, err := sub.Write([]byte{0x40, 2, body[tl+2], body[tl+3]}); err != nil { // PUBACK
			t.Fatal(err)
		}
		want++
	}
}

// TestLargeSessionResent: a kept session holding more than the outbound
// buffer's hard bound is resent whole when its client comes back, and the
// client's first packets are answered meanwhile. Mochi (v2.7.9) resends a
// session's in-flight messages at once, before it reads the client: with
// them held to the hard bound, a session of more than MaxOutboundBytes and
// MaxPacketSize ended the connection at every return of its client, which
// never got its messages (a few of 100 at each try).
func TestLargeSessionResent(t *testing.T) {
	b := startBroker(t, Config{Limits: Limits{MaxOutboundBytes: 64 << 10, MaxPacketSize: 64 << 10,
		MaxQueueBytes: 8 << 20, MaxQueueBytesTotal: 16 << 20}})
	keptSession(t, b, "large", "q/#")
	pub := connect(t, b, creds{})
	const n = 100 // 3.2 MiB, the hard bound 192 KiB
	payload := strings.Repeat("p", 32<<10)
	for i := range n {
		if err := publish(t, pub, "q/"+strconv.Itoa(i), false, payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := publish(t, pub, "sync", false, ""); err != nil { // q/99 has reached the session (TestQueueBytes)
		t.Fatal(err)
	}
	if s, _ := b.server.Clients.Get("large"); s.State.Inflight.Len() != n {
		t.Fatalf("%d messages kept for the session, want %d", s.State.Inflight.Len(), n)
	}
	var mu sync.Mutex
	got := map[string]bool{}
	var lost error
	onMsg := func(_ paho.Client, m paho.Message) { mu.Lock(); got[m.Topic()] = true; mu.Unlock() }
	o := paho.NewClientOptions().AddBroker(b.URL()).SetClientID("large").SetCleanSession(false).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).SetDefaultPublishHandler(onMsg).
		SetConnectionLostHandler(func(_ paho.Client, err error) { mu.Lock(); lost = err; mu.Unlock() })
	back := paho.NewClient(o)
	if tok := back.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer back.Disconnect(0)
	// A dashboard subscribes as it connects: the SUBACK goes in behind the resent messages.
	if tok := back.Subscribe("q/#", 1, onMsg); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe after the return: %v", tok.Error())
	}
	waitFor(t, "the session's messages or the connection's end", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n || lost != nil
	})
	mu.Lock()
	defer mu.Unlock()
	if lost != nil {
		t.Fatalf("the connection ended after %d of the %d messages kept: %v", len(got), n, lost)
	}
}

// TestLargePublicationsWaitForTheCollector: near the process's soft memory
// limit, each large publication (largeMessage and more) of a client is
// followed by a collection before the broker reads the client's next
// packet; a small one, the hub's own, or any without a limit are not.
func TestLargePublicationsWaitForTheCollector(t *testing.T) {
	b := startBroker(t, Config{})
	c := connect(t, b, creds{})
	hub := connect(t, b, internal(b))
	large, small := strings.Repeat("l", largeMessage), strings.Repeat("s", largeMessage-1)
	send := func(cl paho.Client, payload string, n int) uint64 {
		t.Helper()
		before := nearLimitCollections.Load()
		for range n {
			cl.Publish("t/large", 0, false, payload)
		}
		// A client's packets are handled in order, each fan-out and what
		// follows it before the next packet: this PUBACK comes after them.
		if err := publish(t, cl, "t/barrier", false, "b"); err != nil {
			t.Fatal(err)
		}
		return nearLimitCollections.Load() - before
	}
	prev := debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetMemoryLimit(prev)
	if n := send(c, large, 5); n != 0 {
		t.Errorf("without a soft memory limit: %d collections forced by 5 large publications, want none", n)
	}
	debug.SetMemoryLimit(1) // always near it
	if n := send(c, large, 5); n != 5 {
		t.Errorf("near the soft memory limit: %d collections forced by 5 large publications, want 5", n)
	}
	if n := send(c, small, 5); n != 0 {
		t.Errorf("%d collections forced by 5 publications of %d bytes, want none", n, len(small))
	}
	if n := send(hub, large, 5); n != 0 {
		t.Errorf("%d collections forced by 5 large publications of the hub's own client, want none", n)
	}
}
