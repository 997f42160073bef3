package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa"
	"github.com/avshub/avshub/gateway/alexa/schema"
)

// testProfile is a small Smart Home profile for the router's tests: Power,
// Brightness (Set/Adjust), Lock, ReportState, EndpointHealth, and a
// TemperatureSensor whose property is not proactively reported. It lets the
// router be tested on its own; TestRealProfiles runs the real alexa profiles.
type testProfile struct{}

func (testProfile) Decode(d *alexa.Directive, ep model.Endpoint, st model.State) (alexa.Intent, error) {
	var p struct {
		Brightness      *int `json:"brightness"`
		BrightnessDelta *int `json:"brightnessDelta"`
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		return alexa.Intent{}, model.Errorf(model.ErrInvalidValue, "bad payload: %v", err)
	}
	switch d.Header.Namespace + "." + d.Header.Name {
	case "Alexa.ReportState":
		return alexa.Intent{ReportState: true}, nil
	case "Alexa.PowerController.TurnOn":
		return alexa.Intent{Command: model.SetPower(true)}, nil
	case "Alexa.PowerController.TurnOff":
		return alexa.Intent{Command: model.SetPower(false)}, nil
	case "Alexa.BrightnessController.SetBrightness":
		if p.Brightness == nil {
			return alexa.Intent{}, model.Errorf(model.ErrInvalidValue, "no brightness")
		}
		return alexa.Intent{Command: model.SetBrightness(*p.Brightness)}, nil
	case "Alexa.BrightnessController.AdjustBrightness":
		cur := 0
		if st.Brightness != nil {
			cur = *st.Brightness
		}
		return alexa.Intent{Command: model.SetBrightness(min(100, max(0, cur+*p.BrightnessDelta)))}, nil
	case "Alexa.LockController.Lock":
		return alexa.Intent{Command: model.SetLock(model.Locked)}, nil
	case "Alexa.LockController.Unlock":
		return alexa.Intent{Command: model.SetLock(model.Unlocked)}, nil
	}
	return alexa.Intent{}, fmt.Errorf("unsupported directive %s.%s", d.Header.Namespace, d.Header.Name)
}

func (testProfile) Properties(ep model.Endpoint, st model.State, reachable bool, at time.Time) []alexa.Property {
	var out []alexa.Property
	add := func(ns, name string, v any) {
		out = append(out, alexa.Property{Namespace: ns, Name: name, Value: v, TimeOfSample: at})
	}
	if ep.Traits.OnOff != nil && st.On != nil {
		add("Alexa.PowerController", "powerState", map[bool]string{true: "ON", false: "OFF"}[*st.On])
	}
	if ep.Traits.Brightness != nil && st.Brightness != nil {
		add("Alexa.BrightnessController", "brightness", *st.Brightness)
	}
	if ep.Traits.Lock != nil && st.Lock != "" {
		add("Alexa.LockController", "lockState", string(st.Lock))
	}
	if ep.Traits.TemperatureSensor != nil && st.Temperature != nil {
		add("Alexa.TemperatureSensor", "temperature", map[string]any{"value": *st.Temperature, "scale": "CELSIUS"})
	}
	add("Alexa.EndpointHealth", "connectivity", map[string]string{"value": map[bool]string{true: "OK", false: "UNREACHABLE"}[reachable]})
	return out
}

func (testProfile) Proactive(ep model.Endpoint, p alexa.Property) bool {
	return p.Namespace != "Alexa.TemperatureSensor"
}

// testBridge is an in-process model.Bridge whose behaviour each test sets.
type testBridge struct {
	mu      sync.Mutex
	calls   []model.Request
	exec    func(ctx context.Context, req model.Request) (model.Result, error)
	state   func(ctx context.Context, deviceID string) (model.State, error)
	stateN  int
	started chan model.Request // receives each request when set
}

func (b *testBridge) Execute(ctx context.Context, req model.Request) (model.Result, error) {
	b.mu.Lock()
	b.calls = append(b.calls, req)
	exec, started := b.exec, b.started
	b.mu.Unlock()
	if started != nil {
		started <- req
	}
	if exec == nil {
		return model.Result{Status: model.Done}, nil
	}
	return exec(ctx, req)
}

func (b *testBridge) State(ctx context.Context, deviceID string) (model.State, error) {
	b.mu.Lock()
	b.stateN++
	f := b.state
	b.mu.Unlock()
	if f == nil {
		return model.State{}, errors.New("no state")
	}
	return f(ctx, deviceID)
}

func (b *testBridge) StartPairing(context.Context, time.Duration) error {
	return &model.Error{Kind: model.ErrNotSupported}
}

func (b *testBridge) RemoveDevice(context.Context, string) error {
	return &model.Error{Kind: model.ErrNotSupported, Message: "no removing"}
}

func (b *testBridge) set(f func(ctx context.Context, req model.Request) (model.Result, error)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.exec = f
}

func (b *testBridge) requests() []model.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]model.Request(nil), b.calls...)
}

type bridgeMap map[string]model.Bridge

func (m bridgeMap) Bridge(name string) (model.Bridge, bool) { b, ok := m[name]; return b, ok }

// sentEvent is one event the router sent, decoded for assertions.
type sentEvent struct {
	Raw       []byte
	Namespace string
	Name      string
	Endpoint  string
	Token     string
	Type      string // ErrorResponse payload type
	Cause     string // ChangeReport cause
	Changed   map[string]any
	Context   map[string]any
}

func decodeEvent(t testing.TB, raw []byte) sentEvent {
	t.Helper()
	var e struct {
		Context struct {
			Properties []struct {
				Namespace string
				Name      string
				Value     any
			}
		}
		Event struct {
			Header struct {
				Namespace, Name, CorrelationToken string
			}
			Endpoint struct{ EndpointID string }
			Payload  struct {
				Type   string
				Change struct {
					Cause      struct{ Type string }
					Properties []struct {
						Namespace string
						Name      string
						Value     any
					}
				}
			}
		}
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("event is not JSON: %v\n%s", err, raw)
	}
	s := sentEvent{Raw: raw, Namespace: e.Event.Header.Namespace, Name: e.Event.Header.Name, Endpoint: e.Event.Endpoint.EndpointID,
		Token: e.Event.Header.CorrelationToken, Type: e.Event.Payload.Type, Cause: e.Event.Payload.Change.Cause.Type,
		Changed: map[string]any{}, Context: map[string]any{}}
	for _, p := range e.Event.Payload.Change.Properties {
		s.Changed[p.Name] = p.Value
	}
	for _, p := range e.Context.Properties {
		s.Context[p.Name] = p.Value
	}
	return s
}

// recorder is the EventSender: it validates every event against the official
// schema and hands it to the test. block, when set, holds Send until closed.
type recorder struct {
	t      testing.TB
	mu     sync.Mutex
	events []sentEvent
	ch     chan sentEvent
	block  chan struct{}
	active int // Sends in progress
	peak   int
	fail   int // fail this many Sends (after validation)
}

func newRecorder(t testing.TB) *recorder { return &recorder{t: t, ch: make(chan sentEvent, 1000)} }

func (r *recorder) Send(ctx context.Context, event []byte) error {
	if err := schema.Validate(event); err != nil {
		r.t.Errorf("router sent an event the official schema rejects: %v\n%s", err, event)
	}
	ev := decodeEvent(r.t, event)
	r.mu.Lock()
	r.active++
	r.peak = max(r.peak, r.active)
	block := r.block
	if r.fail > 0 {
		r.fail--
		r.active--
		r.mu.Unlock()
		return errors.New("queue full")
	}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.active--
		r.mu.Unlock()
	}()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	r.ch <- ev
	return nil
}

// next waits for the next event.
func (r *recorder) next(t testing.TB) sentEvent {
	t.Helper()
	select {
	case ev := <-r.ch:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event sent within 10 s")
	}
	return sentEvent{}
}

// none asserts nothing was sent (nothing queued right now).
func (r *recorder) none(t testing.TB) {
	t.Helper()
	select {
	case ev := <-r.ch:
		t.Fatalf("unexpected event %s.%s for %s: %s", ev.Namespace, ev.Name, ev.Endpoint, ev.Raw)
	default:
	}
}
