package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/proto/bridge/v1/convert"
)

func drain(t *testing.T, s *subscription) []model.Event {
	t.Helper()
	var out []model.Event
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		ev, ok := s.next(ctx)
		cancel()
		if !ok {
			return out
		}
		out = append(out, ev)
	}
}

func kinds(evs []model.Event) string {
	var k []string
	for _, ev := range evs {
		k = append(k, string(ev.Kind))
	}
	return strings.Join(k, ",")
}

func TestEmitterSnapshotFirst(t *testing.T) {
	em := newEmitter()
	early := em.subscribe()
	lamp := Light("lamp", "Lamp", OnOffLight)
	em.Upsert(lamp) // before the first snapshot: kept, not sent
	em.Health(model.Health{State: model.HealthHealthy})
	if got := kinds(drain(t, early)); got != "health,health" {
		t.Fatalf("before the snapshot a stream gets %q, want health,health", got)
	}
	em.Snapshot([]model.Device{lamp, Lock("door", "Door")})
	em.StateChanged("lamp", model.State{On: model.Ptr(true)}, model.CausePhysical)
	em.StateChanged("nope", model.State{On: model.Ptr(true)}, model.CausePhysical) // unknown: dropped
	em.Reachability("door", false)
	em.Reachability("door", false) // no change: dropped
	evs := drain(t, early)
	if got := kinds(evs); got != "snapshot,state,reachability" {
		t.Fatalf("got %q", got)
	}
	for i, ev := range evs {
		if ev.Seq != uint64(i+3) {
			t.Fatalf("event %d has seq %d, want %d", i, ev.Seq, i+3)
		}
	}

	// A new stream starts over: seq 1, Health, then the snapshot with the
	// state and reachability merged in.
	late := em.subscribe()
	evs = drain(t, late)
	if got := kinds(evs); got != "health,snapshot" || evs[0].Seq != 1 || evs[1].Seq != 2 {
		t.Fatalf("new stream: %q %+v", got, evs)
	}
	devs := evs[1].Devices
	if len(devs) != 2 || devs[0].Endpoint.DeviceID != "lamp" || !*devs[0].State.On || devs[1].Reachable {
		t.Fatalf("snapshot %+v", devs)
	}
	em.Remove("lamp")
	em.Remove("lamp")
	if got := kinds(drain(t, late)); got != "remove" {
		t.Fatalf("got %q", got)
	}
	em.unsubscribe(late)
	em.Health(model.Health{State: model.HealthHealthy})
	if got := drain(t, late); len(got) != 0 {
		t.Fatalf("unsubscribed stream got %v", got)
	}
}

func TestEmitterOverrunResyncs(t *testing.T) {
	em := newEmitter()
	overruns := 0
	em.onOverrun = func() { overruns++ }
	em.Snapshot([]model.Device{TemperatureSensor("t", "T", 0)})
	s := em.subscribe()
	em.Complete("keep-me", model.State{}, nil)
	for i := range maxQueue + 10 {
		em.StateChanged("t", model.State{Temperature: model.Ptr(float64(i))}, model.CausePoll)
	}
	evs := drain(t, s)
	if overruns != 1 {
		t.Fatalf("%d overruns, want 1", overruns)
	}
	if len(evs) > 100 || evs[0].Kind != model.EventHealth || evs[1].Kind != model.EventSnapshot || evs[2].Kind != model.EventCompletion {
		t.Fatalf("after an overrun the stream has %d events starting %q", len(evs), kinds(evs[:3]))
	}
	last := evs[len(evs)-1]
	if last.Kind != model.EventState || *last.State.Temperature != float64(maxQueue+9) {
		t.Fatalf("last event %+v", last)
	}
}

// stub is a Bridge whose Execute is a function.
type stub struct {
	exec    func(ctx context.Context, req model.Request) (model.Result, error)
	devices []model.Device
	runErr  error
}

func (s *stub) Describe() Description                              { return Description{Name: "stub", Version: "1.0.0"} }
func (s *stub) Configure(context.Context, Config) error            { return nil }
func (s *stub) State(context.Context, string) (model.State, error) { return model.State{}, nil }
func (s *stub) Execute(ctx context.Context, req model.Request) (model.Result, error) {
	return s.exec(ctx, req)
}
func (s *stub) Run(ctx context.Context, em Emitter) error {
	em.Health(model.Health{State: model.HealthHealthy})
	em.Snapshot(s.devices)
	if s.runErr != nil {
		return s.runErr
	}
	<-ctx.Done()
	return nil
}

// sink collects events from Local.
type sink struct {
	mu  sync.Mutex
	evs []model.Event
}

func (k *sink) BridgeEvent(bridge string, ev model.Event) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.evs = append(k.evs, ev)
}

func (k *sink) events() []model.Event {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]model.Event(nil), k.evs...)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startLocal(t *testing.T, b Bridge) (*LocalBridge, *sink) {
	t.Helper()
	k := &sink{}
	l := Local(b, "stub", k)
	if err := l.Start(context.Background(), Config{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	waitUntil(t, "snapshot", func() bool { return len(k.events()) >= 2 })
	return l, k
}

func TestExecuteChecks(t *testing.T) {
	// release lets the "slow" handler return: after the SDK answered, or,
	// if the SDK waits for the handler, after 10 s (then the test fails).
	release, waited := make(chan struct{}), make(chan bool, 1)
	b := &stub{devices: []model.Device{Light("lamp", "Lamp", DimmableLight), Lock("door", "Door"),
		Light("off", "Off", OnOffLight, Unreachable())}}
	b.exec = func(ctx context.Context, req model.Request) (model.Result, error) {
		switch req.CorrelationID { // the test names the behaviour it wants
		case "panic":
			panic("boom")
		case "slow": // ignores ctx: the SDK must answer at the deadline anyway
			select {
			case <-release:
				waited <- false
			case <-time.After(10 * time.Second):
				waited <- true
			}
		case "plain":
			return model.Result{}, errors.New("disk on fire")
		case "status":
			return model.Result{Status: "MAYBE"}, nil
		case "accept":
			return model.Result{Status: model.Accepted}, nil
		}
		return model.Result{Status: model.Done, State: req.Command.Apply(model.State{})}, nil
	}
	l, k := startLocal(t, b)
	tests := []struct {
		mode, dev string
		cmd       model.Command
		deadline  time.Duration
		want      model.ErrorKind
	}{
		{"", "nope", model.SetPower(true), time.Second, model.ErrUnreachable},
		{"", "off", model.SetPower(true), time.Second, model.ErrUnreachable},
		{"", "lamp", model.SetBrightness(120), time.Second, model.ErrOutOfRange},
		{"", "lamp", model.SetLock(model.Locked), time.Second, model.ErrNotSupported},
		{"panic", "lamp", model.SetPower(true), time.Second, model.ErrInternal},
		{"slow", "lamp", model.SetPower(true), 50 * time.Millisecond, model.ErrUnreachable},
		{"plain", "lamp", model.SetPower(true), time.Second, model.ErrInternal},
		{"status", "lamp", model.SetPower(true), time.Second, model.ErrInternal},
		{"", "lamp", model.SetBrightness(30), time.Second, ""},
	}
	for _, tt := range tests {
		res, err := l.Execute(context.Background(), model.Request{CorrelationID: tt.mode, DeviceID: tt.dev, Command: tt.cmd,
			Deadline: time.Now().Add(tt.deadline)})
		if tt.want == "" {
			if err != nil || res.Status != model.Done {
				t.Errorf("%s %s: %+v, %v", tt.dev, tt.cmd, res, err)
			}
			continue
		}
		var de *model.Error
		if !errors.As(err, &de) || de.Kind != tt.want {
			t.Errorf("mode %q %s %s: %v, want %s", tt.mode, tt.dev, tt.cmd, err, tt.want)
		}
		if tt.mode == "slow" {
			// The answer came while the handler was still busy (no timing:
			// the handler returns only when the test lets it).
			close(release)
			if <-waited {
				t.Errorf("the SDK answered the slow command only after its handler returned")
			}
		}
	}
	// Done state is remembered for later snapshots.
	for _, d := range l.Devices() {
		if d.Endpoint.DeviceID == "lamp" && (d.State.Brightness == nil || *d.State.Brightness != 30) {
			t.Errorf("lamp state %+v", d.State)
		}
	}
	// An Accepted command's completion updates the device it was for.
	if res, err := l.Execute(context.Background(), model.Request{CorrelationID: "accept", DeviceID: "door",
		Command: model.SetLock(model.Unlocked), Deadline: time.Now().Add(time.Second)}); err != nil || res.Status != model.Accepted {
		t.Fatalf("%+v %v", res, err)
	}
	l.core.em.Complete("accept", model.State{Lock: model.Unlocked}, nil)
	waitUntil(t, "completion", func() bool {
		evs := k.events()
		return evs[len(evs)-1].Kind == model.EventCompletion
	})
	for _, d := range l.Devices() {
		if d.Endpoint.DeviceID == "door" && d.State.Lock != model.Unlocked {
			t.Errorf("door state %+v", d.State)
		}
	}
	if err := l.StartPairing(context.Background(), time.Second); model.AsError(err).Kind != model.ErrNotSupported {
		t.Errorf("StartPairing: %v", err)
	}
}

func TestRunFailureIsUnhealthy(t *testing.T) {
	b := &stub{runErr: errors.New("radio unplugged"), devices: []model.Device{Lock("door", "Door")}}
	_, k := startLocal(t, b)
	waitUntil(t, "unhealthy", func() bool {
		for _, ev := range k.events() {
			if ev.Kind == model.EventHealth && ev.Health.State == model.HealthUnhealthy &&
				strings.Contains(ev.Health.Description, "radio unplugged") {
				return true
			}
		}
		return false
	})
}

func TestHelpersValidateTheirOwnDefaults(t *testing.T) {
	devs := []model.Device{
		Light("a", "A", OnOffLight), Light("b", "B", DimmableLight), Light("c", "C", ColorLight),
		Light("d", "D", ColorTemperatureLight, WithKelvinRange(3000, 4000)), Light("e", "E", ExtendedColorLight),
		Lock("f", "F"), SingleSetpointThermostat("g", "G", 19), DualSetpointThermostat("h", "H", 22),
		TemperatureSensor("i", "I", -3, WithInfo("acme", "t1", "sensor"), WithConnection(model.Connection{Type: model.ConnectionZigbee, MACAddress: "00:11"})),
	}
	for _, d := range devs {
		// Every state the helper sets must be one a command could set.
		s := d.State
		var cmds []model.Command
		if s.On != nil {
			cmds = append(cmds, model.SetPower(*s.On))
		}
		if s.Brightness != nil {
			cmds = append(cmds, model.SetBrightness(*s.Brightness))
		}
		if s.ColorTemperature != nil {
			cmds = append(cmds, model.SetColorTemperature(*s.ColorTemperature))
		}
		if s.Color != nil {
			cmds = append(cmds, model.SetColor(*s.Color))
		}
		if s.Lock != "" {
			cmds = append(cmds, model.SetLock(s.Lock))
		}
		if s.Thermostat != nil {
			cmds = append(cmds, model.SetThermostat(*s.Thermostat))
		}
		for _, c := range cmds {
			if err := c.Validate(d.Endpoint.Traits, s); err != nil {
				t.Errorf("%s: default %s invalid: %v", d.Endpoint.DeviceID, c, err)
			}
		}
		if !d.Reachable || d.Endpoint.Category == "" || len(cmds) == 0 && d.Endpoint.Traits.TemperatureSensor == nil {
			t.Errorf("%s: %+v", d.Endpoint.DeviceID, d)
		}
	}
	if k := *devs[3].State.ColorTemperature; k != 3000 {
		t.Errorf("custom kelvin range: default %d, want 3000 (clamped)", k)
	}
	if devs[8].Endpoint.Manufacturer != "acme" || len(devs[8].Endpoint.Connections) != 1 {
		t.Errorf("options not applied: %+v", devs[8].Endpoint)
	}
}

func TestDescribeSubcommand(t *testing.T) {
	var out bytes.Buffer
	b := &stub{}
	if code := serve(b, serveOptions{args: []string{"describe"}, stdout: &out}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var d Description
	if err := json.Unmarshal(out.Bytes(), &d); err != nil || d.Name != "stub" {
		t.Fatalf("%s: %v", out.String(), err)
	}
	if code := serve(b, serveOptions{args: []string{"frobnicate"}, stdout: &out}); code != 2 {
		t.Fatalf("unknown subcommand: exit %d, want 2", code)
	}
}

func TestLoggerWritesHCLogJSON(t *testing.T) {
	var buf bytes.Buffer
	old := stderr
	stderr = &buf
	defer func() { stderr = old }()
	Logger().Warn("radio slow", "port", "/dev/ttyUSB0")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["@level"] != "warn" || m["@message"] != "radio slow" || m["port"] != "/dev/ttyUSB0" {
		t.Fatalf("%v", m)
	}
	if hclog.LevelFromString(m["@level"].(string)) != hclog.Warn {
		t.Fatal("level not understood by hclog")
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000000Z07:00", m["@timestamp"].(string)); err != nil {
		t.Fatal(err)
	}
}

func TestParseReattach(t *testing.T) {
	m, err := ParseReattach(`{"virtual":{"protocol":"grpc","protocolVersion":1,"network":"unix","addr":"/tmp/x.sock","pid":42}}`)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := m["virtual"].PluginConfig()
	if err != nil || rc.Pid != 42 || rc.Addr.String() != "/tmp/x.sock" || !rc.Test {
		t.Fatalf("%+v %v", rc, err)
	}
	if _, err := ParseReattach(`{`); err == nil {
		t.Fatal("bad JSON accepted")
	}
	if _, err := (ReattachConfig{Network: "carrier-pigeon"}).PluginConfig(); err == nil {
		t.Fatal("bad network accepted")
	}
}

func TestEmitterConcurrent(t *testing.T) {
	em := newEmitter()
	em.Snapshot([]model.Device{TemperatureSensor("t", "T", 0)})
	const writers, each = 4, 500
	subs := []*subscription{em.subscribe(), em.subscribe()}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				em.StateChanged("t", model.State{Temperature: model.Ptr(float64(w*each + i))}, model.CausePoll)
			}
		}()
	}
	counts := make([]int, len(subs))
	var rg sync.WaitGroup
	for i, s := range subs {
		rg.Add(1)
		go func() {
			defer rg.Done()
			var last uint64
			for counts[i] < 2+writers*each { // health + snapshot + every change
				ev, ok := s.next(context.Background())
				if !ok || ev.Seq != last+1 {
					t.Errorf("stream %d: seq %d after %d", i, ev.Seq, last)
					return
				}
				last = ev.Seq
				counts[i]++
			}
		}()
	}
	wg.Wait()
	rg.Wait()
	for i, c := range counts {
		if c != 2+writers*each {
			t.Errorf("stream %d got %d events", i, c)
		}
	}
}

// TestAnswerKeepsChangeMeanwhile: a change the bridge reports while a
// command is under way (a plug's power after its relay) stays in the
// device set once the command's answer is merged, though the answer carries
// the device's older reading; the command's own part of the answer is kept.
// A stream opened later starts from that set. The same for an Accepted
// command's Completion.
func TestAnswerKeepsChangeMeanwhile(t *testing.T) {
	b := &stub{devices: []model.Device{Plug("plug", "Plug", WithPower(0)), Lock("door", "Door", WithPower(0))}}
	var l *LocalBridge
	b.exec = func(_ context.Context, req model.Request) (model.Result, error) {
		l.core.em.StateChanged(req.DeviceID, model.State{Watts: model.Ptr(60.0)}, model.CausePhysical)
		if req.Command.Trait == model.TraitLock {
			return model.Result{Status: model.Accepted}, nil
		}
		// The whole state as the bridge had it when it made the answer.
		return model.Result{Status: model.Done, State: model.State{On: model.Ptr(true), Watts: model.Ptr(0.0)}}, nil
	}
	l, _ = startLocal(t, b)
	state := func(id string) model.State {
		for _, d := range l.Devices() {
			if d.Endpoint.DeviceID == id {
				return d.State
			}
		}
		t.Fatalf("no device %s", id)
		return model.State{}
	}
	if _, err := l.Execute(context.Background(), model.Request{CorrelationID: "on", DeviceID: "plug", Command: model.SetPower(true), Deadline: time.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if s := state("plug"); s.On == nil || !*s.On || s.Watts == nil || *s.Watts != 60 {
		t.Errorf("the plug after its turn-on: %s, want on at the 60 W reported meanwhile", stateJSON(s))
	}
	if _, err := l.Execute(context.Background(), model.Request{CorrelationID: "unlock", DeviceID: "door", Command: model.SetLock(model.Unlocked), Deadline: time.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	l.core.em.Complete("unlock", model.State{Lock: model.Unlocked, Watts: model.Ptr(0.0)}, nil)
	if s := state("door"); s.Lock != model.Unlocked || s.Watts == nil || *s.Watts != 60 {
		t.Errorf("the door after its completion: %s, want unlocked at the 60 W reported meanwhile", stateJSON(s))
	}
	l.core.em.mu.Lock()
	left := len(l.core.em.underWay) + len(l.core.em.pending)
	l.core.em.mu.Unlock()
	if left != 0 {
		t.Errorf("%d commands still recorded as under way", left)
	}
}

func stateJSON(s model.State) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestEmitterStoredStateAt: a device snapshotted with StateAt (its state from
// the bridge's storage) keeps it, on the wire too, until the bridge reports
// the device's state (StateChanged) or a command's answer does; reachability
// says nothing about the state and keeps it.
func TestEmitterStoredStateAt(t *testing.T) {
	saved := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	b := &stub{}
	for _, id := range []string{"a", "b", "c"} {
		d := Light(id, id, OnOffLight)
		d.StateAt = saved
		b.devices = append(b.devices, d)
	}
	b.exec = func(_ context.Context, req model.Request) (model.Result, error) {
		return model.Result{Status: model.Done, State: req.Command.Effect(model.State{})}, nil
	}
	l, _ := startLocal(t, b)
	em := l.core.em
	em.StateChanged("a", model.State{On: model.Ptr(true)}, model.CausePhysical)
	em.Reachability("c", false)
	if _, err := l.Execute(context.Background(), model.Request{CorrelationID: "1", DeviceID: "b", Command: model.SetPower(true), Deadline: time.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"a": {}, "b": {}, "c": saved}
	for _, wire := range []bool{false, true} {
		s := em.open(wire)
		q, _ := s.nextQueued(context.Background()) // health
		q, _ = s.nextQueued(context.Background())
		em.unsubscribe(s)
		devs := q.ev.Devices
		if wire {
			devs = nil
			for _, d := range q.snap.GetDevices() {
				devs = append(devs, convert.DeviceFrom(d))
			}
		}
		for _, d := range devs {
			if !d.StateAt.Equal(want[d.Endpoint.DeviceID]) {
				t.Errorf("wire %v: device %s has StateAt %v, want %v", wire, d.Endpoint.DeviceID, d.StateAt, want[d.Endpoint.DeviceID])
			}
		}
		if len(devs) != 3 {
			t.Errorf("wire %v: snapshot of %d devices, want 3", wire, len(devs))
		}
	}
}
