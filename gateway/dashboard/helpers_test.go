package dashboard

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/dashboard/broker"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func randID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// call is one Execute the test hub received.
type call struct {
	endpoint string
	cmd      model.Command
	cause    model.Cause
}

// testHub is a real discovery.Registry with an executor that validates,
// applies the command to the registry as the bridge's state event would, and
// records the call.
type testHub struct {
	reg   *discovery.Registry
	calls chan call
	mu    sync.Mutex
	fail  error
}

func newTestHub(t *testing.T) *testHub {
	t.Helper()
	h := &testHub{reg: discovery.NewRegistry(testSerial, discovery.WithLogger(quiet())), calls: make(chan call, 1000)}
	var devs []model.Device
	for _, name := range sortedKeys(fixtures()) {
		devs = append(devs, fixtures()[name])
	}
	h.reg.Apply("virtual", model.Event{Kind: model.EventSnapshot, Devices: devs})
	// An endpoint that came from MQTT, not published by default.
	h.reg.Apply("mqtt", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{{
		Endpoint: model.Endpoint{DeviceID: "z2m-lamp", FriendlyName: "Z2M Lamp", Category: model.CategoryLight,
			Traits: model.Traits{OnOff: &model.OnOff{}}}, Reachable: true}}})
	return h
}

func (h *testHub) setFail(err error) {
	h.mu.Lock()
	h.fail = err
	h.mu.Unlock()
}

func (h *testHub) Execute(_ context.Context, id string, cmd model.Command, cause model.Cause) (model.State, error) {
	h.calls <- call{id, cmd, cause}
	e, ok := h.reg.Get(id)
	if !ok {
		return model.State{}, &model.Error{Kind: model.ErrNotSupported, Message: "no such endpoint"}
	}
	if err := cmd.Validate(e.Endpoint.Traits, e.State); err != nil {
		return model.State{}, err
	}
	h.mu.Lock()
	fail := h.fail
	h.mu.Unlock()
	if fail != nil {
		return model.State{}, fail
	}
	h.reg.Apply(e.Endpoint.Bridge, model.Event{Kind: model.EventState, DeviceID: e.Endpoint.DeviceID,
		State: cmd.Apply(model.State{}), Cause: cause})
	return cmd.Apply(e.State), nil
}

func (h *testHub) entry(t *testing.T, device string) discovery.Entry {
	t.Helper()
	e, ok := h.reg.Get(model.EndpointID(testSerial, "virtual", device))
	if !ok {
		t.Fatalf("no endpoint %s", device)
	}
	return e
}

// target is a broker a test runs against.
type target struct {
	name       string
	url        string
	user, pass string
	prefix     string // topic prefix (unique per run on a shared broker)
	disc       string // discovery prefix
	b          *broker.Broker
}

// targets returns the embedded broker and, with AVSHUB_MOSQUITTO set, Mosquitto.
func targets(t *testing.T) []target {
	t.Helper()
	b, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	ts := []target{{name: "embedded", url: b.URL(), prefix: DefaultTopicPrefix, disc: DefaultDiscoveryPrefix, b: b}}
	if addr := os.Getenv("AVSHUB_MOSQUITTO"); addr != "" {
		id := randID()
		ts = append(ts, target{name: "mosquitto", url: "tcp://" + addr, prefix: "avshubtest-" + id, disc: "hatest-" + id})
	}
	return ts
}

type message struct {
	topic    string
	payload  []byte
	retained bool
}

// observer is a plain MQTT client recording every message it receives.
type observer struct {
	c      paho.Client
	mu     sync.Mutex
	msgs   []message
	notify chan struct{}
}

func observe(t *testing.T, url, user, pass string, filters ...string) *observer {
	t.Helper()
	o := &observer{notify: make(chan struct{}, 1)}
	o.c = dialClient(t, url, user, pass)
	for _, f := range filters {
		tok := o.c.Subscribe(f, 1, func(_ paho.Client, m paho.Message) {
			o.mu.Lock()
			o.msgs = append(o.msgs, message{m.Topic(), append([]byte(nil), m.Payload()...), m.Retained()})
			o.mu.Unlock()
			select {
			case o.notify <- struct{}{}:
			default:
			}
		})
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("subscribe %s: %v", f, tok.Error())
		}
	}
	return o
}

func dialClient(t *testing.T, url, user, pass string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("obs-" + randID()).
		SetUsername(user).SetPassword(pass).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
	tok := c.Connect()
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s as %q: %v", url, user, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}

func (o *observer) last(topic string) (message, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.msgs) - 1; i >= 0; i-- {
		if o.msgs[i].topic == topic {
			return o.msgs[i], true
		}
	}
	return message{}, false
}

func (o *observer) count(topic string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, m := range o.msgs {
		if m.topic == topic {
			n++
		}
	}
	return n
}

func (o *observer) since(i int) []message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]message(nil), o.msgs[min(i, len(o.msgs)):]...)
}

func (o *observer) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.msgs)
}

// wait polls cond until it holds or 10 s pass.
func (o *observer) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-o.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// lastJSON waits for a message on topic satisfying cond and returns it decoded.
func (o *observer) lastJSON(t *testing.T, topic string, cond func(map[string]any) bool) map[string]any {
	t.Helper()
	var v map[string]any
	o.wait(t, "a matching message on "+topic, func() bool {
		m, ok := o.last(topic)
		if !ok || len(m.payload) == 0 {
			return false
		}
		v = nil
		if json.Unmarshal(m.payload, &v) != nil {
			return false
		}
		return cond == nil || cond(v)
	})
	return v
}

func publishTo(t *testing.T, c paho.Client, topic string, retained bool, payload string) {
	t.Helper()
	tok := c.Publish(topic, 1, retained, payload)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// record is one OnPublish call.
type record struct {
	topic    string
	retained bool
	payload  string
}

type recorder struct {
	mu     sync.Mutex
	recs   []record
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) onPublish(topic string, retained bool, payload []byte) {
	r.mu.Lock()
	r.recs = append(r.recs, record{topic, retained, string(payload)})
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// waitCount waits until count(topic, payload) > n.
func (r *recorder) waitCount(t *testing.T, topic, payload string, n int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for r.count(topic, payload) <= n {
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("no new %q on %s within %v", payload, topic, within)
		}
	}
}

func (r *recorder) count(topic, payload string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.recs {
		if x.topic == topic && (payload == "" || x.payload == payload) {
			n++
		}
	}
	return n
}

// runPublisher starts a publisher and stops it at cleanup (or with the returned func).
func runPublisher(t *testing.T, cfg Config, reg Registry, exec Executor) (*Publisher, func()) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet()
	}
	p, err := New(cfg, reg, exec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				var stacks bytes.Buffer
				_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
				t.Errorf("Run did not return after cancel; goroutines:\n%s", stacks.String())
			}
		})
	}
	t.Cleanup(stop)
	return p, stop
}

func drainCalls(h *testHub) []call {
	var out []call
	for {
		select {
		case c := <-h.calls:
			out = append(out, c)
		default:
			return out
		}
	}
}

func waitCalls(t *testing.T, h *testHub, n int) []call {
	t.Helper()
	var out []call
	deadline := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case c := <-h.calls:
			out = append(out, c)
		case <-deadline:
			t.Fatalf("got %d Execute calls, want %d", len(out), n)
		}
	}
	return out
}

func dialNoFail(url, user, pass string) (paho.Client, error) {
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID("x-" + randID()).
		SetUsername(user).SetPassword(pass).SetAutoReconnect(false).SetConnectTimeout(3 * time.Second))
	tok := c.Connect()
	if !tok.WaitTimeout(5 * time.Second) {
		return nil, errors.New("timeout")
	}
	return c, tok.Error()
}

// benchTarget starts an embedded broker for a benchmark and returns its URL.
func benchTarget(b *testing.B) string {
	b.Helper()
	br, err := broker.Start(context.Background(), broker.Config{Listen: "127.0.0.1:0", Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = br.Close() })
	return br.URL()
}

func newTestHubB(b *testing.B) *testHub {
	b.Helper()
	h := &testHub{reg: discovery.NewRegistry(testSerial, discovery.WithLogger(quiet())), calls: make(chan call, 1000)}
	var devs []model.Device
	for _, name := range sortedKeys(fixtures()) {
		devs = append(devs, fixtures()[name])
	}
	h.reg.Apply("virtual", model.Event{Kind: model.EventSnapshot, Devices: devs})
	return h
}

func benchDial(b *testing.B, url string) paho.Client {
	b.Helper()
	c, err := dialNoFail(url, "", "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Disconnect(50) })
	return c
}

// nextJSON waits for the message on topic after the first n and returns it decoded.
func (o *observer) nextJSON(t *testing.T, topic string, n int) map[string]any {
	t.Helper()
	var got *message
	o.wait(t, "a new message on "+topic, func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		i := 0
		for _, m := range o.msgs {
			if m.topic == topic {
				if i == n {
					got = &m
					return true
				}
				i++
			}
		}
		return false
	})
	var v map[string]any
	if err := json.Unmarshal(got.payload, &v); err != nil {
		t.Fatalf("%s: %q: %v", topic, got.payload, err)
	}
	return v
}

// testLogger returns a logger whose output the test prints if it fails.
func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	var mu sync.Mutex
	var buf bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			t.Logf("log:\n%s", buf.String())
			mu.Unlock()
		}
	})
	return slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
