package host

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/internal/testbuild"
)

// Plugin binaries built once for the package's tests.
var (
	virtualBin string
	crashBin   string
)

func TestMain(m *testing.M) {
	if os.Getenv("AVSHUB_HOST_HELPER") != "" {
		helperHost()
		return
	}
	dir, err := os.MkdirTemp("", "avshub-host-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	virtualBin, crashBin = filepath.Join(dir, "bridge-virtual"), filepath.Join(dir, "crashbridge")
	for bin, pkg := range map[string]string{virtualBin: "../../cmd/bridge-virtual", crashBin: "./testdata/crashbridge"} {
		if err := testbuild.Build(context.Background(), "", bin, pkg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	CleanupClients()
	os.RemoveAll(dir)
	os.Exit(code)
}

// recorder is a model.Sink that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []model.Event
}

func (r *recorder) BridgeEvent(_ string, ev model.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) snapshot() []model.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]model.Event(nil), r.events...)
}

// eventually polls cond every 10 ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const crashConfig = `{"lockDelay":"15s","devices":[
 {"id":"slow","name":"Slow Light","type":"light","kind":"dimmable"},
 {"id":"lamp","name":"Lamp","type":"light","kind":"onoff"},
 {"id":"door","name":"Door","type":"lock"}]}`

func startSupervisor(t *testing.T, cfg Config) (*Supervisor, *recorder) {
	t.Helper()
	rec := &recorder{}
	cfg.Sink = rec
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("supervisor did not stop")
		}
	})
	return s, rec
}

func lastSnapshot(evs []model.Event) (int, *model.Event) {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == model.EventSnapshot {
			return i, &evs[i]
		}
	}
	return -1, nil
}

func TestSupervisorRunsVirtualBridge(t *testing.T) {
	s, rec := startSupervisor(t, Config{Name: "virtual", Path: virtualBin, DataDir: t.TempDir()})
	// A bound, not a goal: under qemu-user (make test-arm) on a loaded machine
	// the plugin's start (both sides generate AutoMTLS keys) took 7 s.
	eventually(t, time.Minute, "snapshot", func() bool { _, ev := lastSnapshot(rec.snapshot()); return ev != nil })
	// The stream starts with the bridge's health and, before any device
	// event, its snapshot (health updates may come in between: the stream may
	// open before the bridge reported itself healthy).
	evs := rec.snapshot()
	if evs[0].Kind != model.EventHealth {
		t.Fatalf("stream starts with %s, want health", evs[0].Kind)
	}
	for _, ev := range evs {
		if ev.Kind == model.EventSnapshot {
			break
		}
		if ev.Kind != model.EventHealth {
			t.Fatalf("%s event before the snapshot", ev.Kind)
		}
	}
	if st := s.Status(); st.State != StateRunning || st.PID == 0 || st.Version == "" {
		t.Fatalf("status %+v", st)
	}
	res, err := s.Execute(context.Background(), model.Request{CorrelationID: "c1", DeviceID: "kitchen-light",
		Command: model.SetBrightness(40), Deadline: time.Now().Add(5 * time.Second)})
	if err != nil || res.Status != model.Done || res.State.Brightness == nil || *res.State.Brightness != 40 {
		t.Fatalf("Execute: %+v, %v", res, err)
	}
	// A typed error crosses the process boundary intact.
	_, err = s.Execute(context.Background(), model.Request{CorrelationID: "c2", DeviceID: "hall-light",
		Command: model.SetBrightness(40), Deadline: time.Now().Add(5 * time.Second)})
	var de *model.Error
	if !errors.As(err, &de) || de.Kind != model.ErrNotSupported {
		t.Fatalf("brightness on an on/off light: %v, want NOT_SUPPORTED", err)
	}
	// The lock is Accepted, then completed through the stream.
	res, err = s.Execute(context.Background(), model.Request{CorrelationID: "c3", DeviceID: "front-door",
		Command: model.SetLock(model.Unlocked), Deadline: time.Now().Add(5 * time.Second)})
	if err != nil || res.Status != model.Accepted {
		t.Fatalf("lock: %+v, %v", res, err)
	}
	eventually(t, 6*time.Second, "lock completion", func() bool {
		for _, ev := range rec.snapshot() {
			if ev.Kind == model.EventCompletion && ev.Completion.CorrelationID == "c3" {
				return ev.Completion.Err == nil && ev.Completion.State.Lock == model.Unlocked
			}
		}
		return false
	})
	st, err := s.State(context.Background(), "front-door")
	if err != nil || st.Lock != model.Unlocked {
		t.Fatalf("State: %+v, %v", st, err)
	}
	if err := s.StartPairing(context.Background(), time.Second); !errors.As(err, &de) || de.Kind != model.ErrNotSupported {
		t.Fatalf("StartPairing: %v, want NOT_SUPPORTED", err)
	}
}

func TestSIGKILLMidCommand(t *testing.T) {
	data := t.TempDir()
	s, rec := startSupervisor(t, Config{Name: "crash", Path: crashBin, DataDir: data, Config: []byte(crashConfig),
		MinBackoff: 50 * time.Millisecond})
	eventually(t, 10*time.Second, "first snapshot", func() bool { _, ev := lastSnapshot(rec.snapshot()); return ev != nil })
	pid := s.Status().PID

	// Turn the lamp on so there is state to re-sync.
	if _, err := s.Execute(context.Background(), model.Request{CorrelationID: "on", DeviceID: "lamp",
		Command: model.SetPower(true), Deadline: time.Now().Add(5 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	// A lock command is Accepted and still turning when the bridge dies.
	res, err := s.Execute(context.Background(), model.Request{CorrelationID: "lock", DeviceID: "door",
		Command: model.SetLock(model.Unlocked), Deadline: time.Now().Add(20 * time.Second)})
	if err != nil || res.Status != model.Accepted {
		t.Fatalf("lock: %+v, %v", res, err)
	}
	answer := make(chan error, 1)
	go func() {
		_, err := s.Execute(context.Background(), model.Request{CorrelationID: "slow", DeviceID: "slow",
			Command: model.SetPower(true), Deadline: time.Now().Add(20 * time.Second)})
		answer <- err
	}()
	eventually(t, 5*time.Second, "command to reach the plugin", func() bool {
		_, err := os.Stat(filepath.Join(data, "executing"))
		return err == nil
	})
	nBefore := len(rec.snapshot())
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	// The command in flight is answered with a typed error.
	select {
	case err := <-answer:
		var de *model.Error
		if !errors.As(err, &de) || de.Kind != model.ErrBridgeUnreachable {
			t.Fatalf("in-flight command: %v, want BRIDGE_UNREACHABLE", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight command not answered")
	}
	// Both devices go unreachable, then the bridge reports UNHEALTHY.
	eventually(t, time.Second, "devices unreachable", func() bool {
		unreachable := map[string]bool{}
		for _, ev := range rec.snapshot()[nBefore:] {
			if ev.Kind == model.EventReachability && !ev.Reachable {
				unreachable[ev.DeviceID] = true
			}
		}
		return unreachable["slow"] && unreachable["lamp"] && unreachable["door"]
	})
	// The accepted lock command is failed, not left hanging.
	eventually(t, time.Second, "completion of the accepted command", func() bool {
		for _, ev := range rec.snapshot()[nBefore:] {
			if ev.Kind == model.EventCompletion && ev.Completion.CorrelationID == "lock" {
				return ev.Completion.Err != nil && ev.Completion.Err.Kind == model.ErrBridgeUnreachable
			}
		}
		return false
	})
	for _, ev := range rec.snapshot()[nBefore:] {
		if ev.Kind == model.EventCompletion && ev.Completion.CorrelationID == "slow" {
			t.Fatal("a command still waiting for its answer also got a completion")
		}
	}
	t.Logf("endpoints unreachable %v after SIGKILL", time.Since(killed))
	// While down, commands fail at once.
	if st := s.Status(); st.State != StateRunning {
		_, err := s.Execute(context.Background(), model.Request{DeviceID: "lamp", Command: model.SetPower(false)})
		var de *model.Error
		if !errors.As(err, &de) || de.Kind != model.ErrBridgeUnreachable {
			t.Fatalf("Execute while down: %v", err)
		}
	}
	// The bridge comes back with a new process, and a new snapshot re-syncs.
	eventually(t, 3*time.Second, "restart", func() bool {
		st := s.Status()
		return st.State == StateRunning && st.PID != 0 && st.PID != pid && st.Restarts == 1
	})
	eventually(t, 3*time.Second, "re-sync snapshot", func() bool {
		i, ev := lastSnapshot(rec.snapshot())
		return i >= nBefore && ev != nil && len(ev.Devices) == 3
	})
	t.Logf("bridge back %v after SIGKILL", time.Since(killed))
	res, err = s.Execute(context.Background(), model.Request{CorrelationID: "after", DeviceID: "lamp",
		Command: model.SetPower(false), Deadline: time.Now().Add(5 * time.Second)})
	if err != nil || res.Status != model.Done {
		t.Fatalf("Execute after restart: %+v, %v", res, err)
	}
}

// countingMetrics records what the supervisor reports.
type countingMetrics struct {
	mu       sync.Mutex
	ups      []bool
	restarts int
}

func (m *countingMetrics) BridgeUp(_ string, up bool) {
	m.mu.Lock()
	m.ups = append(m.ups, up)
	m.mu.Unlock()
}
func (m *countingMetrics) BridgeRestart(string) { m.mu.Lock(); m.restarts++; m.mu.Unlock() }

func TestCrashOnStartIsParked(t *testing.T) {
	m := &countingMetrics{}
	s, rec := startSupervisor(t, Config{Name: "crashy", Path: crashBin, Env: []string{"CRASH_ON_START=1"}, Metrics: m,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxFastCrashes: 3, StartTimeout: 5 * time.Second})
	eventually(t, 10*time.Second, "parked", func() bool { return s.Status().State == StateFailed })
	st := s.Status()
	if st.Restarts != 2 || st.LastError == "" || st.PID != 0 {
		t.Fatalf("status %+v, want 2 restarts, a last error, no pid", st)
	}
	m.mu.Lock()
	if m.restarts != 2 || slices.Contains(m.ups, true) {
		t.Errorf("metrics: %d restarts, up %v; want 2 restarts, never up", m.restarts, m.ups)
	}
	m.mu.Unlock()
	for _, ev := range rec.snapshot() {
		if ev.Kind == model.EventSnapshot {
			t.Fatal("a bridge that never started sent a snapshot")
		}
	}
	_, err := s.Execute(context.Background(), model.Request{DeviceID: "x", Command: model.SetPower(true)})
	var de *model.Error
	if !errors.As(err, &de) || de.Kind != model.ErrBridgeUnreachable {
		t.Fatalf("Execute on a parked bridge: %v", err)
	}
}

func TestChecksumMismatchIsParked(t *testing.T) {
	s, _ := startSupervisor(t, Config{Name: "tampered", Path: virtualBin, SHA256: strings.Repeat("00", 32)})
	eventually(t, 5*time.Second, "parked", func() bool { return s.Status().State == StateFailed })
	st := s.Status()
	if st.Restarts != 0 {
		t.Fatalf("status %+v, want parked at once for the checksum", st)
	}
	actual, _ := FileSHA256(virtualBin)
	for _, want := range []string{"expects " + strings.Repeat("00", 32), "sha256 " + actual, "avshub plugin trust tampered", "--dev"} {
		if !strings.Contains(st.LastError, want) {
			t.Errorf("refusal %q does not say %q", st.LastError, want)
		}
	}
}

func TestChecksumFromManifest(t *testing.T) {
	sum, err := FileSHA256(virtualBin)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bridge-virtual")
	if err := os.Link(virtualBin, bin); err != nil {
		t.Skipf("cannot link the test binary: %v", err)
	}
	if err := os.WriteFile(bin+".sha256", []byte(sum+"  bridge-virtual\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := startSupervisor(t, Config{Name: "manifest", Path: bin, RequireChecksum: true})
	eventually(t, 10*time.Second, "running", func() bool { return s.Status().State == StateRunning })

	bad := filepath.Join(dir, "other")
	if err := os.Link(virtualBin, bad); err != nil {
		t.Fatal(err)
	}
	s2, _ := startSupervisor(t, Config{Name: "nomanifest", Path: bad, RequireChecksum: true})
	eventually(t, 5*time.Second, "parked", func() bool { return s2.Status().State == StateFailed })
}

func TestHostEnvironmentNotPassed(t *testing.T) {
	t.Setenv("AVSHUB_SECRET_FOR_TEST", "s3cret")
	s, err := New(Config{Name: "env", Path: virtualBin, Sink: &recorder{}, Env: []string{"ONLY=this"}})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := s.clientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !cc.SkipHostEnv || !cc.AutoMTLS || !cc.Managed {
		t.Fatalf("client config %+v", cc)
	}
	// The first launch pins the checksum it has just computed (go-plugin need
	// not hash the file again); every later launch is checked against it.
	if cc.SecureConfig != nil {
		t.Errorf("first launch hashes the executable twice")
	}
	if cc2, err := s.clientConfig(); err != nil || cc2.SecureConfig == nil || !bytes.Equal(cc2.SecureConfig.Checksum, s.pinned) {
		t.Errorf("relaunch: client config %+v, %v; want the pinned checksum checked", cc2, err)
	}
	for _, e := range cc.Cmd.Env {
		if strings.Contains(e, "s3cret") {
			t.Fatal("host environment leaked into the plugin's")
		}
	}
}

// helperHost runs in a child process (the test binary re-executed): a hub
// with one supervised virtual bridge that prints the plugin's pid and waits
// to be killed.
func helperHost() {
	s, err := New(Config{Name: "virtual", Path: os.Getenv("AVSHUB_HOST_HELPER"), Sink: &recorder{},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	go func() {
		for s.Status().PID == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Println("pid", s.Status().PID)
	}()
	_ = s.Run(context.Background())
}

func TestNoOrphanAfterHostSIGKILL(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "AVSHUB_HOST_HELPER="+virtualBin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("helper: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(line), "pid "))
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("helper said %q", line)
	}
	if !alive(pid) {
		t.Fatalf("plugin %d not running", pid)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	eventually(t, 5*time.Second, "plugin to exit after its hub was killed", func() bool { return !alive(pid) })
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

func TestReattachToDebugBridge(t *testing.T) {
	cmd := exec.Command(virtualBin, "--debug")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	sc := bufio.NewScanner(out)
	var env string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "AVSHUB_REATTACH_BRIDGES='"); ok {
			env = strings.TrimSuffix(v, "'")
			break
		}
	}
	if env == "" {
		t.Fatalf("no reattach line (%v)", sc.Err())
	}
	rc, err := ReattachFromEnv(env, "virtual")
	if err != nil || rc == nil {
		t.Fatalf("reattach config: %v, %v", rc, err)
	}
	if other, err := ReattachFromEnv(env, "zigbee"); err != nil || other != nil {
		t.Fatalf("a bridge not in the variable: %v, %v", other, err)
	}
	s, rec := startSupervisor(t, Config{Name: "virtual", Reattach: rc})
	eventually(t, 10*time.Second, "snapshot from the debug bridge", func() bool { _, ev := lastSnapshot(rec.snapshot()); return ev != nil })
	if st := s.Status(); st.State != StateRunning || st.PID != cmd.Process.Pid {
		t.Fatalf("status %+v, want running with pid %d", st, cmd.Process.Pid)
	}
	res, err := s.Execute(context.Background(), model.Request{CorrelationID: "r", DeviceID: "hall-light",
		Command: model.SetPower(true), Deadline: time.Now().Add(5 * time.Second)})
	if err != nil || res.Status != model.Done {
		t.Fatalf("Execute through reattach: %+v, %v", res, err)
	}
	// Ctrl-C ends the debug bridge although the hub is still attached (its
	// event stream open), with exit status 0.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the debug bridge ended with %v after Ctrl-C, want status 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the debug bridge ignored Ctrl-C while the hub was attached")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// capture is a slog.Handler that keeps records.
type capture struct {
	mu   *sync.Mutex
	recs *[]slog.Record
	with []slog.Attr
}

func newCapture() capture { return capture{mu: &sync.Mutex{}, recs: &[]slog.Record{}} }

func (c capture) Enabled(context.Context, slog.Level) bool { return true }
func (c capture) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(c.with...)
	c.mu.Lock()
	*c.recs = append(*c.recs, r)
	c.mu.Unlock()
	return nil
}
func (c capture) WithAttrs(as []slog.Attr) slog.Handler {
	c.with = append(append([]slog.Attr(nil), c.with...), as...)
	return c
}
func (c capture) WithGroup(string) slog.Handler { return c }

// find returns the attributes of the first record with msg.
func (c capture) find(msg string) (map[string]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range *c.recs {
		if r.Message == msg {
			m := map[string]string{}
			r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
			return m, true
		}
	}
	return nil, false
}

func TestPluginLogsReachSlog(t *testing.T) {
	c := newCapture()
	startSupervisor(t, Config{Name: "virtual", Path: virtualBin, Logger: slog.New(c)})
	var attrs map[string]string
	eventually(t, 10*time.Second, "the plugin's log line", func() bool {
		var ok bool
		attrs, ok = c.find("virtual bridge running")
		return ok
	})
	if attrs["bridge"] != "virtual" || attrs["devices"] != "19" {
		t.Fatalf("plugin log attributes %v, want bridge=virtual devices=19 (the default device set)", attrs)
	}
}

func TestOrderlyShutdown(t *testing.T) {
	data := t.TempDir()
	rec := &recorder{}
	s, err := New(Config{Name: "crash", Path: crashBin, DataDir: data, Config: []byte(crashConfig), Sink: rec,
		Logger: discardLogger(), DrainTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	eventually(t, 10*time.Second, "running", func() bool { return s.Status().State == StateRunning })
	pid := s.Status().PID

	answer := make(chan error, 1)
	go func() {
		_, err := s.Execute(context.Background(), model.Request{CorrelationID: "slow", DeviceID: "slow",
			Command: model.SetPower(true), Deadline: time.Now().Add(time.Second)})
		answer <- err
	}()
	eventually(t, 5*time.Second, "command to reach the plugin", func() bool {
		_, err := os.Stat(filepath.Join(data, "executing"))
		return err == nil
	})
	cancel()
	// New commands are refused at once while the in-flight one is drained.
	eventually(t, time.Second, "commands refused", func() bool {
		_, err := s.Execute(context.Background(), model.Request{DeviceID: "lamp", Command: model.SetPower(true),
			Deadline: time.Now().Add(time.Second)})
		var de *model.Error
		return errors.As(err, &de) && de.Kind == model.ErrBridgeUnreachable
	})
	select {
	case err := <-answer:
		var de *model.Error
		if !errors.As(err, &de) || de.Kind != model.ErrUnreachable {
			t.Fatalf("in-flight command: %v, want the bridge's own UNREACHABLE (deadline), answered before the plugin stopped", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight command not answered")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if st := s.Status(); st.State != StateStopped {
		t.Fatalf("status %+v", st)
	}
	eventually(t, 3*time.Second, "plugin process gone", func() bool { return !alive(pid) })
}

// Without a configured checksum the first start pins the executable's; a
// binary replaced after that is refused at the next launch.
func TestPinnedChecksumRefusesReplacedBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bridge-virtual")
	orig, err := os.ReadFile(virtualBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, orig, 0o755); err != nil {
		t.Fatal(err)
	}
	s, _ := startSupervisor(t, Config{Name: "pinned", Path: bin})
	eventually(t, 10*time.Second, "running", func() bool { return s.Status().State == StateRunning })
	// Replace the file (a new inode, as an update would) with one that differs.
	tmp := bin + ".new"
	if err := os.WriteFile(tmp, append(orig, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(s.Status().PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "parked", func() bool { return s.Status().State == StateFailed })
	if st := s.Status(); !strings.Contains(st.LastError, "checksum") {
		t.Fatalf("status %+v, want parked for the checksum", st)
	}
}

// A bridge reporting brightness 150 or a 327.67 °C thermostat (Zigbee's 0x7FFF)
// never gets those values past the host: they are dropped and logged once.
func TestImplausibleStateIsDropped(t *testing.T) {
	var logs syncBuffer
	cfg := `{"devices":[{"id":"lamp","name":"Lamp","type":"light","kind":"dimmable"},
		{"id":"heat","name":"Heat","type":"thermostat","kind":"single","temperature":20}]}`
	s, rec := startSupervisor(t, Config{Name: "implausible", Path: crashBin, Env: []string{"IMPLAUSIBLE=1"}, Config: []byte(cfg),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	eventually(t, 10*time.Second, "snapshot", func() bool { _, ev := lastSnapshot(rec.snapshot()); return ev != nil })
	_, snap := lastSnapshot(rec.snapshot())
	for _, d := range snap.Devices {
		st := d.State
		if st.Brightness != nil || st.Temperature != nil || (st.Thermostat != nil && st.Thermostat.Target != nil) {
			t.Errorf("%s: implausible state passed: %+v %+v", d.Endpoint.DeviceID, st, st.Thermostat)
		}
		if d.Endpoint.DeviceID == "heat" && (st.Thermostat == nil || st.Thermostat.Mode == "") {
			t.Errorf("heat: the plausible mode was dropped too: %+v", st.Thermostat)
		}
	}
	res, err := s.Execute(context.Background(), model.Request{CorrelationID: "c1", DeviceID: "lamp",
		Command: model.SetBrightness(40), Deadline: time.Now().Add(5 * time.Second)})
	if err != nil || res.State.Brightness != nil {
		t.Fatalf("execute: %+v %v, want the implausible brightness dropped", res.State, err)
	}
	out := logs.String()
	for _, want := range []string{"brightness 150 is outside 0–100", "temperature 327.67 °C is outside", "target setpoint 327.67 °C is outside 5–30"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	// Rate limited: the Execute answer's drop came within the minute of the
	// snapshot's for the same device, so it is counted, not logged.
	if n := strings.Count(out, `device=lamp`); n != 1 {
		t.Errorf("lamp's drops logged %d times, want once:\n%s", n, out)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
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

// replaceBinary replaces the file at bin (a new inode, as a rebuild would)
// with the virtual bridge plus extra trailing bytes, so its checksum differs.
func replaceBinary(t *testing.T, bin string, extra ...byte) string {
	t.Helper()
	orig, err := os.ReadFile(virtualBin)
	if err != nil {
		t.Fatal(err)
	}
	tmp := bin + ".new"
	if err := os.WriteFile(tmp, append(orig, extra...), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	sum, err := FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// The pin survives in PinFile; a rebuilt binary is refused with both hashes
// and the trust command; once the pin file is rewritten (what `avshub plugin
// trust` does), Retry (SIGHUP) starts the parked bridge again.
func TestRefusedRebuildIsTrustedAndRetried(t *testing.T) {
	dir := t.TempDir()
	bin, pin := filepath.Join(dir, "bridge-virtual"), filepath.Join(dir, "pins", "acme.sha256")
	first := replaceBinary(t, bin)
	s, _ := startSupervisor(t, Config{Name: "acme", Path: bin, PinFile: pin})
	eventually(t, 10*time.Second, "running", func() bool { return s.Status().State == StateRunning })
	if b, err := os.ReadFile(pin); err != nil || !strings.HasPrefix(string(b), first) {
		t.Fatalf("pin file %q (%v), want %s", b, err, first)
	}
	s.Retry() // not parked: nothing happens
	rebuilt := replaceBinary(t, bin, 0)
	if !s.BinaryChanged() {
		t.Error("BinaryChanged false after a rebuild")
	}
	pid := s.Status().PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "parked", func() bool { return s.Status().State == StateFailed })
	msg := s.Status().LastError
	for _, want := range []string{"expects " + first, "sha256 " + rebuilt, "avshub plugin trust acme", pin} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q does not say %q", msg, want)
		}
	}
	if err := writePin(pin, rebuilt, bin); err != nil {
		t.Fatal(err)
	}
	s.Retry()
	eventually(t, 10*time.Second, "running again", func() bool { st := s.Status(); return st.State == StateRunning && st.PID != pid })
}

// In dev mode a rebuilt binary is adopted at the next launch.
func TestDevModeAdoptsRebuild(t *testing.T) {
	dir := t.TempDir()
	bin, pin := filepath.Join(dir, "bridge-virtual"), filepath.Join(dir, "acme.sha256")
	replaceBinary(t, bin)
	s, _ := startSupervisor(t, Config{Name: "acme", Path: bin, PinFile: pin, Dev: true})
	eventually(t, 10*time.Second, "running", func() bool { return s.Status().State == StateRunning })
	pid := s.Status().PID
	rebuilt := replaceBinary(t, bin, 1, 2)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "restarted", func() bool { st := s.Status(); return st.State == StateRunning && st.PID != pid })
	if b, _ := os.ReadFile(pin); !strings.HasPrefix(string(b), rebuilt) {
		t.Errorf("pin %q, want the rebuilt %s", b, rebuilt)
	}
	if s.BinaryChanged() {
		t.Error("BinaryChanged after the rebuild was adopted")
	}
}

// The host checks a bridge's configuration against the schema the bridge
// declares before configuring it, and parks it with the offending key named.
func TestConfigRefusedBySchema(t *testing.T) {
	s, _ := startSupervisor(t, Config{Name: "typo", Path: virtualBin, Config: []byte(`{"devices":[],"lockDelay":"soon"}`)})
	eventually(t, 10*time.Second, "parked", func() bool { return s.Status().State == StateFailed })
	if st := s.Status(); st.Restarts != 0 || !strings.Contains(st.LastError, "/lockDelay: 'soon'") {
		t.Fatalf("status %+v, want parked at once naming /lockDelay", st)
	}
}
