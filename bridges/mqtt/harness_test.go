package mqtt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/internal/cleanstore"
	"github.com/avshub/avshub/plugins/sdk"
)

// brokerKind is one real broker the integration tests run against.
type brokerKind struct {
	name  string
	start func(t testing.TB) (url string, mochi *mqtttest.Broker)
}

// brokers returns the embedded mochi broker, and Mosquitto when
// AVSHUB_MOSQUITTO (host:port) is set.
func brokers() []brokerKind {
	bs := []brokerKind{{name: "mochi", start: func(t testing.TB) (string, *mqtttest.Broker) {
		b := mqtttest.MustStart(t, mqtttest.Options{})
		return b.URL, b
	}}}
	if addr := os.Getenv("AVSHUB_MOSQUITTO"); addr != "" {
		bs = append(bs, brokerKind{name: "mosquitto", start: func(testing.TB) (string, *mqtttest.Broker) { return "tcp://" + addr, nil }})
	}
	return bs
}

// forEachBroker runs f as a subtest per broker (Mosquitto is reported as
// skipped with the reason when it is not configured).
func forEachBroker(t *testing.T, f func(t *testing.T, bk brokerKind)) {
	for _, bk := range brokers() {
		t.Run(bk.name, func(t *testing.T) { f(t, bk) })
	}
	if os.Getenv("AVSHUB_MOSQUITTO") == "" {
		t.Run("mosquitto", func(t *testing.T) { t.Skip("AVSHUB_MOSQUITTO (host:port) is not set") })
	}
}

// uniq returns a topic root unique to this run, so tests sharing a broker
// (Mosquitto keeps retained messages) never see each other.
func uniq(t testing.TB) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "avshubtest/" + hex.EncodeToString(b[:])
}

// recorder is a model.Sink that keeps every event and the device set the
// events describe, like the hub's registry.
type recorder struct {
	mu      sync.Mutex
	events  []model.Event
	devices map[string]model.Device
	health  model.Health
	changed chan struct{}
}

func newRecorder() *recorder {
	return &recorder{devices: map[string]model.Device{}, changed: make(chan struct{}, 1)}
}

func (r *recorder) BridgeEvent(_ string, ev model.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	switch ev.Kind {
	case model.EventHealth:
		r.health = *ev.Health
	case model.EventSnapshot:
		r.devices = map[string]model.Device{}
		for _, d := range ev.Devices {
			r.devices[d.Endpoint.DeviceID] = d
		}
	case model.EventUpsert:
		r.devices[ev.Device.Endpoint.DeviceID] = *ev.Device
	case model.EventRemove:
		delete(r.devices, ev.DeviceID)
	case model.EventState:
		d := r.devices[ev.DeviceID]
		d.State = d.State.Merge(ev.State)
		r.devices[ev.DeviceID] = d
	case model.EventReachability:
		d := r.devices[ev.DeviceID]
		d.Reachable = ev.Reachable
		r.devices[ev.DeviceID] = d
	case model.EventLink:
		d := r.devices[ev.DeviceID]
		d.Link = ev.Link
		r.devices[ev.DeviceID] = d
	}
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// wait polls cond (under the recorder's lock) until it holds or 10 s pass.
func (r *recorder) wait(t testing.TB, what string, cond func(r *recorder) bool) {
	t.Helper()
	r.waitUpTo(t, 10*time.Second, what, cond)
}

// waitUpTo is wait with another bound.
func (r *recorder) waitUpTo(t testing.TB, bound time.Duration, what string, cond func(r *recorder) bool) {
	t.Helper()
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		r.mu.Lock()
		ok := cond(r)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-tick.C:
		case <-deadline.C:
			r.mu.Lock()
			defer r.mu.Unlock()
			devs, _ := json.Marshal(r.devices)
			t.Fatalf("timed out waiting for %s; health %+v; devices %s; last events: %s", what, r.health, devs, lastEvents(r.events, 8))
		}
	}
}

func lastEvents(evs []model.Event, n int) string {
	if len(evs) > n {
		evs = evs[len(evs)-n:]
	}
	b, _ := json.Marshal(evs)
	return string(b)
}

func (r *recorder) device(id string) (model.Device, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.devices[id]
	return d, ok
}

// stateEvents returns the state events for id since index from.
func (r *recorder) stateEvents(id string, from int) []model.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []model.Event
	for _, e := range r.events[min(from, len(r.events)):] {
		if e.Kind == model.EventState && e.DeviceID == id {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// logCapture is a slog handler keeping warnings, and the "skipped"
// records apart, for assertions.
type logCapture struct {
	mu      sync.Mutex
	recs    []string
	skipped []string
}

func (l *logCapture) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelInfo }
func (l *logCapture) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn && r.Message != "skipped" {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	l.mu.Lock()
	if r.Message == "skipped" {
		l.skipped = append(l.skipped, b.String())
	} else {
		l.recs = append(l.recs, b.String())
	}
	l.mu.Unlock()
	return nil
}

// skippedMatching returns the "skipped" records containing sub.
func (l *logCapture) skippedMatching(sub string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.skipped {
		if strings.Contains(r, sub) {
			out = append(out, r)
		}
	}
	return out
}
func (l *logCapture) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCapture) WithGroup(string) slog.Handler      { return l }

func (l *logCapture) matching(sub string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.recs {
		if strings.Contains(r, sub) {
			out = append(out, r)
		}
	}
	return out
}

func slogFor(h slog.Handler) *slog.Logger { return slog.New(h) }

// env is one running bridge against a broker, with a raw client for the test.
type env struct {
	t      *testing.T
	url    string
	mochi  *mqtttest.Broker
	root   string
	base   string // zigbee2mqtt base topic
	prefix string // HA discovery prefix
	bridge *Bridge
	local  *sdk.LocalBridge
	rec    *recorder
	logs   *logCapture
	raw    paho.Client

	mu    sync.Mutex
	seen  []rawMsg
	rawCh chan struct{}
}

type rawMsg struct {
	topic   string
	payload string
}

func newEnv(t *testing.T, bk brokerKind) *env {
	t.Helper()
	url, mochi := bk.start(t)
	root := uniq(t)
	e := &env{t: t, url: url, mochi: mochi, root: root, base: root + "/zigbee2mqtt", prefix: root + "/homeassistant", rec: newRecorder(), logs: &logCapture{}, rawCh: make(chan struct{}, 1)}
	o := paho.NewClientOptions().AddBroker(url).SetClientID("test-raw-" + hex.EncodeToString([]byte(root[len(root)-4:]))).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(50 * time.Millisecond).SetMaxReconnectInterval(200 * time.Millisecond).
		SetStore(cleanstore.New()) // messages in order (paho's default): tests compare what was published, in order
	subscribed := make(chan struct{}, 1)
	o.SetOnConnectHandler(func(c paho.Client) {
		go e.rawSubscribe(c, subscribed)
	})
	e.raw = paho.NewClient(o)
	if tok := e.raw.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("raw client connect: %v", tok.Error())
	}
	t.Cleanup(func() { e.raw.Disconnect(50) })
	// Leave a shared broker (Mosquitto) as we found it: clear every retained
	// message under this test's root (an empty retained publish deletes one).
	t.Cleanup(func() {
		e.mu.Lock()
		topics := map[string]bool{}
		for _, m := range e.seen {
			topics[m.topic] = true
		}
		e.mu.Unlock()
		for topic := range topics {
			e.raw.Publish(topic, 1, true, "").WaitTimeout(2 * time.Second)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range e.logs.matching("") {
				t.Log(r)
			}
			if e.mochi != nil && e.mochi.Server() != nil {
				i := e.mochi.Server().Info
				t.Logf("broker: dropped %d inflight-dropped %d inflight %d retained %d", atomic.LoadInt64(&i.MessagesDropped),
					atomic.LoadInt64(&i.InflightDropped), atomic.LoadInt64(&i.Inflight), atomic.LoadInt64(&i.Retained))
				for _, cl := range e.mochi.Server().Clients.GetAll() {
					t.Logf("client %s inflight %d quota", cl.ID, cl.State.Inflight.Len())
				}
			}
		}
	})
	select {
	case <-subscribed:
	case <-time.After(5 * time.Second):
		t.Fatalf("raw client did not subscribe")
	}
	return e
}

func (e *env) rawSubscribe(c paho.Client, done chan<- struct{}) {
	tok := c.Subscribe(e.root+"/#", 1, func(_ paho.Client, m paho.Message) {
		e.mu.Lock()
		e.seen = append(e.seen, rawMsg{m.Topic(), string(m.Payload())})
		e.mu.Unlock()
		select {
		case e.rawCh <- struct{}{}:
		default:
		}
	})
	if tok.WaitTimeout(5*time.Second) && tok.Error() == nil && tok.(*paho.SubscribeToken).Result()[e.root+"/#"] < 0x80 {
		select {
		case done <- struct{}{}:
		default:
		}
	}
}

func (e *env) config(extra string) string {
	c := fmt.Sprintf(`{"broker":%q,"zigbee2mqtt":{"baseTopic":%q},"homeassistant":{"prefix":%q},"commandTimeout":"2s"`, e.url, e.base, e.prefix)
	if extra != "" {
		c += "," + extra
	}
	return c + "}"
}

// startBridge starts the bridge in process, with short timings, and waits
// (10 s) for its snapshot.
func (e *env) startBridge(extra string) {
	e.t.Helper()
	e.startBridgeWait(extra, 10*time.Second)
}

// startBridgeWait is startBridge waiting up to bound for the snapshot.
func (e *env) startBridgeWait(extra string, bound time.Duration) {
	e.t.Helper()
	e.bridge = New(slog.New(e.logs))
	e.bridge.settle, e.bridge.getDelay, e.bridge.startupWait, e.bridge.reconnectMax = 100*time.Millisecond, 200*time.Millisecond, 2*time.Second, 300*time.Millisecond
	e.local = sdk.Local(e.bridge, "mqtt", e.rec)
	if err := e.local.Start(context.Background(), sdk.Config{JSON: json.RawMessage(e.config(extra))}); err != nil {
		e.t.Fatalf("start bridge: %v", err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.local.Close(ctx); err != nil {
			e.t.Errorf("close bridge: %v", err)
		}
	})
	e.rec.waitUpTo(e.t, bound, "snapshot", func(r *recorder) bool {
		for _, ev := range r.events {
			if ev.Kind == model.EventSnapshot {
				return true
			}
		}
		return false
	})
}

// startSim starts z2msim on the env's base topic.
func (e *env) startSim() *z2msim.Sim { return e.startSimWith(z2msim.Options{}) }

// startSimWith starts z2msim with opts (broker, base topic and logger filled in).
func (e *env) startSimWith(opts z2msim.Options) *z2msim.Sim {
	e.t.Helper()
	opts.Broker, opts.BaseTopic, opts.Logger = e.url, e.base, slog.New(&logCapture{})
	sim := z2msim.New(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sim.Start(ctx); err != nil {
		e.t.Fatalf("start z2m-sim: %v", err)
	}
	e.t.Cleanup(sim.Close)
	return sim
}

func (e *env) publish(topic, payload string, retain bool) {
	e.t.Helper()
	tok := e.raw.Publish(topic, 1, retain, payload)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		e.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

func (e *env) mark() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.seen)
}

// rawSince returns the payloads seen on topic since mark.
func (e *env) rawSince(mark int, topic string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, m := range e.seen[min(mark, len(e.seen)):] {
		if m.topic == topic {
			out = append(out, m.payload)
		}
	}
	return out
}

// waitRaw waits until a message on topic satisfies ok and returns it.
func (e *env) waitRaw(topic string, ok func(string) bool) string {
	e.t.Helper()
	return e.waitRawSince(0, topic, ok)
}

// waitRawSince waits until a message on topic after mark satisfies ok.
func (e *env) waitRawSince(mark int, topic string, ok func(string) bool) string {
	e.t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		for _, p := range e.rawSince(mark, topic) {
			if ok(p) {
				return p
			}
		}
		select {
		case <-e.rawCh:
		case <-deadline.C:
			e.t.Fatalf("no matching message on %s; saw %q", topic, e.rawSince(mark, topic))
			return ""
		}
	}
}

var corrSeq atomic.Int64

// exec runs one command through the SDK's in-process adapter.
func (e *env) exec(id string, c model.Command) (model.Result, error) {
	res, _, err := e.execCorr(id, c)
	return res, err
}

// execCorr runs one command and returns its correlation id too.
func (e *env) execCorr(id string, c model.Command) (model.Result, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	corr := fmt.Sprintf("c-%s-%d", id, corrSeq.Add(1))
	res, err := e.local.Execute(ctx, model.Request{CorrelationID: corr, DeviceID: id, Command: c, Deadline: time.Now().Add(7 * time.Second)})
	return res, corr, err
}

// execFinal runs one command and returns how Execute answered and the
// command's final outcome: the Done state, or an Accepted command's
// Completion (waited for).
func (e *env) execFinal(id string, c model.Command) (model.ResultStatus, model.State, error) {
	e.t.Helper()
	res, corr, err := e.execCorr(id, c)
	if err != nil || res.Status != model.Accepted {
		return res.Status, res.State, err
	}
	var comp *model.Completion
	e.rec.wait(e.t, "the completion of "+corr, func(r *recorder) bool {
		for _, ev := range r.events {
			if ev.Kind == model.EventCompletion && ev.Completion.CorrelationID == corr {
				comp = ev.Completion
				return true
			}
		}
		return false
	})
	if comp.Err != nil {
		return res.Status, model.State{}, comp.Err
	}
	return res.Status, comp.State, nil
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
