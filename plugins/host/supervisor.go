// Package host runs bridge plugins for the hub: one Supervisor per bridge
// launches the plugin process through hashicorp/go-plugin (gRPC only,
// AutoMTLS, checksum verified, host environment withheld), feeds its event
// stream to a model.Sink, answers for it as a model.Bridge, and
// restarts it with backoff when it crashes, parking it as failed when it
// keeps crashing.
package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/avshub/avshub/discovery/backoff"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/internal/hoptrace"
	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
	"github.com/avshub/avshub/plugins/proto/bridge/v1/convert"
	"github.com/avshub/avshub/plugins/sdk"
)

// Config configures one Supervisor.
type Config struct {
	// Name is the bridge's name: the Sink key, the log name, the metric label.
	Name string
	// Path is the plugin executable.
	Path string
	// Args are extra command-line arguments.
	Args []string
	// Env is the plugin's whole environment besides go-plugin's own variables:
	// the hub's environment is never passed on (it may hold secrets).
	Env []string
	// SHA256 is the executable's expected checksum (hex). Empty: read it from
	// the manifest Path+".sha256" (sha256sum format) if that exists, else pin
	// the checksum of the file found at the first start (later restarts must
	// match it), unless RequireChecksum.
	SHA256 string
	// Bundled says Path is the hub's own executable serving one of its bundled
	// bridges (Args "bridge NAME") and SHA256 the running hub's checksum: a
	// mismatch means avshub was replaced under the running hub.
	Bundled bool
	// RequireChecksum refuses to start without a configured or manifest checksum.
	RequireChecksum bool
	// PinFile, if set, keeps the checksum pinned at the first start across hub
	// restarts (sha256sum format); `avshub plugin trust NAME` rewrites it. It
	// must not be writable by the bridge (not in its DataDir).
	PinFile string
	// Dev adopts a rebuilt executable: before every launch the file is hashed
	// and a new checksum replaces the pinned one (logged). For a bridge under
	// development only: in production a changed executable is refused.
	Dev bool
	// Config is the bridge's configuration as JSON ("{}" when empty).
	Config []byte
	// DataDir is the bridge's private data directory.
	DataDir string
	// Sink receives the bridge's events (under Name). Required.
	Sink model.Sink
	// Logger receives the supervisor's and the plugin's logs (slog.Default if nil).
	Logger *slog.Logger
	// Metrics, if set, gets bridge up/down and restarts (*metrics.Metrics from
	// gateway/metrics satisfies it; plugins never import gateway).
	Metrics Metrics

	// StartTimeout bounds the plugin's handshake (default 30 s).
	StartTimeout time.Duration
	// CallTimeout bounds Describe and Configure (default 30 s).
	CallTimeout time.Duration
	// MinBackoff and MaxBackoff bound the restart delay (defaults 250 ms, 30 s);
	// the delay doubles after every fast crash.
	MinBackoff, MaxBackoff time.Duration
	// FastCrash is how long a plugin must run for its crash to not count as a
	// fast one (default 10 s).
	FastCrash time.Duration
	// MaxFastCrashes fast crashes in a row park the bridge as failed (default 5).
	MaxFastCrashes int
	// DrainTimeout bounds how long shutdown waits for in-flight commands (default 5 s).
	DrainTimeout time.Duration
	// Reattach, if set, attaches to a plugin started by hand with --debug
	// instead of launching one (no AutoMTLS or checksum then). See ReattachFromEnv.
	Reattach *sdk.ReattachConfig
}

// Metrics is what the supervisor reports to the hub's metrics.
type Metrics interface {
	BridgeUp(bridge string, up bool)
	BridgeRestart(bridge string)
}

type noMetrics struct{}

func (noMetrics) BridgeUp(string, bool) {}
func (noMetrics) BridgeRestart(string)  {}

// ReattachFromEnv returns the reattach entry for bridge name from the
// AVSHUB_REATTACH_BRIDGES value env (as printed by "bridge-foo --debug").
func ReattachFromEnv(env, name string) (*sdk.ReattachConfig, error) {
	m, err := sdk.ParseReattach(env)
	if err != nil {
		return nil, err
	}
	if r, ok := m[name]; ok {
		return &r, nil
	}
	return nil, nil
}

// State is a supervised bridge's lifecycle state.
type State string

// Supervisor states.
const (
	StateStarting   State = "starting"   // launching the process, handshake, Configure
	StateRunning    State = "running"    // the event stream is open
	StateRestarting State = "restarting" // crashed; waiting to restart
	StateFailed     State = "failed"     // parked after repeated fast crashes (or a bad checksum)
	StateStopped    State = "stopped"    // shut down
)

// Status is a snapshot of a supervised bridge, for the status page and CLI.
type Status struct {
	Name      string       `json:"name"`
	State     State        `json:"state"`
	Health    model.Health `json:"health"`
	Version   string       `json:"version,omitempty"`
	Restarts  int          `json:"restarts"`
	LastError string       `json:"lastError,omitempty"`
	PID       int          `json:"pid,omitempty"`
	Since     time.Time    `json:"since"`
	Devices   int          `json:"devices"`
}

// Supervisor runs one bridge plugin. It implements model.Bridge.
type Supervisor struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	st       Status
	desc     sdk.Description
	client   pb.BridgeClient // nil while the bridge is down
	closing  bool
	inflight sync.WaitGroup
	known    map[string]bool // device id -> reachable, from the stream
	accepted map[string]bool // correlation id -> answered Accepted (false: answer pending); removed on completion
	pinned   []byte          // checksum pinned at first start
	launched string          // hex checksum of the executable at the last launch
	pinFrom  string          // where the expected checksum came from, for messages
	checks   *plausibility   // drops state values outside their trait's range
	retry    chan struct{}   // wakes a parked bridge (Retry)
}

var _ model.Bridge = (*Supervisor)(nil)

// New checks cfg and returns a Supervisor; Run starts it.
func New(cfg Config) (*Supervisor, error) {
	if cfg.Name == "" {
		return nil, errors.New("host: bridge name is empty")
	}
	if cfg.Sink == nil {
		return nil, fmt.Errorf("host: bridge %s has no sink", cfg.Name)
	}
	if cfg.Reattach == nil && cfg.Path == "" {
		return nil, fmt.Errorf("host: bridge %s has no executable path", cfg.Name)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.StartTimeout, 30*time.Second)
	def(&cfg.CallTimeout, 30*time.Second)
	def(&cfg.MinBackoff, 250*time.Millisecond)
	def(&cfg.MaxBackoff, 30*time.Second)
	def(&cfg.FastCrash, 10*time.Second)
	def(&cfg.DrainTimeout, 5*time.Second)
	if cfg.MaxFastCrashes <= 0 {
		cfg.MaxFastCrashes = 5
	}
	if len(cfg.Config) == 0 {
		cfg.Config = []byte("{}")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	s := &Supervisor{cfg: cfg, log: cfg.Logger.With("bridge", cfg.Name), known: map[string]bool{}, accepted: map[string]bool{}}
	s.checks = newPlausibility(s.log)
	s.retry = make(chan struct{}, 1)
	s.st = Status{Name: cfg.Name, State: StateStarting, Since: time.Now(),
		Health: model.Health{State: model.HealthStarting, Description: "not started"}}
	return s, nil
}

// Name returns the bridge's name.
func (s *Supervisor) Name() string { return s.cfg.Name }

// Status returns the bridge's current status.
func (s *Supervisor) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.Devices = len(s.known)
	return st
}

// Description returns the manifest the bridge gave at its last start.
func (s *Supervisor) Description() sdk.Description {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.desc
}

func (s *Supervisor) setState(st State, lastErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.State, s.st.Since = st, time.Now()
	if lastErr != nil {
		s.st.LastError = lastErr.Error()
	}
	if st != StateRunning {
		s.st.PID = 0
	}
}

// Run supervises the bridge until ctx ends, then shuts it down in order: stop
// taking commands, answer the ones in flight, stop the plugin (gracefully,
// then killed). It returns nil after an orderly shutdown, also when the
// bridge was parked as failed.
func (s *Supervisor) Run(ctx context.Context) error {
	defer s.cfg.Metrics.BridgeUp(s.cfg.Name, false)
	restart := backoff.Policy{Min: s.cfg.MinBackoff, Max: s.cfg.MaxBackoff}
	fast, waits := 0, 0 // fast crashes in a row; waits since the last long run
	for {
		started := time.Now()
		err := s.runOnce(ctx)
		if ctx.Err() != nil {
			s.setState(StateStopped, nil)
			return nil
		}
		s.log.Error("bridge stopped unexpectedly", "err", err)
		if time.Since(started) < s.cfg.FastCrash {
			fast++
		} else {
			fast, waits = 1, 0
		}
		if fast >= s.cfg.MaxFastCrashes || errors.Is(err, errFatal) {
			s.setState(StateFailed, err)
			s.mu.Lock()
			s.st.Health = model.Health{State: model.HealthUnhealthy, Description: "parked after failing: " + err.Error()}
			s.mu.Unlock()
			s.log.Error("bridge parked as failed; SIGHUP retries it", "fastCrashes", fast, "err", err)
			select {
			case <-ctx.Done():
				s.setState(StateFailed, nil)
				return nil
			case <-s.retry:
			}
			s.log.Info("retrying a parked bridge")
			fast, waits = 0, 0
			s.mu.Lock()
			s.st.Restarts++
			s.mu.Unlock()
			continue
		}
		s.setState(StateRestarting, err)
		waits++
		t := time.NewTimer(restart.Delay(waits))
		select {
		case <-ctx.Done():
			t.Stop()
			s.setState(StateStopped, nil)
			return nil
		case <-t.C:
		}
		s.mu.Lock()
		s.st.Restarts++
		s.mu.Unlock()
		s.cfg.Metrics.BridgeRestart(s.cfg.Name)
	}
}

// Retry starts a bridge parked after repeated crashes (or a refused checksum)
// again, with a fresh crash count; the hub calls it on SIGHUP. It does nothing
// to a bridge that is not parked.
func (s *Supervisor) Retry() {
	if s.Status().State != StateFailed {
		return
	}
	select {
	case s.retry <- struct{}{}:
	default:
	}
}

// BinaryChanged reports whether the executable's checksum differs from the one
// the bridge was launched with (a rebuild under a running hub).
func (s *Supervisor) BinaryChanged() bool {
	s.mu.Lock()
	launched := s.launched
	s.mu.Unlock()
	if launched == "" || s.cfg.Reattach != nil {
		return false
	}
	sum, err := FileSHA256(s.cfg.Path)
	return err == nil && sum != launched
}

// apiMismatch says whether a bridge is too new or too old for this hub, and
// what to do about it.
func apiMismatch(name string, versions []string) error {
	newer := slices.ContainsFunc(versions, func(v string) bool {
		var major int
		_, err := fmt.Sscanf(v, "%d.", &major)
		return err == nil && major > 1
	})
	if newer {
		return fmt.Errorf("bridge %s is too new for this hub: it speaks bridge API %v, this hub speaks %s (1.x); "+
			"upgrade avshub, or build the bridge with an SDK that speaks API 1.x", name, versions, sdk.APIVersion)
	}
	return fmt.Errorf("bridge %s is too old for this hub: it speaks bridge API %v, this hub speaks %s (1.x); "+
		"rebuild the bridge with a current SDK", name, versions, sdk.APIVersion)
}

// errFatal marks failures a restart cannot fix (bad checksum, bad config).
var errFatal = errors.New("fatal")

// runOnce launches the plugin, configures it and pumps its event stream until
// the stream ends or ctx ends (then it shuts down in order).
func (s *Supervisor) runOnce(ctx context.Context) (err error) {
	s.setState(StateStarting, nil)
	cc, err := s.clientConfig()
	if err != nil {
		return err
	}
	client := plugin.NewClient(cc)
	defer client.Kill() // graceful (controller Shutdown), then forced after 2 s; idempotent
	// A shutdown during the start kills the half-started plugin at once.
	stopEarlyKill := context.AfterFunc(ctx, client.Kill)
	defer stopEarlyKill()

	rpc, err := client.Client()
	if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		return fmt.Errorf("%w: start %s: %w", errFatal, s.cfg.Name, s.checksumError())
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", s.cfg.Name, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		return fmt.Errorf("dispense %s: %w", s.cfg.Name, err)
	}
	bc, ok := raw.(pb.BridgeClient)
	if !ok {
		return fmt.Errorf("%w: %s: unexpected plugin type %T", errFatal, s.cfg.Name, raw)
	}

	cctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	dr, err := bc.Describe(cctx, &pb.DescribeRequest{HubApiVersions: []string{sdk.APIVersion}})
	if err != nil {
		return fmt.Errorf("describe %s: %w", s.cfg.Name, err)
	}
	desc := sdk.DescriptionFrom(dr)
	if !slices.ContainsFunc(desc.APIVersions, func(v string) bool { return strings.HasPrefix(v, "1.") }) {
		return fmt.Errorf("%w: %w", errFatal, apiMismatch(s.cfg.Name, desc.APIVersions))
	}
	// The configuration must match the schema the bridge declares: a typo is
	// named here, with its key, instead of surfacing as a bridge failure.
	if len(desc.ConfigSchema) > 0 {
		if err := sdk.ValidateConfig(desc.ConfigSchema, s.cfg.Config); err != nil {
			return fmt.Errorf("%w: configuration of bridge %s: %w", errFatal, s.cfg.Name, err)
		}
	}
	// The bridge's private data directory exists before it is configured.
	if s.cfg.DataDir != "" {
		if err := os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("%w: data directory of %s: %w", errFatal, s.cfg.Name, err)
		}
	}
	if _, err := bc.Configure(cctx, &pb.ConfigureRequest{ConfigJson: string(s.cfg.Config), DataDir: s.cfg.DataDir,
		ApiVersion: sdk.APIVersion}); err != nil {
		if status.Code(err) == codes.InvalidArgument {
			return fmt.Errorf("%w: configure %s: %s", errFatal, s.cfg.Name, status.Convert(err).Message())
		}
		return fmt.Errorf("configure %s: %w", s.cfg.Name, err)
	}

	// The stream has its own context so shutdown can drain commands first.
	sctx, stopStream := context.WithCancel(context.Background())
	defer stopStream()
	stream, err := bc.StreamEvents(sctx, &pb.StreamEventsRequest{})
	if err != nil {
		return fmt.Errorf("open event stream of %s: %w", s.cfg.Name, err)
	}

	if !stopEarlyKill() {
		return fmt.Errorf("start %s: %w", s.cfg.Name, ctx.Err())
	}
	pid := 0
	if rc := client.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	s.mu.Lock()
	s.client, s.desc = bc, desc
	s.st.State, s.st.Since, s.st.PID, s.st.Version = StateRunning, time.Now(), pid, desc.Version
	s.mu.Unlock()
	s.log.Info("bridge started", "version", desc.Version, "pid", pid)

	recvErr := make(chan error, 1)
	go func() { recvErr <- s.pump(stream) }()

	select {
	case err = <-recvErr:
		s.down(err)
		return err
	case <-ctx.Done():
	}
	// Orderly shutdown.
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	drained := make(chan struct{})
	go func() { s.inflight.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(s.cfg.DrainTimeout):
		s.log.Warn("commands still running at shutdown")
	}
	stopStream()
	<-recvErr
	s.down(nil)
	return nil
}

// clientConfig builds the go-plugin client configuration for one attempt.
func (s *Supervisor) clientConfig() (*plugin.ClientConfig, error) {
	hl := newHCLog(s.log, hclog.Debug)
	cc := &plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.PluginSets(&sdk.GRPCPlugin{}),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hl,
		SyncStdout:       lineLogger(s.log, "stdout"),
		SyncStderr:       lineLogger(s.log, "stderr"),
	}
	cc.GRPCDialOptions = append(sdk.GRPCDialOptions(), withRawSocket(cc))
	if r := s.cfg.Reattach; r != nil {
		rc, err := r.PluginConfig()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errFatal, err)
		}
		cc.Reattach = rc
		// go-plugin picks the plugin set from VersionedPlugins only during a
		// handshake; a reattached client needs the set for its version directly.
		cc.Plugins = cc.VersionedPlugins[rc.ProtocolVersion]
		return cc, nil
	}
	sum, justPinned, err := s.checksum()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errFatal, err)
	}
	s.mu.Lock()
	s.launched = hex.EncodeToString(sum)
	s.mu.Unlock()
	cmd := exec.Command(s.cfg.Path, s.cfg.Args...)
	cmd.Env = append([]string(nil), s.cfg.Env...)
	cc.Cmd = cmd
	if !justPinned {
		// go-plugin hashes the file right before it runs it. A checksum just
		// pinned was computed from the file a moment ago: hashing it again
		// (20 MB, ~20 ms) would only delay the first start.
		cc.SecureConfig = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	cc.AutoMTLS = true
	cc.Managed = true
	cc.SkipHostEnv = true
	cc.StartTimeout = s.cfg.StartTimeout
	return cc, nil
}

// checksum returns the sha256 the executable must have; justPinned tells
// that it was computed from the file now (no checksum known yet, or a rebuild
// adopted in dev mode).
func (s *Supervisor) checksum() (sum []byte, justPinned bool, err error) {
	if s.cfg.SHA256 != "" {
		s.pinFrom = "the configuration (bridges[].sha256)"
		if s.cfg.Bundled {
			s.pinFrom = "the running hub"
		}
		sum, err = parseSum(s.cfg.SHA256)
		return sum, false, err
	}
	if b, err := os.ReadFile(s.cfg.Path + ".sha256"); err == nil {
		s.pinFrom = "the manifest " + s.cfg.Path + ".sha256"
		f := strings.Fields(string(b))
		if len(f) == 0 {
			return nil, false, fmt.Errorf("manifest %s.sha256 is empty", s.cfg.Path)
		}
		sum, err = parseSum(f[0])
		return sum, false, err
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read checksum manifest: %w", err)
	}
	if s.cfg.RequireChecksum {
		return nil, false, fmt.Errorf("no checksum configured for %s and no manifest %s.sha256", s.cfg.Path, s.cfg.Path)
	}
	s.pinFrom = "the checksum pinned at its first start"
	if s.cfg.PinFile != "" {
		s.pinFrom += " (" + s.cfg.PinFile + ")"
		b, err := os.ReadFile(s.cfg.PinFile)
		switch {
		case err == nil:
			f := strings.Fields(string(b))
			if len(f) > 0 {
				if p, err := parseSum(f[0]); err == nil {
					s.pinned = p
				}
			}
		case !errors.Is(err, os.ErrNotExist):
			return nil, false, fmt.Errorf("read pinned checksum: %w", err)
		}
	}
	if s.pinned != nil && !s.cfg.Dev {
		return s.pinned, false, nil
	}
	hexSum, err := FileSHA256(s.cfg.Path)
	if err != nil {
		return nil, false, err
	}
	cur, _ := parseSum(hexSum)
	switch {
	case s.pinned == nil:
		s.log.Warn("no checksum configured; pinned the executable's current checksum", "path", s.cfg.Path, "sha256", hexSum)
	case !bytes.Equal(s.pinned, cur):
		s.log.Warn("dev mode: adopted a rebuilt executable", "path", s.cfg.Path,
			"previous", hex.EncodeToString(s.pinned), "sha256", hexSum)
	default:
		return s.pinned, false, nil
	}
	s.pinned = cur
	if s.cfg.PinFile != "" {
		if err := writePin(s.cfg.PinFile, hexSum, s.cfg.Path); err != nil {
			return nil, false, err
		}
	}
	return s.pinned, true, nil
}

// writePin writes a pinned checksum in sha256sum format, atomically.
func writePin(file, hexSum, path string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("pin checksum: %w", err)
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(hexSum+"  "+path+"\n"), 0o600); err != nil {
		return fmt.Errorf("pin checksum: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("pin checksum: %w", err)
	}
	return nil
}

// ChecksumError is a refused launch: the executable is not the one trusted.
type ChecksumError struct {
	Bridge, Path     string
	Expected, Actual string // hex sha256
	// From says where the expected checksum came from.
	From string
	// Bundled: Path is the hub's own executable (a bundled bridge).
	Bundled bool
}

func (e *ChecksumError) Error() string {
	if e.Bundled {
		return fmt.Sprintf("the executable %s has sha256 %s, but the running hub's is %s: avshub was upgraded or rebuilt "+
			"while the hub runs, and its bundled bridge %s runs only from the hub's own executable. Restart the hub "+
			"(systemctl restart avshub) to run the new one", e.Path, e.Actual, e.Expected, e.Bridge)
	}
	return fmt.Sprintf("the executable %s has sha256 %s, but %s expects %s. If you rebuilt or upgraded it on purpose, "+
		"trust the new one with `avshub plugin trust %s` and reload the hub (SIGHUP); while developing a bridge, "+
		"run the hub with `avshub run --dev` or set `dev: true` on the bridge to adopt every rebuild",
		e.Path, e.Actual, e.From, e.Expected, e.Bridge)
}

// checksumError describes a refused launch with both checksums.
func (s *Supervisor) checksumError() error {
	actual, err := FileSHA256(s.cfg.Path)
	if err != nil {
		actual = "unreadable (" + err.Error() + ")"
	}
	s.mu.Lock()
	expected := s.launched
	s.mu.Unlock()
	return &ChecksumError{Bridge: s.cfg.Name, Path: s.cfg.Path, Expected: expected, Actual: actual, From: s.pinFrom, Bundled: s.cfg.Bundled}
}

func parseSum(h string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(h))
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("checksum %q is not a hex sha256", h)
	}
	return b, nil
}

// CleanupClients kills every plugin process still running; the hub's main
// defers it as a last resort behind the supervisors' orderly shutdown.
func CleanupClients() { plugin.CleanupClients() }

// FileSHA256 returns the hex sha256 of a file (for manifests and configuration).
func FileSHA256(path string) (string, error) {
	f, err := os.Open(filepath.Clean(path))
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := ioCopy(h, f); err != nil {
		return "", fmt.Errorf("checksum %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pump reads the event stream into the Sink until it ends.
func (s *Supervisor) pump(stream interface{ Recv() (*pb.Event, error) }) error {
	var last uint64
	for {
		m, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("event stream of %s ended: %w", s.cfg.Name, err)
		}
		ev, ok := convert.EventFrom(m)
		if !ok {
			s.log.Warn("skipping an event of an unknown kind", "seq", m.GetSeq())
			continue
		}
		if ev.Seq <= last {
			s.log.Warn("event sequence went backwards", "seq", ev.Seq, "last", last)
		}
		last = ev.Seq
		ev = s.checks.event(cleanNames(ev))
		s.observe(ev)
		s.cfg.Sink.BridgeEvent(s.cfg.Name, ev)
	}
}

// observe updates what the supervisor tracks from one event.
func (s *Supervisor) observe(ev model.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev.Kind {
	case model.EventHealth:
		s.st.Health = *ev.Health
		s.cfg.Metrics.BridgeUp(s.cfg.Name, ev.Health.State == model.HealthHealthy)
	case model.EventSnapshot:
		s.known = make(map[string]bool, len(ev.Devices))
		for _, d := range ev.Devices {
			s.known[d.Endpoint.DeviceID] = d.Reachable
		}
	case model.EventUpsert:
		s.known[ev.Device.Endpoint.DeviceID] = ev.Device.Reachable
	case model.EventRemove:
		delete(s.known, ev.DeviceID)
	case model.EventReachability:
		if _, ok := s.known[ev.DeviceID]; ok {
			s.known[ev.DeviceID] = ev.Reachable
		}
	case model.EventCompletion:
		delete(s.accepted, ev.Completion.CorrelationID)
	}
}

// down marks the bridge as down: commands fail fast from now on, every device
// it knew becomes unreachable, commands awaiting completion fail, and the
// bridge's health turns UNHEALTHY (all reported to the Sink at once).
func (s *Supervisor) down(cause error) {
	s.mu.Lock()
	s.client = nil
	var ids []string
	for id, reachable := range s.known {
		if reachable {
			ids = append(ids, id)
		}
		s.known[id] = false
	}
	slices.Sort(ids)
	var pending []string
	for c, accepted := range s.accepted {
		if accepted { // commands still waiting for their answer get it as an error instead
			pending = append(pending, c)
			delete(s.accepted, c)
		}
	}
	slices.Sort(pending)
	desc := "stopped"
	if cause != nil {
		desc = "bridge process ended: " + cause.Error()
	}
	h := model.Health{State: model.HealthUnhealthy, Description: desc}
	s.st.Health = h
	s.mu.Unlock()
	s.cfg.Metrics.BridgeUp(s.cfg.Name, false)

	now := time.Now()
	for _, id := range ids {
		s.cfg.Sink.BridgeEvent(s.cfg.Name, model.Event{Kind: model.EventReachability, At: now, DeviceID: id, Reachable: false})
	}
	for _, c := range pending {
		s.checks.command(c, "")
		s.cfg.Sink.BridgeEvent(s.cfg.Name, model.Event{Kind: model.EventCompletion, At: now,
			Completion: &model.Completion{CorrelationID: c, Err: bridgeDown(s.cfg.Name)}})
	}
	s.cfg.Sink.BridgeEvent(s.cfg.Name, model.Event{Kind: model.EventHealth, At: now, Health: &h})
}

func bridgeDown(name string) *model.Error {
	return model.Errorf(model.ErrBridgeUnreachable, "bridge %s is not running", name)
}

// acquire returns the live client and registers an in-flight call, or fails
// at once with ErrBridgeUnreachable while the bridge is down or shutting down.
func (s *Supervisor) acquire() (pb.BridgeClient, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil || s.closing {
		return nil, bridgeDown(s.cfg.Name)
	}
	s.inflight.Add(1)
	return s.client, nil
}

// rpcError maps a transport failure to a typed error: a deadline is the
// device not answering, anything else is the bridge being gone.
func (s *Supervisor) rpcError(err error) *model.Error {
	switch status.Code(err) {
	case codes.DeadlineExceeded:
		return model.Errorf(model.ErrUnreachable, "bridge %s did not answer in time", s.cfg.Name)
	case codes.Canceled:
		return model.Errorf(model.ErrUnreachable, "command cancelled")
	}
	return bridgeDown(s.cfg.Name)
}

// Execute sends one command to the bridge (model.Bridge).
func (s *Supervisor) Execute(ctx context.Context, req model.Request) (model.Result, error) {
	bc, err := s.acquire()
	if err != nil {
		return model.Result{}, err
	}
	defer s.inflight.Done()
	if !req.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, req.Deadline)
		defer cancel()
	}
	// Register the command as possibly Accepted before sending it: its
	// Completion may arrive on the stream before this answer does. If the
	// bridge dies before completing it, down() fails it.
	track := req.CorrelationID != ""
	if track {
		s.mu.Lock()
		s.accepted[req.CorrelationID] = false
		s.mu.Unlock()
		s.checks.command(req.CorrelationID, req.DeviceID)
	}
	hoptrace.At(req.CorrelationID, "hub-call")
	resp, err := bc.Execute(ctx, convert.Request(req))
	hoptrace.At(req.CorrelationID, "hub-reply")
	var res model.Result
	if err != nil {
		err = s.rpcError(err)
	} else {
		res, err = convert.ResultFrom(resp)
		res.State = s.checks.state(req.DeviceID, res.State)
	}
	if track {
		s.mu.Lock()
		if _, waiting := s.accepted[req.CorrelationID]; waiting && err == nil && res.Status == model.Accepted {
			s.accepted[req.CorrelationID] = true
		} else {
			delete(s.accepted, req.CorrelationID) // done, failed, or already completed on the stream
			s.checks.command(req.CorrelationID, "")
		}
		s.mu.Unlock()
	}
	return res, err
}

// State reads one device's state from the bridge (model.Bridge).
func (s *Supervisor) State(ctx context.Context, deviceID string) (model.State, error) {
	bc, err := s.acquire()
	if err != nil {
		return model.State{}, err
	}
	defer s.inflight.Done()
	resp, err := bc.GetState(ctx, &pb.GetStateRequest{DeviceId: deviceID})
	if err != nil {
		return model.State{}, s.rpcError(err)
	}
	if e := resp.GetError(); e != nil {
		return model.State{}, convert.ErrorFrom(e)
	}
	return s.checks.state(deviceID, convert.StateFrom(resp.GetState())), nil
}

// StartPairing lets new devices join for d (model.Bridge).
func (s *Supervisor) StartPairing(ctx context.Context, d time.Duration) error {
	bc, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.inflight.Done()
	resp, err := bc.StartPairing(ctx, &pb.StartPairingRequest{Duration: convert.Duration(d)})
	if err != nil {
		return s.rpcError(err)
	}
	if e := resp.GetError(); e != nil {
		return convert.ErrorFrom(e)
	}
	return nil
}

// RemoveDevice asks the bridge to make a device leave and forget it
// (model.Bridge). A bridge that does not declare the capability (API 1.0)
// is not asked: ErrNotSupported says so.
func (s *Supervisor) RemoveDevice(ctx context.Context, deviceID string) error {
	bc, err := s.acquire()
	if err != nil {
		return err
	}
	defer s.inflight.Done()
	if d := s.Description(); !d.Remove {
		return model.Errorf(model.ErrNotSupported, "bridge %s (%s, API %s) cannot remove devices",
			s.cfg.Name, d.Version, strings.Join(d.APIVersions, ", "))
	}
	resp, err := bc.RemoveDevice(ctx, &pb.RemoveDeviceRequest{DeviceId: deviceID})
	if status.Code(err) == codes.Unimplemented {
		return model.Errorf(model.ErrNotSupported, "bridge %s declares removing devices but does not implement it", s.cfg.Name)
	}
	if err != nil {
		return s.rpcError(err)
	}
	if e := resp.GetError(); e != nil {
		return convert.ErrorFrom(e)
	}
	return nil
}
