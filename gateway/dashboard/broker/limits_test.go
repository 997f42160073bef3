package broker

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/mochi-mqtt/server/v2/packets"
)

// allocatedDuring returns the bytes the process allocated while f ran.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// announce dials addr, optionally logs in, then sends a fixed header of type
// typ announcing n bytes and a few of them, and reports whether the broker
// closed the connection (instead of waiting for the rest).
func announce(t *testing.T, addr string, login bool, typ byte, n int) bool {
	t.Helper()
	var c net.Conn
	if login {
		rc, code, err := rawLogin(addr, 4, creds{}, nil)
		if err != nil || code != 0 {
			t.Fatalf("login: %v (code %#x)", err, code)
		}
		c = rc
	} else {
		var err error
		if c, err = net.Dial("tcp", addr); err != nil {
			t.Fatal(err)
		}
	}
	defer c.Close()
	if _, err := c.Write(append(append([]byte{typ}, varint(n)...), bytes.Repeat([]byte{'x'}, 64)...)); err != nil {
		return true
	}
	return closedByPeer(c, 5*time.Second)
}

// TestPacketSizeLimit: a packet announcing more than the limit ends its
// connection before the broker allocates room for it, before login (CONNECT:
// 64 KiB) and after (MaxPacketSize); packets within the limits pass.
func TestPacketSizeLimit(t *testing.T) {
	b := startBroker(t, Config{Limits: Limits{MaxPacketSize: 256 << 10}})
	const huge = 250 << 20
	for _, tc := range []struct {
		name  string
		login bool
		typ   byte
	}{
		{"CONNECT before login", false, 0x10},
		{"PUBLISH after login", true, 0x30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var closed bool
			alloc := allocatedDuring(func() {
				for range 4 {
					closed = announce(t, b.Addr(), tc.login, tc.typ, huge)
				}
			})
			if !closed {
				t.Error("the broker waited for the rest of a 250 MB packet")
			}
			if alloc > 32<<20 {
				t.Errorf("four 250 MB announcements made the process allocate %d MiB", alloc>>20)
			}
		})
	}

	t.Run("CONNECT over 64 KiB", func(t *testing.T) {
		_, _, err := rawLogin(b.Addr(), 4, creds{}, &willSpec{topic: "w", payload: strings.Repeat("x", 65<<10)})
		if err == nil {
			t.Fatal("a 65 KiB CONNECT was answered")
		}
		c, code, err := rawLogin(b.Addr(), 4, creds{}, &willSpec{topic: "w", payload: strings.Repeat("x", 32<<10)})
		if err != nil || code != 0 {
			t.Fatalf("a 32 KiB CONNECT was refused: %v (code %#x)", err, code)
		}
		c.Close()
	})

	t.Run("PUBLISH sizes", func(t *testing.T) {
		sub := connect(t, b, creds{})
		ch, _ := subscribe(t, sub, "big/#")
		pub := connect(t, b, creds{})
		if err := publish(t, pub, "big/ok", false, strings.Repeat("y", 200<<10)); err != nil {
			t.Fatal(err)
		}
		if m := receive(t, ch); m.Topic() != "big/ok" {
			t.Fatalf("got %s", m.Topic())
		}
		_ = publish(t, pub, "big/no", false, strings.Repeat("z", 300<<10))
		if err := publish(t, sub, "big/marker", false, "m"); err != nil {
			t.Fatal(err)
		}
		if m := receive(t, ch); m.Topic() != "big/marker" {
			t.Fatalf("a 300 KiB publish over a 256 KiB limit was delivered (%s)", m.Topic())
		}
		if pub.IsConnectionOpen() {
			t.Error("the client that sent a packet over the limit is still connected")
		}
	})
}

// TestPendingLogins: at most maxPendingLogins connections may wait to log in;
// the next one is closed at once, and logins work again once they are gone.
func TestPendingLogins(t *testing.T) {
	b := startBroker(t, Config{})
	var silent []net.Conn
	for range maxPendingLogins {
		c, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	// The listener counts a connection once it accepted it; the extra one
	// is closed without an answer once all the others are counted.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		refused := closedByPeer(c, 200*time.Millisecond)
		c.Close()
		if refused {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a connection beyond %d waiting to log in was not refused", maxPendingLogins)
		}
	}
	for _, c := range silent {
		c.Close()
	}
	for {
		cl, err := dial(b, creds{})
		if err == nil {
			cl.Disconnect(0)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no login after the silent connections left: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// persistent connects a client with a kept session (clean session off).
func persistent(t *testing.T, b *Broker, id string, c creds, onMsg paho.MessageHandler) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(b.URL()).SetClientID(id).SetCleanSession(false).
		SetUsername(c.user).SetPassword(c.pass).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).
		SetDefaultPublishHandler(onMsg)
	cl := paho.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", id, tok.Error())
	}
	return cl
}

// keptSession leaves a disconnected client id with a kept session subscribed
// to filter (QoS 1), once the broker has seen the client go: paho returns
// once it has sent DISCONNECT and the broker handles it in its own time.
// Messages it delivered before are the connected client's (in flight,
// bounded by its outbound buffer): they would stay in its session when the
// connection ends (a test once saw 25 KiB queued that way).
func keptSession(t *testing.T, b *Broker, id, filter string) {
	t.Helper()
	cl := persistent(t, b, id, creds{}, nil)
	if tok := cl.Subscribe(filter, 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal("subscribe failed")
	}
	cl.Disconnect(100)
	waitFor(t, "the broker to see the client gone", func() bool {
		s, ok := b.server.Clients.Get(id)
		return ok && s.Closed()
	})
}

// waitFor polls cond until it holds, or fails the test near its deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitForWithin(t, 0, what, cond)
}

// waitForWithin is waitFor for at most d (0: no bound but the test's deadline).
func waitForWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	// Until the test's own deadline (a loaded machine is slow, not wrong),
	// less a margin for the failure's report.
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Minute)
	}
	deadline = deadline.Add(-5 * time.Second)
	if bound := time.Now().Add(d); d > 0 && bound.Before(deadline) {
		deadline = bound
	}
	for ; !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestSessionExpiry: a disconnected client's session, with the messages
// queued for it, is dropped after SessionExpiry.
func TestSessionExpiry(t *testing.T) {
	b := startBroker(t, Config{Limits: Limits{SessionExpiry: time.Second}})
	cl := persistent(t, b, "sleeper", creds{}, nil)
	if tok := cl.Subscribe("q/#", 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal("subscribe failed")
	}
	cl.Disconnect(100)
	pub := connect(t, b, creds{})
	if err := publish(t, pub, "q/1", false, "queued"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the message queued for the session", func() bool {
		s, ok := b.server.Clients.Get("sleeper")
		return ok && s.State.Inflight.Len() == 1
	})
	waitFor(t, "the session to expire", func() bool { _, ok := b.server.Clients.Get("sleeper"); return !ok })
	if _, ok := b.server.Topics.Subscribers("q/1").Subscriptions["sleeper"]; ok {
		t.Error("the expired session's subscription survived in the topic index")
	}
	o := paho.NewClientOptions().AddBroker(b.URL()).SetClientID("sleeper").SetCleanSession(false).
		SetAutoReconnect(false)
	cl = paho.NewClient(o)
	tok := cl.Connect()
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("reconnect: %v", tok.Error())
	}
	defer cl.Disconnect(0)
	if tok.(*paho.ConnectToken).SessionPresent() {
		t.Error("the broker still had the session after it expired")
	}
}

// TestQueueBytes: the messages held for a disconnected client stop at
// MaxQueueBytes; other subscribers still get every message.
func TestQueueBytes(t *testing.T) {
	b := startBroker(t, Config{Limits: Limits{MaxQueueBytes: 10 << 10}})
	keptSession(t, b, "offline", "q/#")
	live := connect(t, b, creds{})
	ch, _ := subscribe(t, live, "q/#")
	pub := connect(t, b, creds{})
	payload := strings.Repeat("p", 1<<10)
	for i := range 100 {
		if err := publish(t, pub, "q/"+strconv.Itoa(i), false, payload); err != nil {
			t.Fatal(err)
		}
		receive(t, ch)
	}
	// Mochi (v2.7.9) acknowledges a QoS 1 publication before it delivers
	// it to the subscribers, one after the other in no fixed order: the live
	// client could have q/99 before the broker had tried the offline session
	// with it, and the client coming back in between was sent q/99 live, an
	// 11th message besides the 10 resent (12 runs in 2,200 under load; a make
	// test run hung, most likely on it, while the wait was for exactly 10).
	// Mochi handles a client's packets in order: once a later publication
	// is acknowledged, q/99 has been offered to every subscriber.
	if err := publish(t, pub, "sync", false, ""); err != nil {
		t.Fatal(err)
	}
	s, _ := b.server.Clients.Get("offline")
	queued := 0
	for _, pk := range s.State.Inflight.GetAll(false) {
		queued += len(pk.Payload)
	}
	if queued != 10<<10 {
		t.Fatalf("%d bytes queued for the offline client, want 10 KiB (the bound)", queued)
	}
	var mu sync.Mutex
	got := 0
	var topics []string
	back := persistent(t, b, "offline", creds{}, func(_ paho.Client, m paho.Message) {
		mu.Lock()
		got++
		topics = append(topics, fmt.Sprintf("%s dup=%v id=%d", m.Topic(), m.Duplicate(), m.MessageID()))
		mu.Unlock()
	})
	defer back.Disconnect(0)
	defer func() {
		if t.Failed() {
			mu.Lock()
			t.Logf("got %d: %v", got, topics)
			mu.Unlock()
		}
	}()
	// Mochi resends a session's messages once, as the client comes back: what
	// has not arrived within a minute never will, so the wait ends there
	// rather than at the package's deadline, and one more than queued fails too.
	want := queued >> 10
	waitForWithin(t, time.Minute, "the queued messages", func() bool { mu.Lock(); defer mu.Unlock(); return got >= want })
	mu.Lock()
	defer mu.Unlock()
	if got != want {
		t.Fatalf("the client got %d messages back, want the %d queued", got, want)
	}
}

// TestMaxClients: sessions beyond MaxClients (connected or kept for a
// disconnected client) are refused; a known client id and the hub's own user are not.
func TestMaxClients(t *testing.T) {
	b := startBroker(t, Config{Limits: Limits{MaxClients: 3},
		Users: []User{{Username: "u", Password: "p", Read: []string{"#"}, Write: []string{"#"}}}})
	for i := range 3 {
		c, code, err := rawLoginID(b.Addr(), "kept-"+strconv.Itoa(i), creds{"u", "p"})
		if err != nil || code != 0 {
			t.Fatalf("session %d: %v (code %#x)", i, err, code)
		}
		c.Close() // the session stays
	}
	waitFor(t, "three sessions", func() bool { return b.server.Clients.Len() == 3 })
	if c, code, err := rawLoginID(b.Addr(), "one-too-many", creds{"u", "p"}); err != nil || code != 0x03 {
		t.Fatalf("a fourth session: %v (code %#x, want 0x03 server unavailable)", err, code)
	} else {
		c.Close()
	}
	if c, code, err := rawLoginID(b.Addr(), "kept-1", creds{"u", "p"}); err != nil || code != 0 {
		t.Fatalf("a kept session's client was refused: %v (code %#x)", err, code)
	} else {
		c.Close()
	}
	connect(t, b, internal(b))
}

// rawLoginID logs in over MQTT 3.1.1 with client id and a kept session.
func rawLoginID(addr, id string, c creds) (net.Conn, byte, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, 0, err
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	pk := connectPacket(4, id, c, nil)
	pk[len(mqttString("MQTT"))+3] &^= 0x02 // flags byte (after the fixed header's 2 bytes): keep the session
	if _, err := conn.Write(pk); err != nil {
		conn.Close()
		return nil, 0, err
	}
	var ack [4]byte
	if _, err := conn.Read(ack[:]); err != nil {
		conn.Close()
		return nil, 0, fmt.Errorf("read CONNACK: %w", err)
	}
	return conn, ack[3], nil
}

// TestRetainedCaps: retained topics stop at MaxRetained and retained bytes at
// MaxRetainedBytes (the message is still delivered live); an update of a
// retained topic and the hub's own retained messages are not refused.
func TestRetainedCaps(t *testing.T) {
	// Five one-byte messages on "r/N" count 5 × 1,540 bytes (retainedSize)
	// and 704 for their parent level "r": 8,404; one of 1,001 bytes on "r/big"
	// 2,542, past the budget beside four others.
	b := startBroker(t, Config{Limits: Limits{MaxRetained: 5, MaxRetainedBytes: 9000},
		Users: []User{{Username: "u", Password: "p", Read: []string{"#"}, Write: []string{"#"}}}})
	u := connect(t, b, creds{"u", "p"})
	live, _ := subscribe(t, u, "r/#")
	for i := range 8 {
		if err := publish(t, u, "r/"+strconv.Itoa(i), true, "v"); err != nil {
			t.Fatal(err)
		}
		receive(t, live)
	}
	if n := len(b.server.Topics.Messages("r/#")); n != 5 {
		t.Fatalf("%d retained topics, want 5", n)
	}
	if err := publish(t, u, "r/0", true, "updated"); err != nil {
		t.Fatal(err)
	}
	receive(t, live)
	if pk, _ := b.server.Topics.Retained.Get("r/0"); string(pk.Payload) != "updated" {
		t.Fatalf("retained r/0 = %q, want the update", pk.Payload)
	}
	if err := publish(t, u, "r/1", true, ""); err != nil { // frees a slot
		t.Fatal(err)
	}
	receive(t, live)
	if err := publish(t, u, "r/big", true, strings.Repeat("b", 1001)); err != nil {
		t.Fatal(err)
	}
	receive(t, live)
	if _, ok := b.server.Topics.Retained.Get("r/big"); ok {
		t.Fatal("a retained message over MaxRetainedBytes was retained")
	}
	if err := publish(t, u, "r/new", true, "n"); err != nil {
		t.Fatal(err)
	}
	receive(t, live)
	if _, ok := b.server.Topics.Retained.Get("r/new"); !ok {
		t.Fatal("a retained message was refused after a slot was freed")
	}
	hub := connect(t, b, internal(b))
	if err := publish(t, hub, "avshub/x/state", true, "hub"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hub's retained message", func() bool { _, ok := b.server.Topics.Retained.Get("avshub/x/state"); return ok })
}

// FuzzFixedHeader: the listener's piecewise fixed-header reader agrees with
// mochi's decoder on any bytes, however they are split.
func FuzzFixedHeader(f *testing.F) {
	f.Add([]byte{0x10, 0x7f}, 1)
	f.Add([]byte{0x10, 0xff, 0xff, 0xff, 0x7f}, 2)
	f.Add([]byte{0x30, 0x80, 0x80, 0x80, 0x80, 0x01}, 3)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		if len(data) < 2 {
			return
		}
		var h fixedHeader
		if split = max(0, split) % len(data); split > 0 {
			h.feed(data[:split])
		}
		h.feed(data[split:])
		want, _, err := packets.DecodeLength(bytes.NewReader(data[1:]))
		if err != nil {
			return // malformed: mochi refuses it; the listener's verdict does not matter
		}
		if !h.done || h.remaining != want {
			t.Fatalf("% x: done=%v remaining=%d, mochi decodes %d", data, h.done, h.remaining, want)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestNoEmptyLogLines: connections dropped without DISCONNECT (after login
// or before) leave no warning without a message (mochi logs one per
// connection from its listener).
func TestNoEmptyLogLines(t *testing.T) {
	var buf syncBuffer
	b, err := Start(t.Context(), Config{Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for range 20 {
		c, code, err := rawLogin(b.Addr(), 4, creds{}, nil)
		if err != nil || code != 0 {
			t.Fatal(err)
		}
		c.Close()
		if c, err := net.Dial("tcp", b.Addr()); err == nil {
			_, _ = c.Write([]byte{0x10})
			c.Close()
		}
	}
	waitFor(t, "the broker to see every connection end", func() bool { return b.server.Clients.Len() == 0 })
	if strings.Contains(buf.String(), `msg=""`) {
		t.Fatalf("a log line without a message:\n%s", buf.String())
	}
}

// TestMaxSubscriptions: a client's new filters past the cap are refused in
// the SUBACK (and get nothing), within one SUBSCRIBE and across several; a
// filter it holds is renewed; unsubscribing makes room again.
func TestMaxSubscriptions(t *testing.T) {
	const max = 5
	b := startBroker(t, Config{Limits: Limits{MaxSubscriptions: max}})
	c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("subs").SetOrderMatters(false))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(50)
	got := make(chan string, 100)
	subscribe := func(filters ...string) map[string]byte {
		t.Helper()
		m := map[string]byte{}
		for _, f := range filters {
			m[f] = 1
		}
		tok := c.SubscribeMultiple(m, func(_ paho.Client, msg paho.Message) { got <- msg.Topic() })
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe: %v", tok.Error())
		}
		return tok.(*paho.SubscribeToken).Result()
	}
	granted := func(res map[string]byte) (n int) {
		for _, code := range res {
			if code < 0x80 {
				n++
			}
		}
		return n
	}
	var first []string
	for i := range max - 2 {
		first = append(first, fmt.Sprintf("t/%d", i))
	}
	if n := granted(subscribe(first...)); n != max-2 {
		t.Fatalf("%d of %d filters under the cap granted", n, max-2)
	}
	// One SUBSCRIBE crossing the cap: two granted, three refused; a held
	// filter in it is renewed, not counted.
	res := subscribe("t/0", "u/0", "u/1", "u/2", "u/3", "u/4")
	if n := granted(res); n != 3 || res["t/0"] >= 0x80 {
		t.Fatalf("SUBACK %v: want t/0 renewed and two new filters granted of five", res)
	}
	if n := granted(subscribe("v/0")); n != 0 {
		t.Fatal("a filter past the cap was granted")
	}
	var refused string
	for f, code := range res {
		if code >= 0x80 {
			refused = f
		}
	}
	p := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("pub"))
	if tok := p.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer p.Disconnect(50)
	for _, topic := range []string{refused, "t/1"} {
		p.Publish(topic, 1, false, "x").WaitTimeout(5 * time.Second)
	}
	select {
	case topic := <-got:
		if topic != "t/1" {
			t.Fatalf("got %s, a refused subscription", topic)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a granted subscription got nothing")
	}
	if tok := c.Unsubscribe("t/2"); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	if n := granted(subscribe("v/0")); n != 1 {
		t.Fatal("no room after an unsubscribe")
	}
}

// TestTopicLevels: a topic of more than maxTopicLevels levels is refused
// as a publication (neither delivered nor retained), as a Will (the login is
// refused) and as a subscription (failure in the SUBACK); maxTopicLevels
// levels pass. Mochi's topic index holds a node of about 600 bytes for each
// level: before, one retained message and one filter of 10,000 levels made
// the broker hold 6 MB more.
func TestTopicLevels(t *testing.T) {
	var mu sync.Mutex
	refused := map[string]int{}
	b := startBroker(t, Config{OnRefused: func(limit string) { mu.Lock(); refused[limit]++; mu.Unlock() }})
	ok := strings.Repeat("l/", maxTopicLevels-1) + "x"
	deep := strings.Repeat("l/", maxTopicLevels) + "x"
	huge := strings.Repeat("h/", 10000) + "x"

	c := connect(t, b, creds{})
	all, code := subscribe(t, c, "#")
	if code >= 0x80 {
		t.Fatalf("SUBACK %#x for #", code)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, topic := range []string{deep, huge} {
		if tok := c.Publish(topic, 0, true, "v"); !tok.WaitTimeout(5 * time.Second) {
			t.Fatal("publish timed out")
		}
	}
	if _, code := subscribe(t, c, huge+"/#"); code < 0x80 {
		t.Errorf("a filter of %d levels was granted", topicLevels(huge)+1)
	}
	if _, code := subscribe(t, c, deep); code < 0x80 {
		t.Errorf("a filter of %d levels was granted", topicLevels(deep))
	}
	if _, code := subscribe(t, c, ok); code >= 0x80 {
		t.Errorf("a filter of %d levels was refused", topicLevels(ok))
	}
	// The client's packets are handled in order: this PUBACK follows the others.
	if err := publish(t, c, ok, true, "v"); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Errorf("the broker holds %d KiB more after the deep topics, want under 1 MiB", grew>>10)
	}
	if m := receive(t, all); m.Topic() != ok {
		t.Errorf("got a message on a topic of %d levels, want only the one of %d", topicLevels(m.Topic()), maxTopicLevels)
	}
	// A new subscriber gets the retained message on ok only (then the marker).
	r := connect(t, b, creds{})
	retained, _ := subscribe(t, r, "l/#")
	if m := receive(t, retained); m.Topic() != ok {
		t.Errorf("retained on a topic of %d levels", topicLevels(m.Topic()))
	}
	if err := publish(t, r, "l/marker", false, "m"); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, retained); m.Topic() != "l/marker" {
		t.Errorf("got %d levels retained, want the marker next", topicLevels(m.Topic()))
	}

	// A Will on a topic too deep: the login is refused.
	o := paho.NewClientOptions().AddBroker(b.URL()).SetClientID("deep-will").SetAutoReconnect(false).
		SetConnectTimeout(5*time.Second).SetProtocolVersion(4).SetWill(deep, "gone", 0, true)
	w := paho.NewClient(o)
	if tok := w.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
		w.Disconnect(0)
		t.Error("a Will of more levels than the broker takes was accepted")
	}
	mu.Lock()
	defer mu.Unlock()
	if refused["maxTopicLevels"] != 5 {
		t.Errorf("refusals counted %v, want maxTopicLevels 5 (2 publications, 2 filters, 1 Will)", refused)
	}
}

// TestSubscriptionBudget: the filters of all clients together stop at
// maxSubscriptionBytes (a filter past it is refused in the SUBACK, counted),
// the memory they hold is at most what they count, and a client that leaves
// makes room. Before, only maxSubscriptions bounded them, per client: three
// clients with 1,000 filters of 32 levels each made the broker hold 58 MB.
func TestSubscriptionBudget(t *testing.T) {
	var mu sync.Mutex
	refused := map[string]int{}
	b := startBroker(t, Config{OnRefused: func(limit string) { mu.Lock(); refused[limit]++; mu.Unlock() }})
	filter := func(client string, i int) string {
		return fmt.Sprintf("%s%d", client, i) + strings.Repeat("/l", maxTopicLevels-1)
	}
	subscribeAll := func(c paho.Client, client string, n int) (granted int) {
		t.Helper()
		for i := 0; i < n; i += 50 {
			m := map[string]byte{}
			for j := i; j < min(i+50, n); j++ {
				m[filter(client, j)] = 0
			}
			tok := c.SubscribeMultiple(m, nil)
			if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				t.Fatalf("subscribe: %v", tok.Error())
			}
			for _, code := range tok.(*paho.SubscribeToken).Result() {
				if code < 0x80 {
					granted++
				}
			}
		}
		return granted
	}
	// Every filter has parent levels of its own (its first level differs).
	per := subscriptionSize(filter("a", 100)) + (maxTopicLevels-1)*topicLevelOverhead
	fits := maxSubscriptionBytes / per
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("a"))
	if tok := a.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	if n := subscribeAll(a, "a", 150); n != 150 {
		t.Fatalf("%d of 150 filters granted under the budget", n)
	}
	c := connect(t, b, creds{})
	if n := subscribeAll(c, "c", 200); n < fits-150-2 || n > fits-150 {
		t.Errorf("%d of 200 filters granted past 150 of another client, want the budget's %d", n, fits-150)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.limits.smu.Lock()
	counted, _ := b.limits.subscriptionBytes()
	b.limits.smu.Unlock()
	if held := int64(after.HeapAlloc) - int64(before.HeapAlloc); held > int64(counted) {
		t.Errorf("the filters hold %d bytes, counted %d", held, counted)
	}
	mu.Lock()
	if refused["maxSubscriptionBytes"] == 0 {
		t.Errorf("refusals counted %v, want maxSubscriptionBytes", refused)
	}
	mu.Unlock()
	// a leaves (its session with it): room again.
	a.Disconnect(50)
	waitFor(t, "a's session to end", func() bool { _, ok := b.server.Clients.Get("a"); return !ok })
	if n := subscribeAll(c, "d", 100); n != 100 {
		t.Errorf("%d of 100 filters granted once the other client left", n)
	}
}
