// Package z2mreal runs the real zigbee2mqtt (from npm, pinned by the
// package-lock.json beside this file) for avshub's tests: the reference peer
// that znp-sim and both bridges are held to.
//
// Install runs `npm ci` once per lock-file hash into a cache directory outside
// any git checkout (zigbee2mqtt rebuilds itself when it finds its package
// inside one): $AVSHUB_Z2M_CACHE, else the user cache directory
// (~/.cache/avshub/z2mreal/<hash>). Concurrent test processes share one install
// through a lock file. Start writes a configuration (serial port, adapter
// zstack, broker, data directory) and starts zigbee2mqtt as a child process;
// Stop ends it with SIGTERM, as a service manager does.
//
// Node.js and npm must be installed (`apt-get install nodejs npm`; Node 20 is
// enough although zigbee2mqtt declares 22). Without them Require fails the test
// with that advice: these tests never pass by skipping.
package z2mreal

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed" // the pinned npm project
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed package.json
var packageJSON []byte

//go:embed package-lock.json
var packageLock []byte

// Version is the pinned zigbee2mqtt version.
const Version = "2.14.1"

// InstallAdvice says how to get what the real zigbee2mqtt needs.
const InstallAdvice = "the real zigbee2mqtt needs Node.js (20 or later) and npm: install them with `apt-get install nodejs npm` (or `make z2mreal`)"

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	TempDir() string
	Failed() bool
}

// CheckNode reports whether node and npm are on PATH, with InstallAdvice if not.
func CheckNode() error {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("z2mreal: %s not found: %s", tool, InstallAdvice)
		}
	}
	return nil
}

// CacheDir is where the npm project for the current lock file is installed.
func CacheDir() (string, error) {
	root := os.Getenv("AVSHUB_Z2M_CACHE")
	if root == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("z2mreal: no cache directory (set AVSHUB_Z2M_CACHE): %w", err)
		}
		root = filepath.Join(c, "avshub", "z2mreal")
	}
	sum := sha256.Sum256(packageLock)
	return filepath.Join(root, hex.EncodeToString(sum[:8])), nil
}

// Install installs the pinned zigbee2mqtt (npm ci) unless the cache already
// has it, and returns the project directory (holding node_modules).
func Install(ctx context.Context) (string, error) {
	if err := CheckNode(); err != nil {
		return "", err
	}
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("z2mreal: %w", err)
	}
	if inGitCheckout(filepath.Dir(dir)) {
		return "", fmt.Errorf("z2mreal: cache %s is inside a git checkout (zigbee2mqtt would try to rebuild itself there); set AVSHUB_Z2M_CACHE elsewhere", dir)
	}
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("z2mreal: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("z2mreal: lock %s: %w", lock.Name(), err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if _, err := os.Stat(filepath.Join(dir, ".installed")); err == nil {
		return dir, nil
	}
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", fmt.Errorf("z2mreal: %w", err)
	}
	for name, b := range map[string][]byte{"package.json": packageJSON, "package-lock.json": packageLock} {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return "", fmt.Errorf("z2mreal: %w", err)
		}
	}
	// --ignore-scripts: the only native module needed (serialport) ships
	// prebuilt binaries that load at run time; the optional syslog module's
	// node-gyp build would need a compiler.
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("z2mreal: npm ci in %s: %w\n%s", tmp, err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".installed"), []byte(Version+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("z2mreal: %w", err)
	}
	_ = os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("z2mreal: %w", err)
	}
	return dir, nil
}

func inGitCheckout(dir string) bool {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return true
		}
		if filepath.Dir(d) == d {
			return false
		}
	}
}

// Require installs zigbee2mqtt for a test and returns its project directory;
// without Node.js it fails the test with InstallAdvice.
func Require(t TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir, err := Install(ctx)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return dir
}

// Config is what the helper writes into zigbee2mqtt's configuration.yaml.
type Config struct {
	// Serial is the adapter's serial port (a znp-sim pty link). Required.
	Serial string
	// MQTT is the broker URL: mqtt://host:port (tcp:// is accepted). Required.
	MQTT string
	// BaseTopic is the MQTT base topic (default "zigbee2mqtt").
	BaseTopic string
	// DataDir is zigbee2mqtt's data directory (default: a new t.TempDir()).
	DataDir string
	// Channel is the Zigbee channel (default 11).
	Channel int
	// NetworkKey, PanID and ExtPanID are generated by zigbee2mqtt when zero.
	NetworkKey []byte
	PanID      uint16
	ExtPanID   []byte
	// LogLevel is zigbee2mqtt's log level (default $AVSHUB_Z2M_LOG, else "info").
	LogLevel string
	// Settings are merged over the generated configuration, section by
	// section (e.g. "advanced": {"last_seen": "ISO_8601"}).
	Settings map[string]any
}

func (c Config) yaml() ([]byte, error) {
	if c.Serial == "" || c.MQTT == "" {
		return nil, errors.New("z2mreal: Config needs Serial and MQTT")
	}
	mqttURL := c.MQTT
	if rest, ok := strings.CutPrefix(mqttURL, "tcp://"); ok {
		mqttURL = "mqtt://" + rest
	}
	adv := map[string]any{
		"log_level":   c.LogLevel,
		"log_output":  []string{"console"},
		"channel":     c.Channel,
		"network_key": "GENERATE",
		"pan_id":      "GENERATE",
		"ext_pan_id":  "GENERATE",
	}
	if len(c.NetworkKey) == 16 {
		k := make([]int, 16)
		for i, b := range c.NetworkKey {
			k[i] = int(b)
		}
		adv["network_key"] = k
	}
	if c.PanID != 0 {
		adv["pan_id"] = int(c.PanID)
	}
	if len(c.ExtPanID) == 8 {
		k := make([]int, 8)
		for i, b := range c.ExtPanID {
			k[i] = int(b)
		}
		adv["ext_pan_id"] = k
	}
	doc := map[string]any{
		"version":       5,
		"homeassistant": map[string]any{"enabled": false},
		"frontend":      map[string]any{"enabled": false},
		"onboarding":    false,
		"mqtt":          map[string]any{"base_topic": c.BaseTopic, "server": mqttURL},
		"serial":        map[string]any{"port": c.Serial, "adapter": "zstack"},
		"advanced":      adv,
	}
	for k, v := range c.Settings {
		sub, ok := v.(map[string]any)
		cur, ok2 := doc[k].(map[string]any)
		if ok && ok2 {
			for sk, sv := range sub {
				cur[sk] = sv
			}
			continue
		}
		doc[k] = v
	}
	return yaml.Marshal(doc)
}

// Z2M is one running (or stopped) zigbee2mqtt.
type Z2M struct {
	// Dir is the data directory (configuration.yaml, database.db, coordinator_backup.json).
	Dir string

	project string
	t       TB

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	log     bytes.Buffer
	changed chan struct{}
}

// Start installs (if needed) and starts zigbee2mqtt with cfg; the test's
// cleanup stops it and, if the test failed, logs the tail of its output.
// Start returns once the process runs; WaitStarted waits until it is up.
func Start(t TB, cfg Config) *Z2M {
	t.Helper()
	project := Require(t)
	if cfg.BaseTopic == "" {
		cfg.BaseTopic = "zigbee2mqtt"
	}
	if cfg.Channel == 0 {
		cfg.Channel = 11
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = os.Getenv("AVSHUB_Z2M_LOG")
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "info"
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	y, err := cfg.yaml()
	if err != nil {
		t.Fatalf("%v", err)
	}
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "configuration.yaml"), y, 0o644); err != nil {
		t.Fatalf("z2mreal: %v", err)
	}
	z := &Z2M{Dir: cfg.DataDir, project: project, t: t, changed: make(chan struct{})}
	t.Cleanup(func() {
		if err := z.Stop(); err != nil {
			t.Logf("z2mreal: stop: %v", err)
		}
		if t.Failed() {
			t.Logf("zigbee2mqtt output (tail):\n%s", tail(z.Output(), 150))
		}
	})
	if err := z.start(); err != nil {
		t.Fatalf("%v", err)
	}
	return z
}

func (z *Z2M) start() error {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.cmd != nil {
		return errors.New("z2mreal: already running")
	}
	cmd := exec.Command("node", filepath.Join(z.project, "node_modules", "zigbee2mqtt", "index.js"))
	// The working directory must not be a git checkout either (zigbee2mqtt
	// asks git for its commit there).
	cmd.Dir = z.Dir
	cmd.Env = append(os.Environ(), "ZIGBEE2MQTT_DATA="+z.Dir, "NO_COLOR=1", "FORCE_COLOR=0")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("z2mreal: start zigbee2mqtt: %w", err)
	}
	z.cmd = cmd
	exited := make(chan struct{})
	z.exited = exited
	fmt.Fprintf(&z.log, "--- z2mreal: zigbee2mqtt %s started (pid %d)\n", Version, cmd.Process.Pid)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			z.mu.Lock()
			z.log.Write(sc.Bytes())
			z.log.WriteByte('\n')
			close(z.changed)
			z.changed = make(chan struct{})
			z.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		err := cmd.Wait()
		_ = pw.Close()
		<-scanned
		z.mu.Lock()
		z.waitErr = err
		fmt.Fprintf(&z.log, "--- z2mreal: zigbee2mqtt exited: %v\n", err)
		z.cmd = nil
		close(z.changed)
		z.changed = make(chan struct{})
		z.mu.Unlock()
		close(exited)
	}()
	return nil
}

// Stop sends SIGTERM and waits for zigbee2mqtt to exit (SIGKILL at the
// test's deadline: a loaded machine makes it slow, not wrong). It returns
// the process's exit error, if any; stopping a stopped Z2M is a no-op.
func (z *Z2M) Stop() error {
	z.mu.Lock()
	cmd, exited := z.cmd, z.exited
	z.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	ctx, cancel := Context(z.t)
	defer cancel()
	select {
	case <-exited:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-exited
		return errors.New("z2mreal: zigbee2mqtt ignored SIGTERM until the test's deadline; killed")
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.waitErr
}

// Restart stops zigbee2mqtt and starts it again on the same data directory
// (the configuration as zigbee2mqtt left it, its database and backup).
func (z *Z2M) Restart() error {
	if err := z.Stop(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return err
		}
	}
	z.mu.Lock()
	z.log.WriteString("--- z2mreal: restart\n")
	z.mu.Unlock()
	return z.start()
}

// PID is the running process's id (0 when stopped).
func (z *Z2M) PID() int {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.cmd == nil {
		return 0
	}
	return z.cmd.Process.Pid
}

// Exited is closed when the current process has exited.
func (z *Z2M) Exited() <-chan struct{} {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.exited
}

// Output is everything zigbee2mqtt printed so far (over restarts).
func (z *Z2M) Output() string {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.log.String()
}

// WaitOutput waits until the output after byte offset from contains s, and
// returns the offset just past it; it fails if the process exits first.
func (z *Z2M) WaitOutput(ctx context.Context, from int, s string) (int, error) {
	for {
		z.mu.Lock()
		out := z.log.String()
		running := z.cmd != nil
		ch := z.changed
		z.mu.Unlock()
		if from > len(out) {
			from = len(out)
		}
		if i := strings.Index(out[from:], s); i >= 0 {
			return from + i + len(s), nil
		}
		if !running {
			return len(out), fmt.Errorf("z2mreal: zigbee2mqtt exited before printing %q; output tail:\n%s", s, tail(out, 60))
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return len(out), fmt.Errorf("z2mreal: waiting for %q: %w; output tail:\n%s", s, ctx.Err(), tail(out, 60))
		}
	}
}

// StartedLine is what zigbee2mqtt logs once it is up (network formed or
// resumed, MQTT connected, devices loaded).
const StartedLine = "Zigbee2MQTT started!"

// WaitStarted waits (until ctx ends) for the StartedLine printed after
// output offset from (0 for the first start; len(Output()) before a
// Restart).
func (z *Z2M) WaitStarted(ctx context.Context, from int) error {
	_, err := z.WaitOutput(ctx, from, StartedLine)
	return err
}

// MustStart is Start followed by WaitStarted (until the test's deadline,
// Context), failing the test if zigbee2mqtt does not come up.
func MustStart(t TB, cfg Config) *Z2M {
	t.Helper()
	z := Start(t, cfg)
	ctx, cancel := Context(t)
	defer cancel()
	if err := z.WaitStarted(ctx, 0); err != nil {
		t.Fatalf("%v", err)
	}
	return z
}

// Context is the context of a wait for zigbee2mqtt to do something it
// must do (start, stop): it ends at the test's deadline (go test -timeout)
// less a twentieth of the time left then, to report and clean up, and
// never for a test without one (a benchmark). Node starting zigbee2mqtt
// takes seconds on an idle machine and over a minute at load 20: a wait is
// no assertion on speed.
func Context(t TB) (context.Context, context.CancelFunc) {
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := d.Deadline(); ok {
			return context.WithDeadline(context.Background(), end.Add(-time.Until(end)/20))
		}
	}
	return context.WithCancel(context.Background())
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
