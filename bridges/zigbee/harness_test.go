package zigbee

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
	"github.com/avshub/avshub/bridges/zigbee/znpsim"
	"github.com/avshub/avshub/discovery/model"
)

// Test device addresses (the simulator's default YAML).
const (
	ieeeHue    = "0017880104a1c3e5"
	ieeeIkeaCT = "000d6ffffe2b9c41"
	ieeeDim    = "0017880106f2d011"
	ieeeLock   = "000d6f000fa35c72"
	ieeeTRV    = "0014500000a1b2c3"
	ieeeAqara  = "00158d0002d4e5f6"
	ieeeRemote = "000d6ffffe7788aa"
)

// recEmitter records a bridge's events.
type recEmitter struct {
	mu     sync.Mutex
	events []model.Event
	notify chan struct{}
}

func newRecEmitter() *recEmitter { return &recEmitter{notify: make(chan struct{}, 1)} }

func (e *recEmitter) add(ev model.Event) {
	e.mu.Lock()
	ev.Seq = uint64(len(e.events) + 1)
	ev.At = time.Now()
	e.events = append(e.events, ev)
	e.mu.Unlock()
	select {
	case e.notify <- struct{}{}:
	default:
	}
}

func (e *recEmitter) Health(h model.Health) {
	e.add(model.Event{Kind: model.EventHealth, Health: &h})
}
func (e *recEmitter) Snapshot(d []model.Device) {
	e.add(model.Event{Kind: model.EventSnapshot, Devices: d})
}
func (e *recEmitter) Upsert(d model.Device) {
	e.add(model.Event{Kind: model.EventUpsert, Device: &d})
}
func (e *recEmitter) Remove(id string) {
	e.add(model.Event{Kind: model.EventRemove, DeviceID: id})
}
func (e *recEmitter) StateChanged(id string, s model.State, c model.Cause) {
	e.add(model.Event{Kind: model.EventState, DeviceID: id, State: s, Cause: c})
}
func (e *recEmitter) Reachability(id string, r bool) {
	e.add(model.Event{Kind: model.EventReachability, DeviceID: id, Reachable: r})
}
func (e *recEmitter) Complete(cid string, s model.State, err error) {
	e.add(model.Event{Kind: model.EventCompletion, Completion: &model.Completion{CorrelationID: cid, State: s, Err: model.AsError(err)}})
}
func (e *recEmitter) Pairing(p model.Pairing) {
	e.add(model.Event{Kind: model.EventPairing, Pairing: &p})
}
func (e *recEmitter) Link(id string, l model.Link) {
	e.add(model.Event{Kind: model.EventLink, DeviceID: id, Link: &l})
}

// since returns the number of events so far (a mark for waitFor).
func (e *recEmitter) mark() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.events)
}

// waitFor waits until an event after mark satisfies pred and returns it.
func (e *recEmitter) waitFor(t testing.TB, mark int, what string, pred func(model.Event) bool) model.Event {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		e.mu.Lock()
		for _, ev := range e.events[mark:] {
			if pred(ev) {
				e.mu.Unlock()
				return ev
			}
		}
		e.mu.Unlock()
		select {
		case <-e.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// frameLog records the frames the simulator sees.
type frameLog struct {
	mu     sync.Mutex
	frames []unpi.Frame
}

func (l *frameLog) hook(dir znpsim.Direction, f unpi.Frame) {
	if dir != znpsim.HostToZNP {
		return
	}
	l.mu.Lock()
	l.frames = append(l.frames, f)
	l.mu.Unlock()
}

func (l *frameLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.frames)
}

// zclSent returns the ZCL payloads of AF_DATA_REQUESTs to cluster since mark.
func (l *frameLog) zclSent(mark int, cluster uint16) [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]byte
	for _, f := range l.frames[mark:] {
		if f.Subsystem == unpi.AF && f.Cmd == mt.AfDataRequest && len(f.Data) >= 10 &&
			uint16(f.Data[4])|uint16(f.Data[5])<<8 == cluster {
			out = append(out, f.Data[10:10+int(f.Data[9])])
		}
	}
	return out
}

type rig struct {
	t      testing.TB
	sim    *znpsim.Sim
	frames *frameLog
	trace  *syncBuffer
	link   string
	dir    string
	br     *Bridge
	em     *recEmitter
	stop   context.CancelFunc
	done   chan error
	simEnd chan error
	cancel context.CancelFunc
	hook   func(out bool, raw []byte)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger(t testing.TB) *slog.Logger {
	lvl := slog.LevelWarn
	if os.Getenv("ZIGBEE_DEBUG") != "" {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: lvl}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

func testDevices(t testing.TB) []znpsim.DeviceSpec {
	specs, err := znpsim.ParseDevices(znpsim.DefaultDevicesYAML())
	if err != nil {
		t.Fatal(err)
	}
	for i := range specs {
		if specs[i].Type == "yale-lock" {
			specs[i].LockDelay = 100 * time.Millisecond
		}
	}
	return specs
}

// newRig starts a simulator on a pty and a bridge on its link.
func newRig(t testing.TB, specs []znpsim.DeviceSpec) *rig { return newRigTB(t, specs, nil) }

// newRigTB is newRig with an optional hook on the bridge's frames.
func newRigTB(t testing.TB, specs []znpsim.DeviceSpec, hook func(out bool, raw []byte)) *rig {
	t.Helper()
	return newRigFull(t, specs, t.TempDir(), hook)
}

// newRigInDir is newRig with a given data directory.
func newRigInDir(t testing.TB, specs []znpsim.DeviceSpec, dir string) *rig {
	t.Helper()
	return newRigFull(t, specs, dir, nil)
}

func newRigFull(t testing.TB, specs []znpsim.DeviceSpec, dir string, hook func(out bool, raw []byte)) *rig {
	t.Helper()
	r := &rig{t: t, frames: &frameLog{}, trace: &syncBuffer{}, dir: dir, hook: hook}
	r.link = filepath.Join(r.dir, "ttyZNP")
	sim, err := znpsim.New(znpsim.Options{Devices: specs, Logger: testLogger(t), Trace: r.trace, OnFrame: r.frames.hook, Latency: 2 * time.Millisecond, JoinDelay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.sim = sim
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	ready := make(chan struct{})
	r.simEnd = make(chan error, 1)
	go func() { r.simEnd <- sim.RunPTY(ctx, r.link, func(string) { close(ready) }) }()
	select {
	case <-ready:
	case err := <-r.simEnd:
		t.Fatalf("simulator: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("ZIGBEE_DEBUG") != "" {
			t.Logf("trace:\n%s", r.trace.String())
		}
		r.stopBridge()
		cancel()
		<-r.simEnd
		sim.Close()
	})
	r.startBridge()
	return r
}

func (r *rig) startBridge() {
	r.t.Helper()
	opts := []Option{WithLogger(testLogger(r.t))}
	if os.Getenv("ZIGBEE_DEBUG") != "" {
		t := r.t
		opts = append(opts, WithTrace(func(out bool, raw []byte) { t.Logf("bridge out=%v % X", out, raw) }))
	} else if r.hook != nil {
		opts = append(opts, WithTrace(r.hook))
	}
	r.br = New(opts...)
	r.br.lockWait = 1500 * time.Millisecond
	r.br.reopenMax = 300 * time.Millisecond
	cfg := fmt.Sprintf(`{"port":%q,"availabilitySeconds":3600,"responseTimeoutMs":1500}`, r.link)
	if err := r.br.Configure(context.Background(), sdkConfig(cfg, r.dir)); err != nil {
		r.t.Fatal(err)
	}
	r.em = newRecEmitter()
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	r.done = make(chan error, 1)
	go func() { r.done <- r.br.Run(ctx, r.em) }()
	r.em.waitFor(r.t, 0, "HEALTHY", func(ev model.Event) bool {
		return ev.Kind == model.EventHealth && ev.Health.State == model.HealthHealthy
	})
}

func (r *rig) stopBridge() {
	if r.stop == nil {
		return
	}
	r.stop()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		r.t.Error("Run did not return after cancel")
	}
	r.stop = nil
}

// pair opens the network and waits until every device with traits is published.
func (r *rig) pair(ids ...string) map[string]model.Device {
	r.t.Helper()
	m := r.em.mark()
	if err := r.br.StartPairing(context.Background(), 60*time.Second); err != nil {
		r.t.Fatal(err)
	}
	out := map[string]model.Device{}
	for _, id := range ids {
		ev := r.em.waitFor(r.t, m, "upsert of "+id, func(ev model.Event) bool {
			return ev.Kind == model.EventUpsert && ev.Device.Endpoint.DeviceID == id
		})
		out[id] = *ev.Device
	}
	return out
}

func (r *rig) exec(id string, c model.Command) (model.Result, error) {
	return r.br.Execute(context.Background(), model.Request{CorrelationID: "c-" + id, DeviceID: id, Command: c, Deadline: time.Now().Add(8 * time.Second)})
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// record returns a copy of a device record.
func (r *rig) record(id string) (record, bool) {
	r.br.mu.Lock()
	defer r.br.mu.Unlock()
	rec, ok := r.br.devices[id]
	if !ok {
		return record{}, false
	}
	return *rec, true
}
