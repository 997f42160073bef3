package hub

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/avstest"
	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/logging"
	"github.com/avshub/avshub/gateway/lwa"
)

// The end-to-end harness: the AVS emulator (HTTP/2 over TLS, with its LWA
// emulator), a hub built from a YAML configuration by config.Parse, linked with
// the real lwa.Authorizer (a refresh token imported against the emulator), and
// the virtual bridge as a real plugin process.

const testSerial = "hub-test-0001"

// envOptions shape one test environment.
type envOptions struct {
	// Profile is the Alexa profile of the hub and the emulator (default avs).
	Profile string
	// Devices of the virtual bridge (default: virtual.DefaultDevices()).
	Devices []virtual.DeviceConfig
	// LockDelay of the virtual bridge (default 300ms: tests stay short).
	LockDelay string
	// Broker is an external MQTT broker URL; "" leaves MQTT (and the dashboard) off.
	Broker string
	// EmbeddedBroker, when set, is the listen address of the hub's own broker
	// (with the dashboard on); Broker must be empty.
	EmbeddedBroker string
	// Window is router.changeReportWindow (default 50ms).
	Window string
	// Emulator tweaks the emulator's options.
	Emulator func(*avstest.Options)
	// LogLevel of the hub (default info).
	LogLevel slog.Level
	// StatusListen is status.listen (default "off").
	StatusListen string
	// Tmpfs, when set (e.g. "2m"), mounts a tmpfs of that size as the data
	// directory (root only; the test is skipped when mount fails).
	Tmpfs string
	// ExtraBridges is YAML appended to the bridges list after the virtual
	// bridge (items indented by two spaces: "  - name: zigbee\n    path: …").
	ExtraBridges string
	// VirtualPath, when set, runs the virtual bridge from this separate binary
	// instead of the one bundled in the avshub executable.
	VirtualPath string
	// Self is the executable of the bundled bridges (default: the avshub
	// TestMain built).
	Self string
	// Unlinked leaves the hub unlinked (no refresh token stored).
	Unlinked bool
}

// testEnv is one emulator with (at most) one hub running against it.
type testEnv struct {
	t    testing.TB
	opts envOptions
	emu  *avstest.Server
	dir  string
	cfg  *config.Config
	log  *lockedFile

	hub    *Hub
	cancel context.CancelFunc
	done   chan error

	unmount func()
}

// newEnv starts the emulator, writes the hub's configuration and links the
// hub (a refresh token imported through lwa, as `avshub link` would store it).
// The hub is not started: call start.
func newEnv(t testing.TB, o envOptions) *testEnv {
	t.Helper()
	if o.Profile == "" {
		o.Profile = "avs"
	}
	if o.LockDelay == "" {
		o.LockDelay = "300ms"
	}
	if o.Window == "" {
		o.Window = "50ms"
	}
	dir := t.TempDir()
	eo := avstest.Options{Profile: o.Profile, CertDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if o.Emulator != nil {
		o.Emulator(&eo)
	}
	emu, err := avstest.New(eo)
	if err != nil {
		t.Fatalf("emulator: %v", err)
	}
	lf, err := openLockedFile(filepath.Join(dir, "hub.log"))
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, opts: o, emu: emu, dir: dir, log: lf}
	t.Cleanup(func() {
		e.stop()
		if e.unmount != nil {
			e.unmount()
		}
		if t.Failed() {
			keep := filepath.Join(os.TempDir(), "avshub-"+strings.ReplaceAll(t.Name(), "/", "-")+".log")
			if b, err := os.ReadFile(lf.f.Name()); err == nil && os.WriteFile(keep, b, 0o600) == nil {
				t.Logf("hub log kept in %s", keep)
			}
			var rec strings.Builder
			for i, r := range emu.Events() {
				fmt.Fprintf(&rec, "%d %s conn=%d %s %d %s\n", i, r.ReceivedAt.Format("15:04:05.000"), r.Conn, r.Name(), r.Status, r.Error)
			}
			_ = os.WriteFile(strings.TrimSuffix(keep, ".log")+"-events.txt", []byte(rec.String()), 0o600)
			t.Logf("hub log (tail):\n%s", lf.tail(40))
		}
		lf.Close()
		emu.Close()
	})
	e.cfg = e.parseConfig()
	if o.Tmpfs != "" {
		e.mountTmpfs(e.cfg.Hub.DataDir, o.Tmpfs)
	}
	if o.Unlinked {
		return e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lc, err := lwa.FromConfig(e.cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := lwa.ImportRefreshToken(ctx, lc, emu.IssueToken().RefreshToken, io.Discard); err != nil {
		t.Fatalf("importing a refresh token: %v", err)
	}
	if lc.HTTPClient != nil {
		lc.HTTPClient.CloseIdleConnections() // avstest.Close does not close idle HTTP/2 client connections
	}
	return e
}

// configYAML is the hub's configuration file for this environment.
func (e *testEnv) configYAML() string {
	devs := e.opts.Devices
	if devs == nil {
		devs = virtual.DefaultDevices()
	}
	vc, err := json.Marshal(map[string]any{"devices": devs, "lockDelay": e.opts.LockDelay})
	if err != nil {
		e.t.Fatal(err)
	}
	mqtt := "mqtt:\n  embedded:\n    disabled: true\ndashboard:\n  disabled: true\n"
	if e.opts.Broker != "" {
		mqtt = fmt.Sprintf("mqtt:\n  broker: %s\ndashboard:\n  disabled: false\n", e.opts.Broker)
	}
	if e.opts.EmbeddedBroker != "" {
		mqtt = fmt.Sprintf("mqtt:\n  embedded:\n    listen: %q\ndashboard:\n  disabled: false\n", e.opts.EmbeddedBroker)
	}
	return fmt.Sprintf(`hub:
  serialNumber: %[1]s
  productId: avshub_test
  dataDir: %[2]s/data
  profile: %[3]s
avs:
  url: %[4]s
  caFile: %[5]s
lwa:
  clientId: amzn1.application-oa2-client.hubtest
  url: %[4]s
  caFile: %[5]s
router:
  changeReportWindow: %[8]s
bridges:
  - name: virtual
    %[6]s
    startTimeout: 20s
    config: %[7]s
%[11]s%[9]sstatus:
  listen: %[10]q
  socket: %[2]s/avshub.sock
log:
  level: info
  levels: {hub: debug, router: debug}
`, testSerial, e.dir, e.opts.Profile, e.emu.URL(), e.emu.CAFile(),
		e.virtualLaunch(), vc, e.opts.Window, mqtt, cmp.Or(e.opts.StatusListen, "off"), e.opts.ExtraBridges)
}

// self is the executable the hub runs its bundled bridges from.
func (e *testEnv) self() string { return cmp.Or(e.opts.Self, filepath.Join(binDir, "avshub")) }

// virtualLaunch is the virtual bridge's path line, or a comment saying it is
// the bundled one.
func (e *testEnv) virtualLaunch() string {
	if e.opts.VirtualPath != "" {
		return "path: " + e.opts.VirtualPath
	}
	return "# no path: the bundled virtual bridge, run as " + e.self() + " bridge virtual"
}

func (e *testEnv) parseConfig() *config.Config {
	path := filepath.Join(e.dir, "avshub.yaml")
	text := e.configYAML()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		e.t.Fatal(err)
	}
	cfg, err := config.Parse(path, []byte(text))
	if err != nil {
		e.t.Fatalf("config.Parse: %v\n%s", err, text)
	}
	return cfg
}

// start builds a new Hub on the environment's data directory and runs it.
func (e *testEnv) start() *Hub {
	e.t.Helper()
	if e.hub != nil {
		e.t.Fatal("start: a hub is already running")
	}
	level := e.opts.LogLevel
	if os.Getenv("AVSHUB_TEST_DEBUG") != "" { // full hub logs in the kept log file
		level = slog.LevelDebug
	}
	h, err := New(e.parseConfig(), Options{Version: "test", Self: e.self(), Logs: logging.New(e.log, logging.Options{Level: level, Redact: lwa.NewRedactingHandler})})
	if err != nil {
		e.t.Fatalf("hub.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.hub, e.cancel, e.done = h, cancel, make(chan error, 1)
	go func() { e.done <- h.Run(ctx) }()
	return h
}

// stop stops the running hub (if any) and waits for Run to return.
func (e *testEnv) stop() {
	if e.hub == nil {
		return
	}
	e.cancel()
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Errorf("hub.Run returned %v", err)
		}
	case <-time.After(20 * time.Second):
		e.t.Errorf("hub.Run did not return within 20 s of cancel")
	}
	e.hub = nil
}

// waitConnected waits until the hub says CONNECTED and the emulator has seen
// the whole post-connect sequence.
func (e *testEnv) waitConnected() {
	e.t.Helper()
	ctx, cancel := waitContext(e.t)
	defer cancel()
	if _, err := e.emu.WaitForState(ctx, func(s avstest.State) bool { return s.Connected && s.PostConnectDone }); err != nil {
		e.t.Fatalf("emulator never saw a completed post-connect: %v (state %+v)", err, e.emu.State())
	}
	e.poll(ctx, "hub CONNECTED", func() error {
		if st := e.hub.Status().AVS.State; st != "CONNECTED" {
			return fmt.Errorf("hub state %s", st)
		}
		return nil
	})
}

// waitContext is the context of a wait for something that must happen (the
// hub connected, Alexa knowing every endpoint, a page showing a change): it
// ends at the test's deadline (go test -timeout) less a twentieth of the
// time left then, to report and clean up, and never for a benchmark. A
// loaded machine makes the hub slow, not wrong: a wait is no assertion on
// speed (the benchmarks measure that).
func waitContext(tb testing.TB) (context.Context, context.CancelFunc) {
	if t, ok := tb.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := t.Deadline(); ok {
			return context.WithDeadline(context.Background(), end.Add(-time.Until(end)/20))
		}
	}
	return context.WithCancel(context.Background())
}

// poll calls f until it returns nil, failing the test with f's last error when ctx ends.
func (e *testEnv) poll(ctx context.Context, what string, f func() error) {
	e.t.Helper()
	if err := pollErr(ctx, f); err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// pollErr calls f every 10 ms until it returns nil or ctx ends; it then
// returns f's last error and, when that differs, the last one from before the
// deadline (a call the deadline cut short hides what was really wrong).
func pollErr(ctx context.Context, f func() error) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var live error // the last error while ctx was alive: the deadline cuts the last call short
	for {
		err := f()
		if err == nil {
			return nil
		}
		if ctx.Err() == nil {
			live = err
		}
		select {
		case <-ctx.Done():
			if live != nil && live.Error() != err.Error() {
				return fmt.Errorf("%w (before the deadline: %v)", err, live)
			}
			return err
		case <-tick.C:
		}
	}
}

// id is the global endpoint id of a virtual device.
func id(deviceID string) string { return model.EndpointID(testSerial, "virtual", deviceID) }

// deviceIDs lists the configured virtual devices.
func (e *testEnv) deviceIDs() []string {
	devs := e.opts.Devices
	if devs == nil {
		devs = virtual.DefaultDevices()
	}
	out := make([]string, len(devs))
	for i, d := range devs {
		out[i] = d.ID
	}
	return out
}

// waitKnown waits until the emulator knows the hub's own endpoint and every virtual device.
func (e *testEnv) waitKnown() {
	e.t.Helper()
	ctx, cancel := waitContext(e.t)
	defer cancel()
	want := append([]string{e.hub.conn.(*connection).deviceID()}, mapIDs(e.deviceIDs())...)
	e.poll(ctx, "Alexa to know every endpoint", func() error {
		for _, w := range want {
			if _, ok := e.emu.Endpoint(w); !ok {
				return fmt.Errorf("emulator does not know %s (knows %d endpoints)", w, len(e.emu.Endpoints()))
			}
		}
		return nil
	})
}

func mapIDs(devs []string) []string {
	out := make([]string, len(devs))
	for i, d := range devs {
		out[i] = id(d)
	}
	return out
}

// answer is a directive's final event, decoded.
type answer struct {
	Namespace, Name string
	Payload         map[string]any
	Properties      []prop
	Events          []string // every event name answering the directive, in order
}

// send sends a directive through the emulator and waits for its final answer.
func (e *testEnv) send(ctx context.Context, ns, name, endpoint, instance string, payload any) (answer, error) {
	var raw json.RawMessage
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			return answer{}, err
		}
		raw = b
	}
	res, err := e.emu.SendDirective(ctx, avstest.DirectiveRequest{Namespace: ns, Name: name, EndpointID: endpoint, Instance: instance, Payload: raw}, true)
	if err != nil {
		return answer{}, err
	}
	var a answer
	for _, ev := range res.Events {
		p, err := parseEvent(ev)
		if err != nil {
			return answer{}, err
		}
		a.Events = append(a.Events, p.Header.Name)
		a.Namespace, a.Name, a.Payload, a.Properties = p.Header.Namespace, p.Header.Name, p.Payload, p.props()
	}
	return a, nil
}

// mustSend is send that fails the test on error.
func (e *testEnv) mustSend(ns, name, endpoint, instance string, payload any) answer {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	a, err := e.send(ctx, ns, name, endpoint, instance, payload)
	if err != nil {
		e.t.Fatalf("%s.%s to %s: %v", ns, name, endpoint, err)
	}
	return a
}

// event is the part of an Alexa event the harness reads.
type event struct {
	Context struct {
		Properties []prop `json:"properties"`
	} `json:"context"`
	Event struct {
		Header struct {
			Namespace        string `json:"namespace"`
			Name             string `json:"name"`
			CorrelationToken string `json:"correlationToken"`
		} `json:"header"`
		Endpoint struct {
			EndpointID string `json:"endpointId"`
		} `json:"endpoint"`
		Payload json.RawMessage `json:"payload"`
	} `json:"event"`
}

type parsedEvent struct {
	Header   struct{ Namespace, Name string }
	Endpoint string
	Payload  map[string]any
	Context  []prop
	Changed  []prop
}

func (p parsedEvent) props() []prop { return append(append([]prop{}, p.Changed...), p.Context...) }

// prop is one context property as it crossed the wire.
type prop struct {
	Namespace    string `json:"namespace"`
	Instance     string `json:"instance"`
	Name         string `json:"name"`
	Value        any    `json:"value"`
	TimeOfSample string `json:"timeOfSample"`
}

func (p prop) key() string { return p.Namespace + "|" + p.Instance + "|" + p.Name }

func parseEvent(raw []byte) (parsedEvent, error) {
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return parsedEvent{}, fmt.Errorf("event: %w", err)
	}
	var p parsedEvent
	p.Header.Namespace, p.Header.Name = ev.Event.Header.Namespace, ev.Event.Header.Name
	p.Endpoint = ev.Event.Endpoint.EndpointID
	p.Context = ev.Context.Properties
	if len(ev.Event.Payload) > 0 {
		_ = json.Unmarshal(ev.Event.Payload, &p.Payload)
		var ch struct {
			Change struct {
				Properties []prop `json:"properties"`
			} `json:"change"`
		}
		if json.Unmarshal(ev.Event.Payload, &ch) == nil {
			p.Changed = ch.Change.Properties
		}
	}
	return p, nil
}

// alexaView folds every accepted event the emulator received into what Alexa
// now believes of each endpoint: per property, the value with the latest
// timeOfSample (ties: the later event).
func (e *testEnv) alexaView() map[string]map[string]prop {
	view := map[string]map[string]prop{}
	for _, r := range e.emu.Events() {
		if r.Status >= 300 {
			continue
		}
		p, err := parseEvent(r.Event)
		if err != nil || p.Endpoint == "" {
			continue
		}
		switch p.Header.Name {
		case "Response", "StateReport", "ChangeReport":
		default:
			continue
		}
		m := view[p.Endpoint]
		if m == nil {
			m = map[string]prop{}
			view[p.Endpoint] = m
		}
		for _, x := range p.props() {
			if old, ok := m[x.key()]; !ok || x.TimeOfSample >= old.TimeOfSample {
				m[x.key()] = x
			}
		}
	}
	return view
}

// deviceViewOf asks the named bridge's process for each device's real state
// and renders it with the hub's profile, as Alexa should see it.
func (e *testEnv) deviceViewOf(ctx context.Context, bridge string) (map[string]map[string]prop, error) {
	br, ok := e.hub.bridges.Bridge(bridge)
	if !ok {
		return nil, fmt.Errorf("no %s bridge running", bridge)
	}
	out := map[string]map[string]prop{}
	for _, ent := range e.hub.reg.List() {
		if ent.Endpoint.Bridge != bridge {
			continue
		}
		st, err := br.State(ctx, ent.Endpoint.DeviceID)
		if err != nil {
			return nil, fmt.Errorf("state of %s: %w", ent.Endpoint.DeviceID, err)
		}
		m := map[string]prop{}
		for _, p := range e.hub.profile.Properties(ent.Endpoint, st, ent.Reachable, time.Now()) {
			b, err := json.Marshal(p.Value)
			if err != nil {
				return nil, err
			}
			x := prop{Namespace: p.Namespace, Instance: p.Instance, Name: p.Name}
			if err := json.Unmarshal(b, &x.Value); err != nil {
				return nil, err
			}
			m[x.key()] = x
		}
		out[ent.Endpoint.ID] = m
	}
	return out, nil
}

// consistent compares what Alexa was told (every property it ever received)
// with the devices' real state; with reportState it also asks each endpoint's
// state through the emulator (ReportState → StateReport) and compares that.
func (e *testEnv) consistent(ctx context.Context, reportState bool) error {
	return e.consistentOf(ctx, "virtual", len(e.deviceIDs()), reportState)
}

// consistentOf is consistent for the named bridge, which must have want endpoints.
func (e *testEnv) consistentOf(ctx context.Context, bridge string, want int, reportState bool) error {
	dev, err := e.deviceViewOf(ctx, bridge)
	if err != nil {
		return err
	}
	if len(dev) != want {
		return fmt.Errorf("registry has %d %s endpoints, want %d", len(dev), bridge, want)
	}
	var diffs []string
	view := e.alexaView()
	for ep, props := range dev {
		for k, p := range view[ep] {
			d, ok := props[k]
			if !ok {
				diffs = append(diffs, fmt.Sprintf("%s: Alexa has %s, which the device does not report", ep, k))
				continue
			}
			if !reflect.DeepEqual(d.Value, p.Value) {
				diffs = append(diffs, fmt.Sprintf("%s %s: Alexa was told %v (at %s), the device has %v", ep, k, p.Value, p.TimeOfSample, d.Value))
			}
		}
		if !reportState {
			continue
		}
		a, err := e.send(ctx, "Alexa", "ReportState", ep, "", nil)
		if err != nil {
			return fmt.Errorf("ReportState %s: %w", ep, err)
		}
		if a.Name != "StateReport" {
			return fmt.Errorf("ReportState %s answered %s.%s %v", ep, a.Namespace, a.Name, a.Payload)
		}
		got := map[string]prop{}
		for _, p := range a.Properties {
			got[p.key()] = p
		}
		for k, d := range props {
			if p, ok := got[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: StateReport lacks %s", ep, k))
			} else if !reflect.DeepEqual(d.Value, p.Value) {
				diffs = append(diffs, fmt.Sprintf("%s %s: StateReport says %v, the device has %v", ep, k, p.Value, d.Value))
			}
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		return errors.New(strings.Join(diffs, "\n"))
	}
	return nil
}

// waitConsistent polls consistent (ChangeReports are coalesced, so Alexa's view
// converges within a window) and finally checks it through ReportState too.
func (e *testEnv) waitConsistent() {
	e.t.Helper()
	ctx, cancel := waitContext(e.t)
	defer cancel()
	e.poll(ctx, "Alexa's view to match the devices", func() error { return e.consistent(ctx, false) })
	if err := e.consistent(ctx, true); err != nil {
		e.t.Fatalf("after ReportState: %v", err)
	}
}

// noRefusedEvents fails the test for every event the emulator refused with
// 400 (schema or protocol violations); allowed lists statuses a test injected.
func (e *testEnv) noRefusedEvents(allowed ...int) {
	e.t.Helper()
	ok := map[int]bool{}
	for _, s := range allowed {
		ok[s] = true
	}
	for i, r := range e.emu.Events() {
		if r.Status >= 400 && !ok[r.Status] {
			e.t.Errorf("event %d %s refused with %d: %s\n%s", i, r.Name(), r.Status, r.Error, r.Event)
		}
	}
	if v := e.emu.State().Violations; len(v) > 0 {
		e.t.Errorf("the emulator recorded protocol violations: %q", v)
	}
}

// countEvents counts accepted events named "namespace.name" from index from.
func (e *testEnv) countEvents(from int, name string) int {
	n := 0
	for i, r := range e.emu.Events() {
		if i >= from && r.Name() == name && r.Status < 300 {
			n++
		}
	}
	return n
}

// lockedFile is a log file several goroutines write.
type lockedFile struct {
	mu sync.Mutex
	f  *os.File
}

func openLockedFile(path string) (*lockedFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &lockedFile{f: f}, nil
}

func (l *lockedFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

func (l *lockedFile) Close() error { return l.f.Close() }

func (l *lockedFile) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, err := os.ReadFile(l.f.Name())
	if err != nil {
		return err.Error()
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// e2eQuietLogger discards what it is given (components the test does not examine).
func e2eQuietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// mountTmpfs mounts a tmpfs of size at dir, or skips the test.
func (e *testEnv) mountTmpfs(dir, size string) {
	e.t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		e.t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		e.t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	e.unmount = func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			e.t.Errorf("umount %s: %v %s", dir, err, out)
		}
	}
}

// deadlineCtx is waitContext, cancelled when the test ends.
func deadlineCtx(t testing.TB) context.Context {
	ctx, cancel := waitContext(t)
	t.Cleanup(cancel)
	return ctx
}

// ctxFor returns a context ending after d (cancelled with the test).
func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
