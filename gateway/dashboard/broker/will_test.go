package broker

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// mqttString encodes s as an MQTT UTF-8 string (two-byte length first).
func mqttString(s string) []byte {
	return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...)
}

// varint encodes n as an MQTT variable byte integer.
func varint(n int) []byte {
	var out []byte
	for {
		b := byte(n % 128)
		n /= 128
		if n > 0 {
			b |= 0x80
		}
		out = append(out, b)
		if n == 0 {
			return out
		}
	}
}

// rawConn is a client speaking MQTT byte by byte, so a test controls exactly
// what goes on the wire (a Will, a connection dropped without DISCONNECT, a
// lying length).
type rawConn struct {
	net.Conn
	version byte
}

// willSpec is the Will a raw CONNECT leaves.
type willSpec struct {
	topic, payload string
	retain         bool
	// MQTT 5: the Will Delay Interval and the CONNECT's Session Expiry
	// Interval, in seconds (0: none sent).
	delay, sessionExpiry uint32
}

// property4 encodes an MQTT 5 property with a four-byte integer value.
func property4(id byte, v uint32) []byte {
	return []byte{id, byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
}

// connectPacket encodes a CONNECT (MQTT 3.1.1 for version 4, 5.0 for 5).
func connectPacket(version byte, id string, c creds, will *willSpec) []byte {
	flags := byte(0x02) // clean session
	if c.user != "" {
		flags |= 0x80
	}
	if c.pass != "" {
		flags |= 0x40
	}
	if will != nil {
		flags |= 0x04 | 0x08 // Will, QoS 1
		if will.retain {
			flags |= 0x20
		}
	}
	body := append(mqttString("MQTT"), version, flags, 0, 60)
	if version == 5 {
		var props []byte
		if will != nil && will.sessionExpiry > 0 {
			props = property4(0x11, will.sessionExpiry)
		}
		body = append(append(body, varint(len(props))...), props...)
	}
	body = append(body, mqttString(id)...)
	if will != nil {
		if version == 5 {
			var props []byte
			if will.delay > 0 {
				props = property4(0x18, will.delay)
			}
			body = append(append(body, varint(len(props))...), props...)
		}
		body = append(body, mqttString(will.topic)...)
		body = append(body, mqttString(will.payload)...)
	}
	if c.user != "" {
		body = append(body, mqttString(c.user)...)
	}
	if c.pass != "" {
		body = append(body, mqttString(c.pass)...)
	}
	return append(append([]byte{0x10}, varint(len(body))...), body...)
}

// rawLogin dials addr, sends a CONNECT and returns the connection with the
// CONNACK's return (reason) code.
func rawLogin(addr string, version byte, c creds, will *willSpec) (*rawConn, byte, error) {
	return rawLoginAs(addr, version, "raw-"+randHex(), c, will)
}

// rawLoginAs is rawLogin with client id id.
func rawLoginAs(addr string, version byte, id string, c creds, will *willSpec) (*rawConn, byte, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, 0, err
	}
	rc := &rawConn{Conn: conn, version: version}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(connectPacket(version, id, c, will)); err != nil {
		conn.Close()
		return nil, 0, err
	}
	var hdr [2]byte
	if _, err := io.ReadFull(conn, hdr[:]); err != nil {
		conn.Close()
		return nil, 0, fmt.Errorf("read CONNACK: %w", err)
	}
	if hdr[0] != 0x20 || hdr[1] < 2 {
		conn.Close()
		return nil, 0, fmt.Errorf("not a CONNACK: % x", hdr)
	}
	body := make([]byte, hdr[1])
	if _, err := io.ReadFull(conn, body); err != nil {
		conn.Close()
		return nil, 0, fmt.Errorf("read CONNACK: %w", err)
	}
	_ = conn.SetDeadline(time.Time{})
	return rc, body[1], nil
}

// closedByPeer reports whether the broker closes c within d.
func closedByPeer(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// TestWillACL: the Will a client leaves is held to the same rights as its
// publications, for every kind of rule (no write rights, an exact topic, a
// '+' filter, a '#' filter, a retained Will, a wildcard in the Will topic, the
// internal user, a wrong password). A refused Will refuses the login with
// "not authorized" and is never published; an allowed one is published when
// the connection drops without DISCONNECT.
func TestWillACL(t *testing.T) {
	b := startBroker(t, Config{Users: []User{
		{Username: "reader", Password: "r", Read: []string{"avshub/#"}},
		{Username: "exact", Password: "e", Write: []string{"avshub/door/set"}},
		{Username: "plus", Password: "p", Write: []string{"avshub/+/set"}},
		{Username: "hash", Password: "h", Write: []string{"avshub/door/#"}},
	}})
	hub := connect(t, b, internal(b))
	if err := publish(t, hub, "avshub/door/state", true, "locked"); err != nil {
		t.Fatal(err)
	}
	all, _ := subscribe(t, hub, "#")
	if m := receive(t, all); m.Topic() != "avshub/door/state" { // the retained seed
		t.Fatalf("got %s", m.Topic())
	}

	// MQTT 3.1.1 answers both a bad login and a refused Will with 0x05 (mochi
	// maps "bad user name or password" to it); MQTT 5 tells them apart.
	const ok, notAuthorized3, badLogin5 = 0x00, 0x05, 0x86
	for i, tc := range []struct {
		name    string
		version byte
		c       creds
		will    willSpec
		code    byte
	}{
		{"read-only user", 4, creds{"reader", "r"}, willSpec{topic: "avshub/door/set"}, notAuthorized3},
		{"read-only user, retained over state", 4, creds{"reader", "r"}, willSpec{topic: "avshub/door/state", retain: true}, notAuthorized3},
		{"exact topic", 4, creds{"exact", "e"}, willSpec{topic: "avshub/door/set"}, ok},
		{"exact topic, retained", 4, creds{"exact", "e"}, willSpec{topic: "avshub/door/set", retain: true}, ok},
		{"exact rule, other topic", 4, creds{"exact", "e"}, willSpec{topic: "avshub/back-door/set"}, notAuthorized3},
		{"exact rule, retained over state", 4, creds{"exact", "e"}, willSpec{topic: "avshub/door/state", retain: true}, notAuthorized3},
		{"plus rule", 4, creds{"plus", "p"}, willSpec{topic: "avshub/back-door/set"}, ok},
		{"plus rule, deeper topic", 4, creds{"plus", "p"}, willSpec{topic: "avshub/a/b/set"}, notAuthorized3},
		{"plus rule, wildcard Will topic", 4, creds{"plus", "p"}, willSpec{topic: "avshub/+/set"}, notAuthorized3},
		{"hash rule, parent level", 4, creds{"hash", "h"}, willSpec{topic: "avshub/door"}, ok},
		{"hash rule, deep topic", 4, creds{"hash", "h"}, willSpec{topic: "avshub/door/x/y"}, ok},
		{"hash rule, other branch", 4, creds{"hash", "h"}, willSpec{topic: "avshub/window/set"}, notAuthorized3},
		{"hash rule, wildcard Will topic", 4, creds{"hash", "h"}, willSpec{topic: "avshub/door/#"}, notAuthorized3},
		{"wrong password, allowed Will", 5, creds{"exact", "x"}, willSpec{topic: "avshub/door/set"}, badLogin5},
		{"wrong password, refused Will", 5, creds{"reader", "x"}, willSpec{topic: "avshub/door/set"}, badLogin5},
		{"internal user", 4, internal(b), willSpec{topic: "anything/at/all"}, ok},
		{"MQTT 5, refused", 5, creds{"reader", "r"}, willSpec{topic: "avshub/door/set", retain: true}, 0x87},
		{"MQTT 5, allowed", 5, creds{"plus", "p"}, willSpec{topic: "avshub/x/set"}, ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.will.payload = fmt.Sprintf("UNLOCK-%d", i)
			c, code, err := rawLogin(b.Addr(), tc.version, tc.c, &tc.will)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if code != tc.code {
				t.Fatalf("CONNACK code %#x, want %#x", code, tc.code)
			}
			if code != ok && !closedByPeer(c, 5*time.Second) {
				t.Fatal("a refused connection stayed open")
			}
			c.Close() // dropped without DISCONNECT: an accepted Will is published now
			if code == ok {
				m := receive(t, all)
				if m.Topic() != tc.will.topic || string(m.Payload()) != tc.will.payload {
					t.Fatalf("got %s %q, want the Will %s %q", m.Topic(), m.Payload(), tc.will.topic, tc.will.payload)
				}
				return
			}
			marker := fmt.Sprintf("marker-%d", i)
			if err := publish(t, hub, "marker", false, marker); err != nil {
				t.Fatal(err)
			}
			if m := receive(t, all); m.Topic() != "marker" || string(m.Payload()) != marker {
				t.Fatalf("a refused Will was published: %s %q", m.Topic(), m.Payload())
			}
		})
	}

	// No refused retained Will replaced the retained state.
	fresh := connect(t, b, internal(b))
	ch, _ := subscribe(t, fresh, "avshub/door/state")
	if m := receive(t, ch); !bytes.Equal(m.Payload(), []byte("locked")) {
		t.Fatalf("retained avshub/door/state = %q, want locked", m.Payload())
	}
}

// TestWillAnonymous: an anonymous broker publishes any Will, but never one
// whose topic holds a wildcard (MQTT forbids them in a Will topic).
func TestWillAnonymous(t *testing.T) {
	b := startBroker(t, Config{})
	hub := connect(t, b, creds{})
	all, _ := subscribe(t, hub, "#")
	c, code, err := rawLogin(b.Addr(), 4, creds{}, &willSpec{topic: "a/#", payload: "x"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if code != 0x05 {
		t.Fatalf("CONNACK %#x for a wildcard Will topic, want 0x05", code)
	}
	c, code, err = rawLogin(b.Addr(), 4, creds{}, &willSpec{topic: "a/b", payload: "bye"})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if code != 0 {
		t.Fatalf("CONNACK %#x", code)
	}
	if m := receive(t, all); m.Topic() != "a/b" || string(m.Payload()) != "bye" {
		t.Fatalf("got %s %q", m.Topic(), m.Payload())
	}
}

// TestDelayedWills: MQTT 5 Wills with a Will Delay Interval count in
// MaxWillBytes after their connections ended, until published or
// cancelled, and wait no longer than their sessions (MQTT 3.1.2.5): a
// session that ends with the connection publishes its Will at once, one cut
// to the broker's SessionExpiry when it expires, one kept (delay within the
// session) when the delay ends; a client that comes back cancels its Will.
// Before, mochi held such Wills for their whole delay (here an hour) once
// the session was gone, counted nowhere.
func TestDelayedWills(t *testing.T) {
	const budget = 32 << 10
	payload := strings.Repeat("w", 8<<10)
	one := messageSize("w/x", []byte(payload))
	fits := budget / one // 3
	for _, tc := range []struct {
		name           string
		session, delay uint32
		// counted: the Wills hold the budget after the connections ended;
		// published: within how long they are published (0: not at all).
		counted   bool
		published time.Duration
		cancel    bool
	}{
		{"session ends with the connection", 0, 3600, false, 2 * time.Second, false},
		{"session cut to the broker's expiry", 3600, 3600, true, 6 * time.Second, false},
		{"delay within the session", 3600, 2, true, 6 * time.Second, false},
		{"client comes back", 3600, 3600, true, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var refusals refusalCounts
			b := startBroker(t, Config{Limits: Limits{MaxWillBytes: budget, SessionExpiry: 3 * time.Second},
				OnRefused: refusals.add})
			hub := connect(t, b, internal(b))
			wills, _ := subscribe(t, hub, "w/#")
			var ids []string
			for i := range fits {
				id := fmt.Sprintf("delayed-%d", i)
				c, code, err := rawLoginAs(b.Addr(), 5, id, creds{}, &willSpec{topic: fmt.Sprintf("w/%d", i), payload: payload,
					delay: tc.delay, sessionExpiry: tc.session})
				if err != nil || code != 0 {
					t.Fatalf("Will %d: %v (code %#x)", i, err, code)
				}
				c.Close() // without DISCONNECT: the Will stands
				ids = append(ids, id)
			}
			waitFor(t, "the connections to end", func() bool {
				for _, id := range ids {
					if cl, ok := b.server.Clients.Get(id); ok && !cl.Closed() {
						return false
					}
				}
				return true
			})
			another := func() byte {
				c, code, err := rawLogin(b.Addr(), 5, creds{}, &willSpec{topic: "w/another", payload: payload})
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
				return code
			}
			if tc.counted {
				if code := another(); code != 0x97 {
					t.Fatalf("a Will past the budget held by %d delayed Wills: CONNACK %#x, want 0x97 (quota exceeded)", fits, code)
				}
				if refusals.get("maxWillBytes") == 0 {
					t.Fatal("the refusal was not counted")
				}
			}
			if tc.cancel {
				// Each comes back (without a Will): its delayed Will is cancelled.
				for _, id := range ids {
					c, code, err := rawLoginAs(b.Addr(), 5, id, creds{}, nil)
					if err != nil || code != 0 {
						t.Fatalf("%s back: %v (code %#x)", id, err, code)
					}
					defer c.Close()
				}
			}
			if tc.published > 0 {
				got := map[string]bool{}
				deadline := time.After(tc.published)
				for len(got) < fits {
					select {
					case m := <-wills:
						got[m.Topic()] = true
					case <-deadline:
						t.Fatalf("%d of the %d delayed Wills published within %v", len(got), fits, tc.published)
					}
				}
			} else {
				select {
				case m := <-wills:
					t.Fatalf("a cancelled Will was published: %s", m.Topic())
				case <-time.After(2 * time.Second):
				}
			}
			// Published or cancelled: they no longer count.
			waitFor(t, "room for a Will", func() bool { return another() == 0 })
		})
	}
}

// TestDelayedWillCountedOnce: while mochi publishes a delayed Will's
// client's end (it calls OnWill before it marks the client closed, and
// clears the client's Will after), the Will counts once in MaxWillBytes.
// Before, it counted twice in that window, as the client's and as delayed:
// TestDelayedWills's next login was now and then refused ("quota
// exceeded") on a loaded machine.
func TestDelayedWillCountedOnce(t *testing.T) {
	b := startBroker(t, Config{})
	payload := strings.Repeat("w", 1000)
	c, code, err := rawLoginAs(b.Addr(), 5, "delayed", creds{}, &willSpec{topic: "w/x", payload: payload, delay: 3600, sessionExpiry: 3600})
	if err != nil || code != 0 {
		t.Fatalf("login: %v (code %#x)", err, code)
	}
	defer c.Close()
	cl, ok := b.server.Clients.Get("delayed")
	if !ok {
		t.Fatal("the client is not known")
	}
	one := messageSize("w/x", []byte(payload))
	if n := b.limits.willsHeld(); n != one {
		t.Fatalf("Wills held while connected: %d bytes, want %d", n, one)
	}
	// Mochi's order when the connection ends: OnWill (the Will is delayed),
	// then the client is marked closed, then its Will cleared.
	b.limits.OnWill(cl, cl.Properties.Will)
	if n := b.limits.willsHeld(); n != one {
		t.Errorf("Wills held while the Will is being delayed: %d bytes, want %d (once)", n, one)
	}
}
