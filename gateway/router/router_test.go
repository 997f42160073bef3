package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa"
)

const serial = "SER"

type env struct {
	reg  *discovery.Registry
	r    *Router
	rec  *recorder
	zb   *testBridge
	stop func() // stops the router and waits for Run (idempotent; also at cleanup)
}

func dev(id, name string, traits model.Traits, st model.State, reachable bool) model.Device {
	cat := model.CategoryLight
	if traits.Lock != nil {
		cat = model.CategorySmartLock
	}
	return model.Device{Endpoint: model.Endpoint{DeviceID: id, FriendlyName: name, Category: cat, Traits: traits},
		State: st, Reachable: reachable}
}

var (
	lightTraits  = model.Traits{OnOff: &model.OnOff{}, Brightness: &model.Brightness{}}
	lockTraits   = model.Traits{Lock: &model.Lock{}}
	thermoTraits = model.Traits{Thermostat: &model.Thermostat{Modes: []model.ThermostatMode{model.ModeHeat, model.ModeOff},
		TargetSetpoint: true, MinC: 5, MaxC: 30}}
)

// newEnv starts a router over a registry holding, on bridge "zb": light l1 (off,
// 50 %), light l2 (on), lock k1 (locked), unreachable light gone1, sensor t1,
// light blank (no state yet); and on bridge "mq" (not running) light m1.
func newEnv(t *testing.T, tweak func(*Options)) *env {
	t.Helper()
	reg := discovery.NewRegistry(serial, discovery.WithLogger(quiet()))
	e := &env{reg: reg, rec: newRecorder(t), zb: &testBridge{}}
	opts := Options{Registry: reg, Profile: testProfile{}, Bridges: bridgeMap{"zb": e.zb}, Events: e.rec, Logger: quiet(),
		Timeout: 2 * time.Second, DeferredTimeout: 5 * time.Second, CoalesceWindow: 20 * time.Millisecond}
	if tweak != nil {
		tweak(&opts)
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	r.BridgeEvent("zb", model.Event{Kind: model.EventHealth, Health: &model.Health{State: model.HealthHealthy}})
	r.BridgeEvent("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{
		dev("l1", "Lamp", lightTraits, model.State{On: model.Ptr(false), Brightness: model.Ptr(50)}, true),
		dev("l2", "Desk", lightTraits, model.State{On: model.Ptr(true), Brightness: model.Ptr(10)}, true),
		dev("k1", "Door", lockTraits, model.State{Lock: model.Locked}, true),
		dev("gone1", "Porch", lightTraits, model.State{On: model.Ptr(false)}, false),
		dev("t1", "Sensor", model.Traits{TemperatureSensor: &model.TemperatureSensor{}}, model.State{Temperature: model.Ptr(20.0)}, true),
		dev("blank", "Blank", lightTraits, model.State{}, true),
		dev("th1", "Heating", thermoTraits, model.State{Thermostat: &model.ThermostatState{Mode: model.ModeHeat, Target: model.Ptr(20.0)}}, true),
		dev("th2", "Cooling", thermoTraits, model.State{Thermostat: &model.ThermostatState{Mode: model.ModeOff, Target: model.Ptr(20.0)}}, true),
	}})
	r.BridgeEvent("mq", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{
		dev("m1", "Attic", lightTraits, model.State{On: model.Ptr(false)}, true),
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(e.stop)
	return e
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func id(device string) string {
	bridge := "zb"
	if strings.HasPrefix(device, "m") {
		bridge = "mq"
	}
	return model.EndpointID(serial, bridge, device)
}

var tokenN atomic.Int64

func directive(t testing.TB, ns, name, endpointID, payload string) *alexa.Directive {
	t.Helper()
	n := tokenN.Add(1)
	raw := fmt.Sprintf(`{"directive":{"header":{"namespace":%q,"name":%q,"messageId":"m-%d","correlationToken":"tok-%d","payloadVersion":"3"},`+
		`"endpoint":{"endpointId":%q,"scope":{"type":"BearerToken","token":"x"}},"payload":%s}}`, ns, name, n, n, endpointID, payload)
	d, err := alexa.ParseDirective([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDirectiveOutcomes(t *testing.T) {
	busy := func(context.Context, model.Request) (model.Result, error) {
		return model.Result{}, &model.Error{Kind: model.ErrBusy, Message: "busy"}
	}
	hang := func(ctx context.Context, _ model.Request) (model.Result, error) {
		<-ctx.Done()
		return model.Result{}, ctx.Err()
	}
	late := func(ctx context.Context, _ model.Request) (model.Result, error) {
		<-ctx.Done()
		return model.Result{Status: model.Done}, nil // answers, but too late
	}
	tests := []struct {
		name      string
		exec      func(context.Context, model.Request) (model.Result, error)
		unhealthy bool
		ns, dname string
		device    string
		payload   string
		wantName  string // event name
		wantType  string // ErrorResponse type
		wantCmd   string // command the bridge got ("" = bridge not called)
		wantCtx   map[string]any
	}{
		{name: "turn on", ns: "Alexa.PowerController", dname: "TurnOn", device: "l1", wantName: "Response",
			wantCmd: "on_off=true", wantCtx: map[string]any{"powerState": "ON", "brightness": 50.0}},
		{name: "adjust resolved from cached state", ns: "Alexa.BrightnessController", dname: "AdjustBrightness", device: "l1",
			payload: `{"brightnessDelta":-25}`, wantName: "Response", wantCmd: "brightness=25", wantCtx: map[string]any{"brightness": 25.0}},
		{name: "unknown endpoint", ns: "Alexa.PowerController", dname: "TurnOn", device: "nope",
			wantName: "ErrorResponse", wantType: "NO_SUCH_ENDPOINT"},
		{name: "bridge not running", ns: "Alexa.PowerController", dname: "TurnOn", device: "m1",
			wantName: "ErrorResponse", wantType: "BRIDGE_UNREACHABLE"},
		{name: "bridge unhealthy", unhealthy: true, ns: "Alexa.PowerController", dname: "TurnOn", device: "l1",
			wantName: "ErrorResponse", wantType: "BRIDGE_UNREACHABLE"},
		{name: "device unreachable: bridge not called", ns: "Alexa.PowerController", dname: "TurnOn", device: "gone1",
			wantName: "ErrorResponse", wantType: "ENDPOINT_UNREACHABLE"},
		{name: "out of range: bridge not called", ns: "Alexa.BrightnessController", dname: "SetBrightness", device: "l1",
			payload: `{"brightness":150}`, wantName: "ErrorResponse", wantType: "VALUE_OUT_OF_RANGE"},
		{name: "trait missing: bridge not called", ns: "Alexa.LockController", dname: "Lock", device: "l1",
			wantName: "ErrorResponse", wantType: "INVALID_DIRECTIVE"},
		{name: "profile cannot decode", ns: "Alexa.Foo", dname: "Bar", device: "l1",
			wantName: "ErrorResponse", wantType: "INVALID_DIRECTIVE"},
		{name: "busy", exec: busy, ns: "Alexa.PowerController", dname: "TurnOn", device: "l1",
			wantName: "ErrorResponse", wantType: "ENDPOINT_BUSY", wantCmd: "on_off=true"},
		{name: "bridge goes down during the command", exec: func(context.Context, model.Request) (model.Result, error) {
			return model.Result{}, &model.Error{Kind: model.ErrBridgeUnreachable, Message: "plugin exited"}
		}, ns: "Alexa.PowerController", dname: "TurnOn", device: "l1",
			wantName: "ErrorResponse", wantType: "BRIDGE_UNREACHABLE", wantCmd: "on_off=true"},
		{name: "jammed lock answers HARDWARE_MALFUNCTION", exec: func(context.Context, model.Request) (model.Result, error) {
			return model.Result{}, &model.Error{Kind: model.ErrHardwareFault, Message: "jammed"}
		}, ns: "Alexa.LockController", dname: "Unlock", device: "k1",
			wantName: "ErrorResponse", wantType: "HARDWARE_MALFUNCTION", wantCmd: "lock=UNLOCKED"},
		{name: "deadline is ENDPOINT_UNREACHABLE", exec: hang, ns: "Alexa.PowerController", dname: "TurnOff", device: "l2",
			wantName: "ErrorResponse", wantType: "ENDPOINT_UNREACHABLE", wantCmd: "on_off=false"},
		{name: "late success is ENDPOINT_UNREACHABLE", exec: late, ns: "Alexa.PowerController", dname: "TurnOff", device: "l2",
			wantName: "ErrorResponse", wantType: "ENDPOINT_UNREACHABLE", wantCmd: "on_off=false"},
		{name: "report state from cache", ns: "Alexa", dname: "ReportState", device: "l2",
			wantName: "StateReport", wantCtx: map[string]any{"powerState": "ON", "brightness": 10.0}},
		{name: "report state of unreachable", ns: "Alexa", dname: "ReportState", device: "gone1",
			wantName: "ErrorResponse", wantType: "ENDPOINT_UNREACHABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Timeout = 100 * time.Millisecond })
			e.zb.set(tt.exec)
			if tt.unhealthy {
				e.r.BridgeEvent("zb", model.Event{Kind: model.EventHealth, Health: &model.Health{State: model.HealthUnhealthy}})
			}
			payload := tt.payload
			if payload == "" {
				payload = "{}"
			}
			d := directive(t, tt.ns, tt.dname, id(tt.device), payload)
			if err := e.r.HandleDirective(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			ev := e.rec.next(t)
			if ev.Name != tt.wantName || ev.Type != tt.wantType || ev.Token != d.Header.CorrelationToken || ev.Endpoint != id(tt.device) {
				t.Fatalf("sent %s %s (token %s, endpoint %s), want %s %s\n%s", ev.Name, ev.Type, ev.Token, ev.Endpoint,
					tt.wantName, tt.wantType, ev.Raw)
			}
			for k, v := range tt.wantCtx {
				if ev.Context[k] != v {
					t.Errorf("context %s = %v, want %v", k, ev.Context[k], v)
				}
			}
			reqs := e.zb.requests()
			switch {
			case tt.wantCmd == "" && len(reqs) != 0:
				t.Fatalf("bridge called with %v", reqs[0].Command)
			case tt.wantCmd != "" && (len(reqs) != 1 || reqs[0].Command.String() != tt.wantCmd):
				t.Fatalf("bridge got %v, want one %s", reqs, tt.wantCmd)
			case len(reqs) == 1:
				if reqs[0].DeviceID != tt.device || reqs[0].CorrelationID == "" || reqs[0].Deadline.IsZero() {
					t.Fatalf("bad request %+v", reqs[0])
				}
			}
		})
	}
}

func TestDirectiveMetrics(t *testing.T) {
	m := newMetricsProbe()
	e := newEnv(t, func(o *Options) { o.Metrics = m.m })
	for _, dev := range []string{"l1", "nope"} {
		if err := e.r.HandleDirective(context.Background(), directive(t, "Alexa.PowerController", "TurnOn", id(dev), "{}")); err != nil {
			t.Fatal(err)
		}
		e.rec.next(t)
	}
	if got := m.counter(t, "avshub_directives_total"); got != 2 {
		t.Fatalf("directives = %v, want 2", got)
	}
	if got := m.counter(t, "avshub_endpoints"); got != 9 {
		t.Fatalf("endpoints gauge total = %v, want 9", got)
	}
}

func TestUnhandled(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Unhandled = []string{"hub-self"} })
	raw := `{"directive":{"header":{"namespace":"Alexa.ApiGateway","name":"SetGateway","messageId":"m"},"payload":{"gateway":"https://x"}}}`
	d, err := alexa.ParseDirective([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.r.HandleDirective(context.Background(), d); !errors.Is(err, ErrUnhandled) {
		t.Fatalf("err = %v, want ErrUnhandled", err)
	}
	if err := e.r.HandleDirective(context.Background(), directive(t, "Alexa", "ReportState", "hub-self", "{}")); !errors.Is(err, ErrUnhandled) {
		t.Fatalf("err = %v, want ErrUnhandled", err)
	}
	e.rec.none(t)
}

func TestReportStateAsksBridgeWhenNothingCached(t *testing.T) {
	e := newEnv(t, nil)
	e.zb.state = func(context.Context, string) (model.State, error) {
		return model.State{On: model.Ptr(true), Brightness: model.Ptr(70)}, nil
	}
	if err := e.r.HandleDirective(context.Background(), directive(t, "Alexa", "ReportState", id("blank"), "{}")); err != nil {
		t.Fatal(err)
	}
	ev := e.rec.next(t)
	if ev.Name != "StateReport" || ev.Context["brightness"] != 70.0 || e.zb.stateN != 1 {
		t.Fatalf("got %s (bridge State calls %d)\n%s", ev.Name, e.zb.stateN, ev.Raw)
	}
	if en, _ := e.reg.Get(id("blank")); en.State.Brightness == nil || *en.State.Brightness != 70 {
		t.Fatal("the state read was not cached")
	}
}

// acceptLock answers Accepted and hands each request to the test.
func acceptLock(e *env) chan model.Request {
	reqs := make(chan model.Request, 10)
	e.zb.set(func(_ context.Context, req model.Request) (model.Result, error) {
		reqs <- req
		return model.Result{Status: model.Accepted, EstimatedDeferral: 3 * time.Second}, nil
	})
	return reqs
}

func TestDeferredLock(t *testing.T) {
	t.Run("completion gives the final Response", func(t *testing.T) {
		e := newEnv(t, nil)
		reqs := acceptLock(e)
		d := directive(t, "Alexa.LockController", "Unlock", id("k1"), "{}")
		if err := e.r.HandleDirective(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		if ev := e.rec.next(t); ev.Name != "DeferredResponse" || ev.Token != d.Header.CorrelationToken {
			t.Fatalf("first answer %s\n%s", ev.Name, ev.Raw)
		}
		req := <-reqs
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventCompletion, Completion: &model.Completion{
			CorrelationID: req.CorrelationID, State: model.State{Lock: model.Unlocked}}})
		ev := e.rec.next(t)
		if ev.Name != "Response" || ev.Token != d.Header.CorrelationToken || ev.Context["lockState"] != "UNLOCKED" {
			t.Fatalf("final answer %s\n%s", ev.Name, ev.Raw)
		}
		// A duplicate completion is ignored.
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventCompletion, Completion: &model.Completion{
			CorrelationID: req.CorrelationID, State: model.State{Lock: model.Locked}}})
		assertQuiet(t, e)
	})
	t.Run("completion before Execute returns", func(t *testing.T) {
		e := newEnv(t, nil)
		e.zb.set(func(_ context.Context, req model.Request) (model.Result, error) {
			e.r.BridgeEvent("zb", model.Event{Kind: model.EventCompletion, Completion: &model.Completion{
				CorrelationID: req.CorrelationID, State: model.State{Lock: model.Unlocked}}})
			return model.Result{Status: model.Accepted}, nil
		})
		d := directive(t, "Alexa.LockController", "Unlock", id("k1"), "{}")
		if err := e.r.HandleDirective(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		if ev := e.rec.next(t); ev.Name != "DeferredResponse" {
			t.Fatalf("first answer %s", ev.Raw)
		}
		if ev := e.rec.next(t); ev.Name != "Response" || ev.Context["lockState"] != "UNLOCKED" {
			t.Fatalf("final answer %s", ev.Raw)
		}
	})
	t.Run("jammed completion gives HARDWARE_MALFUNCTION", func(t *testing.T) {
		e := newEnv(t, nil)
		reqs := acceptLock(e)
		if err := e.r.HandleDirective(context.Background(), directive(t, "Alexa.LockController", "Unlock", id("k1"), "{}")); err != nil {
			t.Fatal(err)
		}
		e.rec.next(t)
		req := <-reqs
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventCompletion, Completion: &model.Completion{
			CorrelationID: req.CorrelationID, Err: &model.Error{Kind: model.ErrHardwareFault, Message: "jammed"}}})
		if ev := e.rec.next(t); ev.Name != "ErrorResponse" || ev.Type != "HARDWARE_MALFUNCTION" {
			t.Fatalf("final answer %s %s", ev.Name, ev.Type)
		}
	})
	t.Run("no completion before the deadline gives ENDPOINT_UNREACHABLE", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.DeferredTimeout = 50 * time.Millisecond })
		e.zb.set(func(context.Context, model.Request) (model.Result, error) {
			return model.Result{Status: model.Accepted}, nil
		})
		if err := e.r.HandleDirective(context.Background(), directive(t, "Alexa.LockController", "Lock", id("k1"), "{}")); err != nil {
			t.Fatal(err)
		}
		if ev := e.rec.next(t); ev.Name != "DeferredResponse" {
			t.Fatalf("first answer %s", ev.Name)
		}
		if ev := e.rec.next(t); ev.Name != "ErrorResponse" || ev.Type != "ENDPOINT_UNREACHABLE" {
			t.Fatalf("final answer %s %s", ev.Name, ev.Type)
		}
	})
}

// assertQuiet flushes the ChangeReport pipeline with a marker change on l2 and
// asserts that the marker's ChangeReport is the only event sent meanwhile.
func assertQuiet(t *testing.T, e *env) {
	t.Helper()
	en, _ := e.reg.Get(id("l2"))
	e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "l2",
		State: model.State{Brightness: model.Ptr(*en.State.Brightness%100 + 1)}, Cause: model.CauseRule})
	ev := e.rec.next(t)
	if ev.Name != "ChangeReport" || ev.Endpoint != id("l2") || ev.Cause != "RULE_TRIGGER" {
		t.Fatalf("unexpected %s %s for %s\n%s", ev.Name, ev.Type, ev.Endpoint, ev.Raw)
	}
}

func TestChangeReports(t *testing.T) {
	t.Run("physical change", func(t *testing.T) {
		e := newEnv(t, nil)
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "l1", State: model.State{On: model.Ptr(true)}, Cause: model.CausePhysical})
		ev := e.rec.next(t)
		if ev.Name != "ChangeReport" || ev.Cause != "PHYSICAL_INTERACTION" || ev.Changed["powerState"] != "ON" ||
			len(ev.Changed) != 1 || ev.Context["brightness"] != 50.0 {
			t.Fatalf("got %s\n%s", ev.Name, ev.Raw)
		}
	})
	t.Run("coalesced per endpoint", func(t *testing.T) {
		m := newMetricsProbe()
		e := newEnv(t, func(o *Options) { o.CoalesceWindow = 300 * time.Millisecond; o.Metrics = m.m })
		for i := 1; i <= 5; i++ {
			e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "l1", State: model.State{Brightness: model.Ptr(60 + i)}})
		}
		ev := e.rec.next(t)
		if ev.Endpoint != id("l1") || ev.Changed["brightness"] != 65.0 {
			t.Fatalf("got %s\n%s", ev.Name, ev.Raw)
		}
		assertQuiet(t, e)
		if got := m.counter(t, "avshub_changereports_coalesced_total"); got != 4 {
			t.Fatalf("coalesced = %v, want 4", got)
		}
	})
	t.Run("back to the reported value sends nothing", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.CoalesceWindow = 300 * time.Millisecond })
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "l1", State: model.State{Brightness: model.Ptr(99)}})
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "l1", State: model.State{Brightness: model.Ptr(50)}})
		assertQuiet(t, e)
	})
	t.Run("not proactive: nothing", func(t *testing.T) {
		e := newEnv(t, nil)
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "t1", State: model.State{Temperature: model.Ptr(25.0)}})
		assertQuiet(t, e)
	})
	t.Run("no ChangeReport for what a Response reported", func(t *testing.T) {
		e := newEnv(t, nil)
		e.zb.set(func(_ context.Context, req model.Request) (model.Result, error) {
			// The bridge echoes the change as an event before it answers.
			e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: req.DeviceID, State: model.State{On: model.Ptr(true)}})
			return model.Result{Status: model.Done, State: model.State{On: model.Ptr(true)}}, nil
		})
		if err := e.r.HandleDirective(context.Background(), directive(t, "Alexa.PowerController", "TurnOn", id("l1"), "{}")); err != nil {
			t.Fatal(err)
		}
		if ev := e.rec.next(t); ev.Name != "Response" {
			t.Fatalf("got %s", ev.Name)
		}
		// A later echo of the same state sends nothing either.
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "l1", State: model.State{On: model.Ptr(true)}})
		assertQuiet(t, e)
	})
	t.Run("a command's echo then a hand on the switch: physical", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.CoalesceWindow = 300 * time.Millisecond })
		e.zb.set(func(_ context.Context, req model.Request) (model.Result, error) {
			// The device reports the commanded brightness while the command runs.
			e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: req.DeviceID, State: model.State{Brightness: model.Ptr(25)}})
			return model.Result{Status: model.Done, State: model.State{Brightness: model.Ptr(25)}}, nil
		})
		if err := e.r.HandleDirective(context.Background(), directive(t, "Alexa.BrightnessController", "SetBrightness", id("l2"), `{"brightness":25}`)); err != nil {
			t.Fatal(err)
		}
		if ev := e.rec.next(t); ev.Name != "Response" {
			t.Fatalf("got %s", ev.Name)
		}
		// Within the same coalescing window, someone switches it off by hand.
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "l2", State: model.State{On: model.Ptr(false)}, Cause: model.CausePhysical})
		ev := e.rec.next(t)
		if ev.Name != "ChangeReport" || ev.Cause != "PHYSICAL_INTERACTION" || ev.Changed["powerState"] != "OFF" || len(ev.Changed) != 1 {
			t.Fatalf("got %s\n%s", ev.Name, ev.Raw)
		}
	})
	t.Run("reachability", func(t *testing.T) {
		e := newEnv(t, nil)
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventReachability, DeviceID: "l1", Reachable: false})
		ev := e.rec.next(t)
		if ev.Name != "ChangeReport" || fmt.Sprint(ev.Changed["connectivity"]) != "map[value:UNREACHABLE]" {
			t.Fatalf("got %s\n%s", ev.Name, ev.Raw)
		}
	})
	t.Run("dashboard command: APP_INTERACTION", func(t *testing.T) {
		e := newEnv(t, nil)
		st, err := e.r.Execute(context.Background(), id("l1"), model.SetBrightness(80), model.CauseApp)
		if err != nil || *st.Brightness != 80 {
			t.Fatalf("Execute = %+v, %v", st, err)
		}
		ev := e.rec.next(t)
		if ev.Name != "ChangeReport" || ev.Cause != "APP_INTERACTION" || ev.Changed["brightness"] != 80.0 {
			t.Fatalf("got %s\n%s", ev.Name, ev.Raw)
		}
	})
	t.Run("latest state after a reconnect, one pending per endpoint", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.CoalesceWindow = -1 })
		block := make(chan struct{})
		e.rec.mu.Lock()
		e.rec.block = block // disconnected: Send holds the event
		e.rec.mu.Unlock()
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "l1", State: model.State{Brightness: model.Ptr(61)}})
		waitFor(t, func() bool { e.rec.mu.Lock(); defer e.rec.mu.Unlock(); return e.rec.active == 1 })
		for i := 62; i <= 70; i++ {
			e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "l1", State: model.State{Brightness: model.Ptr(i)}})
		}
		e.rec.mu.Lock()
		e.rec.block = nil
		e.rec.mu.Unlock()
		close(block) // reconnected
		if ev := e.rec.next(t); ev.Changed["brightness"] != 61.0 {
			t.Fatalf("first %v", ev.Changed)
		}
		if ev := e.rec.next(t); ev.Changed["brightness"] != 70.0 {
			t.Fatalf("second %v, want the latest (70)", ev.Changed)
		}
		assertQuiet(t, e)
		if e.rec.peak != 1 {
			t.Fatalf("%d ChangeReports were pending at once, want 1", e.rec.peak)
		}
	})
	t.Run("a refused ChangeReport is retried", func(t *testing.T) {
		e := newEnv(t, nil)
		e.r.retryDelay = 10 * time.Millisecond
		e.rec.mu.Lock()
		e.rec.fail = 2
		e.rec.mu.Unlock()
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "l1", State: model.State{On: model.Ptr(true)}, Cause: model.CausePhysical})
		ev := e.rec.next(t)
		if ev.Name != "ChangeReport" || ev.Changed["powerState"] != "ON" || ev.Cause != "PHYSICAL_INTERACTION" {
			t.Fatalf("got %s", ev.Raw)
		}
		assertQuiet(t, e)
	})
	t.Run("snapshot after a bridge restart reports the differences", func(t *testing.T) {
		e := newEnv(t, nil)
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventReachability, DeviceID: "k1", Reachable: false})
		if ev := e.rec.next(t); ev.Endpoint != id("k1") {
			t.Fatalf("got %s", ev.Raw)
		}
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{
			dev("k1", "Door", lockTraits, model.State{Lock: model.Unlocked}, true),
			dev("l2", "Desk", lightTraits, model.State{On: model.Ptr(true), Brightness: model.Ptr(10)}, true),
		}})
		ev := e.rec.next(t)
		if ev.Endpoint != id("k1") || ev.Changed["lockState"] != "UNLOCKED" || fmt.Sprint(ev.Changed["connectivity"]) != "map[value:OK]" {
			t.Fatalf("got %s", ev.Raw)
		}
		assertQuiet(t, e)
	})
}

func TestExecute(t *testing.T) {
	e := newEnv(t, nil)
	check := func(name, endpoint string, cmd model.Command, want model.ErrorKind) {
		t.Helper()
		_, err := e.r.Execute(context.Background(), endpoint, cmd, model.CauseApp)
		var de *model.Error
		if !errors.As(err, &de) || de.Kind != want {
			t.Errorf("%s: err = %v, want kind %s", name, err, want)
		}
	}
	check("unknown", "nope", model.SetPower(true), ErrNoSuchEndpoint)
	check("bridge down", id("m1"), model.SetPower(true), model.ErrBridgeUnreachable)
	check("unreachable", id("gone1"), model.SetPower(true), model.ErrUnreachable)
	check("out of range", id("l1"), model.SetBrightness(101), model.ErrOutOfRange)
	if n := len(e.zb.requests()); n != 0 {
		t.Fatalf("bridge called %d times for invalid commands", n)
	}
	reqs := acceptLock(e)
	go func() {
		req := <-reqs
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventCompletion, Completion: &model.Completion{
			CorrelationID: req.CorrelationID, State: model.State{Lock: model.Unlocked}}})
	}()
	st, err := e.r.Execute(context.Background(), id("k1"), model.SetLock(model.Unlocked), model.CauseApp)
	if err != nil || st.Lock != model.Unlocked {
		t.Fatalf("deferred Execute = %+v, %v", st, err)
	}
	if ev := e.rec.next(t); ev.Name != "ChangeReport" || ev.Cause != "APP_INTERACTION" || ev.Changed["lockState"] != "UNLOCKED" {
		t.Fatalf("got %s", ev.Raw)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestConcurrentDirectives sends many directives and bridge events at once:
// every directive gets exactly one answer with its token (race detector on).
func TestConcurrentDirectives(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.CoalesceWindow = time.Millisecond })
	const n = 60
	tokens := make(chan string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			dev := []string{"l1", "l2", "nope", "gone1"}[i%4]
			d := directive(t, "Alexa.BrightnessController", "SetBrightness", id(dev), fmt.Sprintf(`{"brightness":%d}`, i))
			tokens <- d.Header.CorrelationToken
			if err := e.r.HandleDirective(context.Background(), d); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "l1", State: model.State{On: model.Ptr(i%2 == 0)}})
		})
	}
	wg.Wait()
	close(tokens)
	want := map[string]bool{}
	for tok := range tokens {
		want[tok] = true
	}
	answered := map[string]bool{}
	for len(answered) < n {
		ev := e.rec.next(t)
		if ev.Name == "ChangeReport" {
			continue
		}
		if !want[ev.Token] || answered[ev.Token] {
			t.Fatalf("unexpected or duplicate answer %s for token %q", ev.Name, ev.Token)
		}
		answered[ev.Token] = true
	}
}

// TestCommandsToOneEndpointTakeTurns: two directives to one light at once
// (TurnOn, then TurnOff while the bridge is still carrying out the first) —
// the second reaches the bridge only after the first's result is recorded,
// and the registry ends with what the device did last. Without turns the
// first's late result would overwrite the second's.
func TestCommandsToOneEndpointTakeTurns(t *testing.T) {
	e := newEnv(t, nil)
	release := make(chan struct{})
	started := make(chan model.Request, 2)
	var deviceOn atomic.Bool
	e.zb.set(func(ctx context.Context, req model.Request) (model.Result, error) {
		started <- req
		if *req.Command.Power { // TurnOn is slow
			select {
			case <-release:
			case <-ctx.Done():
				return model.Result{}, ctx.Err()
			}
		}
		deviceOn.Store(*req.Command.Power)
		return model.Result{Status: model.Done, State: model.State{On: model.Ptr(*req.Command.Power)}}, nil
	})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := e.r.HandleDirective(context.Background(), directive(t, "Alexa.PowerController", "TurnOn", id("l1"), "{}")); err != nil {
			t.Error(err)
		}
	})
	if req := <-started; !*req.Command.Power {
		t.Fatalf("first command %s, want TurnOn", req.Command)
	}
	wg.Go(func() {
		if err := e.r.HandleDirective(context.Background(), directive(t, "Alexa.PowerController", "TurnOff", id("l1"), "{}")); err != nil {
			t.Error(err)
		}
	})
	select {
	case req := <-started:
		t.Fatalf("%s reached the bridge while TurnOn was still under way", req.Command)
	case <-time.After(50 * time.Millisecond): // the assertion is the absence of a call; the test cannot fail late
	}
	close(release)
	if req := <-started; *req.Command.Power {
		t.Fatalf("second command %s, want TurnOff", req.Command)
	}
	wg.Wait()
	ent, _ := e.reg.Get(id("l1"))
	if ent.State.On == nil || *ent.State.On != deviceOn.Load() || deviceOn.Load() {
		t.Errorf("registry on=%v, device on=%v; want both off (TurnOff was carried out last)", ent.State.On, deviceOn.Load())
	}
}

// TestResultKeepsWhatChangedMeanwhile: a state change the bridge reports
// while a command is under way (a plug's power reading, which its relay
// sends before it answers the command) stays in the registry once the
// command's result is recorded: the result records what the command did
// and the bridge reported, not the state the directive started from
// (`make demo` once waited 15 s for a plug's power that the turn-on
// Response had overwritten with the power before it).
func TestResultKeepsWhatChangedMeanwhile(t *testing.T) {
	e := newEnv(t, nil)
	e.zb.set(func(_ context.Context, req model.Request) (model.Result, error) {
		// The device's report reaches the hub before the command's answer.
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: req.DeviceID,
			State: model.State{Brightness: model.Ptr(80)}, Cause: model.CausePhysical})
		return model.Result{Status: model.Done, State: model.State{On: model.Ptr(true)}}, nil
	})
	if err := e.r.HandleDirective(context.Background(), directive(t, "Alexa.PowerController", "TurnOn", id("l1"), "{}")); err != nil {
		t.Fatal(err)
	}
	ev := e.rec.next(t)
	if ev.Name != "Response" || ev.Context["powerState"] != "ON" || ev.Context["brightness"] != 80.0 {
		t.Errorf("sent %s with %v, want a Response with ON and the brightness reported meanwhile (80)", ev.Name, ev.Context)
	}
	got, _ := e.reg.Get(id("l1"))
	if got.State.On == nil || !*got.State.On || got.State.Brightness == nil || *got.State.Brightness != 80 {
		t.Errorf("the registry has %+v, want on at 80 %%", got.State)
	}
	// Through Execute too (the page's and the CLI's commands).
	e.zb.set(func(_ context.Context, req model.Request) (model.Result, error) {
		e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: req.DeviceID,
			State: model.State{Brightness: model.Ptr(30)}, Cause: model.CausePhysical})
		return model.Result{Status: model.Done, State: model.State{On: model.Ptr(false)}}, nil
	})
	st, err := e.r.Execute(context.Background(), id("l1"), model.SetPower(false), model.CauseApp)
	if err != nil || st.On == nil || *st.On || st.Brightness == nil || *st.Brightness != 30 {
		t.Errorf("Execute: %+v %v, want off at the 30 %% reported meanwhile", st, err)
	}
}
