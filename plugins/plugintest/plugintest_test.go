package plugintest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

// fake is a bridge with switchable faults, to prove each check can fail.
type fake struct {
	desc    sdk.Description
	devices []model.Device

	wrongState   bool          // Execute answers Done with the state before the command
	wholeState   bool          // Execute answers Done with the device's whole state
	neverDone    bool          // Execute answers Accepted and never completes
	ignoreCtx    chan struct{} // Run does not return until this is closed
	leak         chan struct{} // Run starts a goroutine that waits for this
	emptySnaphot bool
	badSnapshot  bool         // the light's brightness is 150 in the snapshot
	badState     bool         // State reads the sensor at 327.67 °C (Zigbee's 0x7FFF)
	badAnswer    bool         // Execute answers brightness 150
	badEvent     bool         // a state change sets the thermostat's target to 327.67 °C
	pollURL      string       // Run fetches this URL once (keep-alive connection left idle)
	client       *http.Client // the client it uses (nil: http.DefaultClient)
	slowExecute  bool         // Execute never returns before its deadline

	mu    sync.Mutex
	state map[string]model.State
}

func goodDesc() sdk.Description {
	return sdk.Description{Name: "fake", Version: "0.1.0", APIVersions: []string{"1.0"},
		ConfigSchema: json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}}}`),
		SampleConfig: json.RawMessage(`{"n":1}`)}
}

func newFake() *fake {
	return &fake{desc: goodDesc(), devices: []model.Device{
		sdk.Light("l1", "Light", sdk.ExtendedColorLight),
		sdk.Lock("k1", "Lock"),
		sdk.SingleSetpointThermostat("t1", "Thermostat", 20),
		sdk.TemperatureSensor("s1", "Sensor", 5),
	}}
}

func (f *fake) Describe() sdk.Description                   { return f.desc }
func (f *fake) Configure(context.Context, sdk.Config) error { return nil }

func (f *fake) Run(ctx context.Context, em sdk.Emitter) error {
	f.mu.Lock()
	f.state = map[string]model.State{}
	for _, d := range f.devices {
		f.state[d.Endpoint.DeviceID] = d.State
	}
	f.mu.Unlock()
	em.Health(model.Health{State: model.HealthHealthy})
	switch {
	case f.emptySnaphot:
		em.Snapshot(nil)
	case f.badSnapshot:
		devs := append([]model.Device(nil), f.devices...)
		devs[0].State = devs[0].State.Merge(model.State{Brightness: model.Ptr(150)})
		em.Snapshot(devs)
	default:
		em.Snapshot(f.devices)
	}
	if f.pollURL != "" {
		c := f.client
		if c == nil {
			c = http.DefaultClient
		}
		if resp, err := c.Get(f.pollURL); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	if f.badEvent {
		em.StateChanged("t1", model.State{Thermostat: &model.ThermostatState{Target: model.Ptr(327.67)}}, model.CausePoll)
	}
	if f.leak != nil {
		go func() { <-f.leak }()
	}
	<-ctx.Done()
	if f.ignoreCtx != nil {
		<-f.ignoreCtx
	}
	return nil
}

func (f *fake) Execute(ctx context.Context, req model.Request) (model.Result, error) {
	if f.slowExecute {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // and then some
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	before := f.state[req.DeviceID]
	if f.neverDone && req.Command.Trait == model.TraitLock {
		return model.Result{Status: model.Accepted, State: before}, nil
	}
	after := req.Command.Apply(before)
	f.state[req.DeviceID] = after
	if f.wrongState {
		return model.Result{Status: model.Done, State: before}, nil
	}
	ans := req.Command.Effect(after)
	if f.wholeState {
		ans = after
	}
	if f.badAnswer && ans.Brightness != nil {
		ans.Brightness = model.Ptr(150)
	}
	return model.Result{Status: model.Done, State: ans}, nil
}

func (f *fake) State(_ context.Context, id string) (model.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.badState && id == "s1" {
		return model.State{Temperature: model.Ptr(327.67)}, nil
	}
	return f.state[id], nil
}

// record runs the in-process checks and returns the names of those that failed.
func record(t *testing.T, b sdk.Bridge, cfg Config) []string {
	t.Helper()
	cfg, _ = cfg.withDefaults(func() (string, error) { return t.TempDir(), nil })
	var failed []string
	step := func(name string, f func(context.Context) error) bool {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
		defer cancel()
		if err := f(ctx); err != nil {
			t.Logf("%s: %v", name, err)
			failed = append(failed, name)
			return false
		}
		return true
	}
	if err := runInProcess(step, b, cfg); err != nil {
		t.Fatal(err)
	}
	sort.Strings(failed)
	return failed
}

func TestChecksCatchFaults(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		modify func(*fake)
		want   []string
	}{
		{"conforming", Config{}, func(*fake) {}, nil},
		{"bad name and version", Config{}, func(f *fake) { f.desc.Name, f.desc.Version = "Fake Bridge", "one" }, []string{"describe"}},
		{"no API v1", Config{}, func(f *fake) { f.desc.APIVersions = []string{"2.0"} }, []string{"describe"}},
		{"schema rejects sample", Config{}, func(f *fake) { f.desc.SampleConfig = json.RawMessage(`{"n":"x"}`) }, []string{"config-schema"}},
		{"schema rejects test config", Config{Config: json.RawMessage(`{"n":1.5}`)}, func(*fake) {}, []string{"config-schema"}},
		{"schema is not a schema", Config{}, func(f *fake) { f.desc.ConfigSchema = json.RawMessage(`{"type":12}`) }, []string{"config-schema"}},
		{"state not applied", Config{}, func(f *fake) { f.wrongState = true }, []string{"commands"}},
		{"whole state in the answer", Config{}, func(f *fake) { f.wholeState = true }, []string{"commands"}},
		{"accepted never completes", Config{CommandDeadline: 300 * time.Millisecond}, func(f *fake) { f.neverDone = true }, []string{"commands"}},
		{"no devices", Config{}, func(f *fake) { f.emptySnaphot = true }, []string{"snapshot-first"}},
		{"bad endpoint", Config{}, func(f *fake) {
			f.devices = append(f.devices, model.Device{Endpoint: model.Endpoint{DeviceID: "l1", FriendlyName: " "}, Reachable: true})
		}, []string{"endpoints"}},
		{"Run ignores its context", Config{StopTimeout: 200 * time.Millisecond}, func(f *fake) { f.ignoreCtx = make(chan struct{}) }, []string{"goroutine-leaks", "stop"}},
		{"leaks a goroutine", Config{}, func(f *fake) { f.leak = make(chan struct{}) }, []string{"goroutine-leaks"}},
		{"brightness 150 in the snapshot", Config{}, func(f *fake) { f.badSnapshot = true }, []string{"state-ranges"}},
		{"327.67 °C from State", Config{}, func(f *fake) { f.badState = true }, []string{"get-state"}},
		{"brightness 150 in an answer", Config{}, func(f *fake) { f.badAnswer = true }, []string{"commands"}},
		{"327.67 °C setpoint in an event", Config{}, func(f *fake) { f.badEvent = true }, []string{"state-ranges"}},
		{"polls with http.DefaultClient", Config{}, func(f *fake) { f.pollURL = testServer(t).URL }, nil},
		{"polls with its own client, never closed", Config{}, func(f *fake) {
			f.pollURL, f.client = testServer(t).URL, &http.Client{Transport: &http.Transport{}}
		}, []string{"goroutine-leaks"}},
		{"Execute overruns its deadline", Config{CommandDeadline: 300 * time.Millisecond}, func(f *fake) { f.slowExecute = true }, []string{"commands"}},
		{"declares pairing it cannot do", Config{}, func(f *fake) { f.desc.Pairing = true }, []string{"pairing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			tt.modify(f)
			got := record(t, f, tt.cfg)
			if f.ignoreCtx != nil {
				close(f.ignoreCtx)
			}
			if f.leak != nil {
				close(f.leak)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("failed checks %v, want %v", got, tt.want)
			}
		})
	}
}

// pairer is a fake that can pair.
type pairer struct{ *fake }

func (pairer) StartPairing(context.Context, time.Duration) error { return nil }

func TestPairingBridgePasses(t *testing.T) {
	f := newFake()
	f.desc.Pairing = true
	if got := record(t, pairer{f}, Config{}); got != nil {
		t.Errorf("failed checks %v", got)
	}
}

// testServer is an HTTP server the test owns (its goroutines are not the bridge's).
func testServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	return srv
}

// The kit's messages name the cause: the keep-alive fix, the Execute deadline.
func TestFaultMessagesNameTheCause(t *testing.T) {
	msgs := func(f *fake, cfg Config) string {
		cfg, _ = cfg.withDefaults(func() (string, error) { return t.TempDir(), nil })
		var b strings.Builder
		step := func(name string, fn func(context.Context) error) bool {
			ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
			defer cancel()
			if err := fn(ctx); err != nil {
				b.WriteString(name + ": " + err.Error() + "\n")
				return false
			}
			return true
		}
		if err := runInProcess(step, f, cfg); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	f := newFake()
	f.pollURL, f.client = testServer(t).URL, &http.Client{Transport: &http.Transport{}}
	out := msgs(f, Config{})
	if !strings.Contains(out, "CloseIdleConnections()") || strings.Contains(out, "(*conn).serve") {
		t.Errorf("leak report does not name the fix, or lists the test's server:\n%s", out)
	}
	f.client.CloseIdleConnections()
	f = newFake()
	f.slowExecute = true
	out = msgs(f, Config{CommandDeadline: 300 * time.Millisecond})
	if !strings.Contains(out, "Execute did not return before its deadline (0.3 s)") {
		t.Errorf("deadline overrun not named:\n%s", out)
	}
}
