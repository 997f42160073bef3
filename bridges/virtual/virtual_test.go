package virtual_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/plugintest"
	"github.com/avshub/avshub/plugins/sdk"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bridge-virtual-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "bridge-virtual")
	if out, err := exec.Command("go", "build", "-o", binary, "../../cmd/bridge-virtual").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build bridge-virtual: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestConformanceInProcess(t *testing.T) {
	plugintest.Run(t, virtual.New(nil), plugintest.Config{})
}

func TestConformanceBinary(t *testing.T) {
	plugintest.RunBinary(t, binary, plugintest.Config{})
}

func TestConformanceDefaults(t *testing.T) {
	plugintest.Run(t, virtual.New(nil), plugintest.Config{Config: json.RawMessage(`{}`)})
}

// sink records events delivered by sdk.Local.
type sink struct {
	mu     sync.Mutex
	events []model.Event
	signal chan struct{}
}

func newSink() *sink { return &sink{signal: make(chan struct{}, 1)} }

func (s *sink) BridgeEvent(_ string, ev model.Event) {
	s.mu.Lock()
	s.events = append(s.events, ev)
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// wait returns the first event at or after index from that matches, waiting up to 5 s.
func (s *sink) wait(t *testing.T, from int, what string, pred func(model.Event) bool) (int, model.Event) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		evs := s.events
		s.mu.Unlock()
		for i := from; i < len(evs); i++ {
			if pred(evs[i]) {
				return i, evs[i]
			}
		}
		select {
		case <-s.signal:
		case <-timeout:
			t.Fatalf("no %s event", what)
		}
	}
}

func (s *sink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

func start(t *testing.T, cfg string) (*virtual.Bridge, *sdk.LocalBridge, *sink) {
	t.Helper()
	b := virtual.New(nil)
	sk := newSink()
	l := sdk.Local(b, "virtual", sk)
	if err := l.Start(context.Background(), sdk.Config{JSON: json.RawMessage(cfg), DataDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	sk.wait(t, 0, "snapshot", func(ev model.Event) bool { return ev.Kind == model.EventSnapshot })
	return b, l, sk
}

func req(id string, c model.Command) model.Request {
	return model.Request{CorrelationID: "c-" + id, DeviceID: id, Command: c, Deadline: time.Now().Add(5 * time.Second)}
}

func TestDefaultDevices(t *testing.T) {
	_, l, _ := start(t, `{}`)
	got := map[string]model.Device{}
	for _, d := range l.Devices() {
		got[d.Endpoint.DeviceID] = d
	}
	if len(got) != len(virtual.DefaultDevices()) {
		t.Fatalf("%d devices, want %d", len(got), len(virtual.DefaultDevices()))
	}
	tests := []struct {
		id    string
		check func(model.Traits) bool
	}{
		{"hall-light", func(t model.Traits) bool { return t.OnOff != nil && t.Brightness == nil }},
		{"bedroom-light", func(t model.Traits) bool { return t.Brightness != nil && t.Color == nil }},
		{"kitchen-light", func(t model.Traits) bool { return t.Color != nil && t.ColorTemperature == nil }},
		{"desk-lamp", func(t model.Traits) bool { return t.ColorTemperature != nil && t.Color == nil }},
		{"living-room-light", func(t model.Traits) bool { return t.ColorTemperature != nil && t.Color != nil }},
		{"front-door", func(t model.Traits) bool { return t.Lock != nil }},
		{"thermostat", func(t model.Traits) bool { return t.Thermostat != nil && t.Thermostat.TargetSetpoint }},
		{"heat-pump", func(t model.Traits) bool { return t.Thermostat != nil && t.Thermostat.DualSetpoints }},
		{"outdoor-sensor", func(t model.Traits) bool { return t.TemperatureSensor != nil && t.OnOff == nil }},
	}
	for _, tt := range tests {
		d, ok := got[tt.id]
		if !ok || !tt.check(d.Endpoint.Traits) {
			t.Errorf("%s: %+v", tt.id, d.Endpoint.Traits)
		}
	}
}

func TestLockIsAcceptedThenCompleted(t *testing.T) {
	_, l, sk := start(t, `{"lockDelay":"100ms","devices":[{"id":"door","name":"Door","type":"lock"}]}`)
	res, err := l.Execute(context.Background(), req("door", model.SetLock(model.Unlocked)))
	if err != nil || res.Status != model.Accepted || res.EstimatedDeferral != 100*time.Millisecond {
		t.Fatalf("%+v, %v", res, err)
	}
	// A second command while turning: busy.
	_, err = l.Execute(context.Background(), req("door", model.SetLock(model.Locked)))
	if de := model.AsError(err); de == nil || de.Kind != model.ErrBusy {
		t.Fatalf("second command: %v, want BUSY", err)
	}
	_, ev := sk.wait(t, 0, "completion", func(ev model.Event) bool { return ev.Kind == model.EventCompletion })
	if ev.Completion.CorrelationID != "c-door" || ev.Completion.Err != nil || ev.Completion.State.Lock != model.Unlocked {
		t.Fatalf("completion %+v", ev.Completion)
	}
	if st, _ := l.State(context.Background(), "door"); st.Lock != model.Unlocked {
		t.Fatalf("state after completion %+v", st)
	}
}

func TestJamAndUnreachable(t *testing.T) {
	b, l, sk := start(t, `{"lockDelay":"10ms","devices":[
		{"id":"door","name":"Door","type":"lock","jammed":true},
		{"id":"lamp","name":"Lamp","type":"light","kind":"onoff"},
		{"id":"gone","name":"Gone","type":"light","unreachable":true}]}`)
	if _, err := l.Execute(context.Background(), req("door", model.SetLock(model.Unlocked))); err != nil {
		t.Fatal(err)
	}
	_, ev := sk.wait(t, 0, "completion", func(ev model.Event) bool { return ev.Kind == model.EventCompletion })
	if ev.Completion.Err == nil || ev.Completion.Err.Kind != model.ErrHardwareFault {
		t.Fatalf("jammed completion %+v", ev.Completion)
	}
	// Now jammed: the next command fails at once.
	if _, err := l.Execute(context.Background(), req("door", model.SetLock(model.Locked))); model.AsError(err).Kind != model.ErrHardwareFault {
		t.Fatalf("jammed lock: %v", err)
	}
	if _, err := l.Execute(context.Background(), req("gone", model.SetPower(true))); model.AsError(err).Kind != model.ErrUnreachable {
		t.Fatalf("unreachable light: %v", err)
	}
	n := sk.len()
	if err := b.SetReachable("lamp", false); err != nil {
		t.Fatal(err)
	}
	_, ev = sk.wait(t, n, "reachability", func(ev model.Event) bool { return ev.Kind == model.EventReachability })
	if ev.DeviceID != "lamp" || ev.Reachable {
		t.Fatalf("%+v", ev)
	}
	if _, err := l.Execute(context.Background(), req("lamp", model.SetPower(true))); model.AsError(err).Kind != model.ErrUnreachable {
		t.Fatalf("lamp after SetReachable(false): %v", err)
	}
}

func TestManualChanges(t *testing.T) {
	b, _, sk := start(t, `{"devices":[{"id":"lamp","name":"Lamp","type":"light","kind":"onoff"},
		{"id":"out","name":"Outside","type":"temperature_sensor","temperature":3}]}`)
	b.ManualChange()
	i, ev := sk.wait(t, 0, "state", func(ev model.Event) bool { return ev.Kind == model.EventState })
	if ev.DeviceID != "lamp" || ev.Cause != model.CausePhysical || ev.State.On == nil || !*ev.State.On {
		t.Fatalf("first manual change %+v", ev)
	}
	b.ManualChange()
	_, ev = sk.wait(t, i+1, "state", func(ev model.Event) bool { return ev.Kind == model.EventState })
	if ev.DeviceID != "out" || ev.State.Temperature == nil || *ev.State.Temperature != 3.5 {
		t.Fatalf("second manual change %+v", ev)
	}
}

func TestManualEvery(t *testing.T) {
	_, _, sk := start(t, `{"manualEvery":"20ms","devices":[{"id":"lamp","name":"Lamp","type":"light","kind":"onoff"}]}`)
	i, _ := sk.wait(t, 0, "timed change", func(ev model.Event) bool { return ev.Kind == model.EventState })
	sk.wait(t, i+1, "second timed change", func(ev model.Event) bool { return ev.Kind == model.EventState })
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []string{
		`{"devices":[{"id":"a","name":"A","type":"toaster"}]}`,
		`{"devices":[{"id":"a","name":"A","type":"light","kind":"plaid"}]}`,
		`{"devices":[{"id":"a","name":"A","type":"light"},{"id":"a","name":"B","type":"light"}]}`,
		`{"devices":[{"name":"A","type":"light"}]}`,
		`{"manualEvery":"soon"}`,
		`{"unknown":1}`,
		`[`,
	} {
		err := virtual.New(nil).Configure(context.Background(), sdk.Config{JSON: json.RawMessage(cfg)})
		if err == nil {
			t.Errorf("config %s accepted", cfg)
		}
	}
}

// TestImportBoundary: a bridge (and the plugin packages it uses) never
// imports the hub's gateway packages, tests included.
func TestImportBoundary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}",
		"github.com/avshub/avshub/bridges/virtual", "github.com/avshub/avshub/cmd/bridge-virtual",
		"github.com/avshub/avshub/plugins/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/avshub/avshub/gateway") {
			t.Errorf("imports %s", p)
		}
	}
}

// TestBlindStops: the virtual blind (it travels at once) takes a position,
// then the stop action: it stays where it is, Done with that position, and a
// stop with a position as well is refused by the SDK's validation.
func TestBlindStops(t *testing.T) {
	_, l, _ := start(t, `{"devices":[{"id":"blind","name":"Blind","type":"cover"}]}`)
	if res, err := l.Execute(context.Background(), req("blind", model.SetCoverPosition(40))); err != nil || res.State.CoverPosition == nil || *res.State.CoverPosition != 40 {
		t.Fatalf("position 40: %+v, %v", res, err)
	}
	res, err := l.Execute(context.Background(), req("blind", model.StopCover()))
	if err != nil || res.Status != model.Done || res.State.CoverPosition == nil || *res.State.CoverPosition != 40 {
		t.Fatalf("stop: %+v, %v; want Done at 40 %%", res, err)
	}
	bad := model.Command{Trait: model.TraitCover, CoverStop: model.Ptr(true), CoverPosition: model.Ptr(10)}
	if _, err := l.Execute(context.Background(), req("blind", bad)); model.AsError(err) == nil || model.AsError(err).Kind != model.ErrInvalidValue {
		t.Fatalf("stop and a position: %v, want INVALID_VALUE", err)
	}
	if st, _ := l.State(context.Background(), "blind"); st.CoverPosition == nil || *st.CoverPosition != 40 {
		t.Fatalf("state after stop %+v", st)
	}
}

// TestAnswerIsWhatTheCommandDid: the answer to a command carries what it
// did (the plug's relay and the power its load now draws), not the plug's
// whole state: its energy count is a reading, whose newer value may reach
// the hub before the answer.
func TestAnswerIsWhatTheCommandDid(t *testing.T) {
	_, l, _ := start(t, `{"devices":[{"id":"plug","name":"Plug","type":"metered_plug"}]}`)
	res, err := l.Execute(context.Background(), req("plug", model.SetPower(true)))
	if err != nil || res.Status != model.Done {
		t.Fatalf("on: %+v, %v", res, err)
	}
	if s := res.State; s.On == nil || !*s.On || s.Watts == nil || *s.Watts != 1200 || len(s.Kinds()) != 2 {
		t.Errorf("the turn-on answered %+v, want on, drawing 1200 W, and nothing else", s)
	}
	if st, _ := l.State(context.Background(), "plug"); st.EnergyKWh == nil || st.Watts == nil || *st.Watts != 1200 {
		t.Errorf("the plug's state after it: %+v", st)
	}
}
