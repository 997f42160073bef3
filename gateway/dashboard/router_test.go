package dashboard

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa"
	"github.com/avshub/avshub/gateway/router"
)

// localBridge is an in-process model.Bridge that carries out every command at once.
type localBridge struct {
	mu    sync.Mutex
	state map[string]model.State
	reqs  chan model.Request
}

func (b *localBridge) Execute(_ context.Context, req model.Request) (model.Result, error) {
	b.reqs <- req
	b.mu.Lock()
	defer b.mu.Unlock()
	s := req.Command.Apply(b.state[req.DeviceID])
	b.state[req.DeviceID] = s
	return model.Result{Status: model.Done, State: s}, nil
}

func (b *localBridge) State(_ context.Context, id string) (model.State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state[id], nil
}

func (b *localBridge) StartPairing(context.Context, time.Duration) error {
	return &model.Error{Kind: model.ErrNotSupported, Message: "no pairing"}
}

func (b *localBridge) RemoveDevice(context.Context, string) error {
	return &model.Error{Kind: model.ErrNotSupported, Message: "no removing"}
}

type bridgeSet map[string]model.Bridge

func (s bridgeSet) Bridge(name string) (model.Bridge, bool) { b, ok := s[name]; return b, ok }

type eventSink chan []byte

func (s eventSink) Send(_ context.Context, ev []byte) error {
	s <- append([]byte(nil), ev...)
	return nil
}

// TestThroughRouter runs a dashboard command through the real router: the
// bridge gets the command, the state topic shows it, and Alexa gets a
// ChangeReport with cause APP_INTERACTION.
func TestThroughRouter(t *testing.T) {
	reg := discovery.NewRegistry(testSerial, discovery.WithLogger(quiet()))
	profile, err := alexa.ProfileByName(alexa.ProfileSmartHome, alexa.ProfileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lb := &localBridge{state: map[string]model.State{}, reqs: make(chan model.Request, 10)}
	events := make(eventSink, 100)
	r, err := router.New(router.Options{Registry: reg, Profile: profile, Bridges: bridgeSet{"virtual": lb},
		Events: events, Logger: quiet(), CoalesceWindow: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	d := fixtures()["color_light"]
	lb.state[d.Endpoint.DeviceID] = d.State
	r.BridgeEvent("virtual", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{d}})

	tg := targets(t)[0]
	p, _ := runPublisher(t, Config{Broker: tg.url}, reg, r)
	e, _ := reg.Get(model.EndpointID(testSerial, "virtual", d.Endpoint.DeviceID))
	stateT, setT, _, errT, _ := p.Topics(e.Endpoint)
	obs := observe(t, tg.url, "", "", stateT, errT)
	obs.lastJSON(t, stateT, func(s map[string]any) bool { return s["state"] == "OFF" })

	cmd := dialClient(t, tg.url, "", "")
	publishTo(t, cmd, setT, false, `{"state":"ON","brightness":65}`)
	for _, want := range []string{"on_off=true", "brightness=65"} {
		select {
		case req := <-lb.reqs:
			if req.Command.String() != want || req.DeviceID != d.Endpoint.DeviceID {
				t.Fatalf("bridge got %s for %s, want %s", req.Command, req.DeviceID, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the bridge never got %s", want)
		}
	}
	obs.lastJSON(t, stateT, func(s map[string]any) bool {
		return s["state"] == "ON" && s["brightness"] == 65.0 && s["cause"] == "APP_INTERACTION"
	})
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			var env struct {
				Event struct {
					Header  struct{ Name string } `json:"header"`
					Payload struct {
						Change struct {
							Cause struct{ Type string } `json:"cause"`
						} `json:"change"`
					} `json:"payload"`
				} `json:"event"`
			}
			if err := json.Unmarshal(ev, &env); err != nil {
				t.Fatalf("event %s: %v", ev, err)
			}
			if env.Event.Header.Name != "ChangeReport" {
				continue
			}
			if env.Event.Payload.Change.Cause.Type != "APP_INTERACTION" {
				t.Fatalf("ChangeReport cause %q: %s", env.Event.Payload.Change.Cause.Type, ev)
			}
			if !strings.Contains(string(ev), `"powerState"`) {
				t.Fatalf("ChangeReport without powerState: %s", ev)
			}
			// The router's own errors come back too: an unreachable device.
			r.BridgeEvent("virtual", model.Event{Kind: model.EventReachability, DeviceID: d.Endpoint.DeviceID, Reachable: false})
			obs.lastJSON(t, stateT, func(s map[string]any) bool { return s["reachable"] == false })
			publishTo(t, cmd, setT, false, "OFF")
			errMsg := obs.lastJSON(t, errT, nil)
			if errMsg["kind"] != string(model.ErrUnreachable) {
				t.Fatalf("error %v", errMsg)
			}
			return
		case <-deadline:
			t.Fatal("no ChangeReport reached Alexa")
		}
	}
}
