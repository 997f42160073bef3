// Package plugintest is the conformance kit for avshub bridges. A bridge
// author calls Run (in process) and RunBinary (against the built plugin) from
// an ordinary go test; `avshub plugin check` runs the same binary checks
// through Check and prints a Report.
//
// The checks: Describe is valid; the config schema compiles and accepts the
// sample config; the event stream starts with Health and a Snapshot and its
// sequence numbers increase; every declared trait accepts a valid command and
// answers typed errors for bad ones; Accepted commands complete before their
// deadline; GetState answers; StartPairing matches the declared capability;
// a second stream starts over and ends promptly when cancelled; no goroutines
// leak (in process). For the binary, also:
// nothing reaches stdout before the go-plugin handshake, `describe` prints the
// manifest, SIGINT is ignored, and the process exits within 2 s of Kill.
package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
	"github.com/avshub/avshub/plugins/sdk"
)

// Config tunes a conformance run. The zero value is ready to use.
type Config struct {
	// Config is the bridge configuration to run with (JSON). Nil means the
	// sample config from Describe (RunBinary/Check: the bridge's defaults, "{}",
	// when the sample is absent).
	Config json.RawMessage
	// DataDir is the bridge's data directory (default: a fresh temporary one).
	DataDir string
	// Timeout bounds each check (default 30 s).
	Timeout time.Duration
	// CommandDeadline is the deadline given to each command (default 10 s).
	CommandDeadline time.Duration
	// StartTimeout bounds a binary's handshake (default 30 s: race-instrumented
	// binaries on a loaded 2-core CI machine start slowly).
	StartTimeout time.Duration
	// Env is the binary's environment (the test's environment is not passed).
	Env []string
	// Args come before the binary's own arguments ("describe", none): a
	// bridge bundled in avshub is the avshub executable with Args "bridge NAME".
	Args []string
	// StopTimeout bounds how long the bridge's Run may take to return once
	// its context ends (default 5 s).
	StopTimeout time.Duration
	// NoCommands skips the checks that send commands (read-only: for a bridge
	// connected to real devices that must not switch).
	NoCommands bool
	// BeforeCommands, if set, is called with the number of reachable devices
	// just before the kit sends them commands.
	BeforeCommands func(devices int)

	capture *logCapture // the plugin's log (Check)
	// SilentDevices says the configured devices never answer (asleep, off
	// their network): instead of the command checks, every valid command
	// must be answered before its deadline and must fail (see silent.go).
	SilentDevices bool
}

func (c Config) withDefaults(dataDir func() (string, error)) (Config, error) {
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.CommandDeadline <= 0 {
		c.CommandDeadline = 10 * time.Second
	}
	if c.StopTimeout <= 0 {
		c.StopTimeout = 5 * time.Second
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 30 * time.Second
	}
	if c.DataDir == "" {
		d, err := dataDir()
		if err != nil {
			return c, err
		}
		c.DataDir = d
	}
	return c, nil
}

// stepFunc runs one named check and reports whether it passed.
type stepFunc func(name string, f func(ctx context.Context) error) bool

// runSession runs the behavioural checks in order, stopping after the first
// failure of a check the rest depend on.
func runSession(step stepFunc, s *session) {
	essential := map[string]bool{"describe": true, "configure": true, "snapshot-first": true}
	checks := sessionChecks
	if s.cfg.SilentDevices {
		checks = silentChecks
	}
	for _, c := range checks {
		if c.sendsCommands {
			if s.cfg.NoCommands {
				continue
			}
			if s.cfg.BeforeCommands != nil && !s.announced {
				s.announced = true
				n := 0
				for _, d := range s.devices {
					if d.Reachable {
						n++
					}
				}
				s.cfg.BeforeCommands(n)
			}
		}
		ok := step(c.name, func(ctx context.Context) error { return c.run(ctx, s) })
		if !ok && essential[c.name] {
			return
		}
	}
}

// TB is what Run and RunBinary need of a test: *testing.T satisfies it. The
// package does not import testing, so `avshub plugin check` (which uses Check)
// does not link it into the hub.
type TB[T any] interface {
	Helper()
	TempDir() string
	Fatal(args ...any)
	Error(args ...any)
	Run(name string, f func(T)) bool
}

func testStep[T TB[T]](t T, timeout time.Duration) stepFunc {
	return func(name string, f func(ctx context.Context) error) bool {
		return t.Run(name, func(t T) {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if err := f(ctx); err != nil {
				t.Error(err)
			}
		})
	}
}

// Run checks b in process: it serves b with the SDK's bridge.v1 server over a
// real gRPC connection (a unix socket), exactly as a plugin process would,
// and checks for goroutine leaks after b has stopped. b must be fresh
// (unconfigured).
func Run[T TB[T]](t T, b sdk.Bridge, cfg Config) {
	t.Helper()
	cfg, err := cfg.withDefaults(func() (string, error) { return t.TempDir(), nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := runInProcess(testStep(t, cfg.Timeout), b, cfg); err != nil {
		t.Fatal(err)
	}
}

func runInProcess(step stepFunc, b sdk.Bridge, cfg Config) error {
	leaks := goleak.IgnoreCurrent()
	sockDir, err := os.MkdirTemp("", "plugintest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(sockDir)
	sock := filepath.Join(sockDir, "bridge.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	srv, stopBridge := sdk.NewServer(b)
	gs := grpc.NewServer()
	pb.RegisterBridgeServer(gs, srv)
	served := make(chan struct{})
	go func() { defer close(served); _ = gs.Serve(lis) }()
	conn, err := grpc.NewClient("unix:"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		gs.Stop()
		<-served
		return err
	}
	s := &session{client: pb.NewBridgeClient(conn), cfg: cfg}
	runSession(step, s)

	s.closeMain()
	_ = conn.Close()
	gs.Stop()
	<-served
	step("stop", func(context.Context) error {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.StopTimeout)
		defer cancel()
		if err := stopBridge(ctx); err != nil {
			return fmt.Errorf("the bridge's Run did not return within %v of its context ending: %w", cfg.StopTimeout, err)
		}
		return nil
	})
	step("goroutine-leaks", func(context.Context) error { return findLeaks(leaks) })
	return nil
}

// findLeaks looks for goroutines the bridge left behind. Idle keep-alive
// connections of http.DefaultClient are closed first (they are the
// transport's, not a leak); the serving side of a test's own HTTP server is
// not listed. Connections a bridge's own http.Client keeps are named with the
// fix.
func findLeaks(current goleak.Option) error {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
	err := goleak.Find(current, goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
		goleak.IgnoreAnyFunction("net/http/httptest.(*Server).goServe.func1"))
	if err != nil && strings.Contains(err.Error(), "net/http.(*persistConn)") {
		return fmt.Errorf("%w\n\nThese are idle keep-alive connections of an http.Client the bridge made: "+
			"when Run ends, call its CloseIdleConnections() (or its Transport's), or use http.DefaultClient", err)
	}
	return err
}

// RunBinary checks the plugin executable at path through go-plugin, as the hub
// launches it (gRPC, AutoMTLS, no host environment).
func RunBinary[T TB[T]](t T, path string, cfg Config) {
	t.Helper()
	cfg, err := cfg.withDefaults(func() (string, error) { return t.TempDir(), nil })
	if err != nil {
		t.Fatal(err)
	}
	runBinary(testStep(t, cfg.Timeout), path, cfg)
}

// runBinary runs every binary check; it returns the session (for the
// endpoints of a Report), or nil if the plugin could not be started.
func runBinary(step stepFunc, path string, cfg Config) *session {
	step("describe-subcommand", func(ctx context.Context) error { return checkDescribeCommand(ctx, path, cfg) })
	step("handshake-first", func(ctx context.Context) error { return checkRawHandshake(ctx, path, cfg) })
	var p *pluginProcess
	if !step("start", func(ctx context.Context) error {
		var err error
		p, err = startPlugin(path, cfg)
		return err
	}) {
		return nil
	}
	s := &session{client: p.client, cfg: cfg}
	runSession(step, s)
	s.closeMain()
	step("exit-on-kill", func(context.Context) error { return p.kill() })
	return s
}
