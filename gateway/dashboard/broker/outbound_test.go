package broker

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

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

// waiting counts the packets in cl's outbound buffer (mochi's channel of
// packets not yet taken by its write loop).
func waiting(cl *mqtt.Client) int { return outboundLen(cl) }

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
				if w := waiting(cl) * msg; w > max(perClient, msg) {
					t.Fatalf("slow reader %d: %d bytes wait in its outbound buffer, want at most %d", i, w, max(perClient, msg))
				}
			}
			if refusals.get("maxOutboundBytes") == 0 {
				t.Fatal("no drop was counted for maxOutboundBytes")
			}
			// The hub's own slow reader has more than the bound queued.
			if cl := clientAt(b, hub); cl == nil || waiting(cl)*msg <= perClient {
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
