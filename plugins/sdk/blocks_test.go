package sdk

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

type relayConfig struct {
	URL     string   `json:"url" jsonschema:"required,description=base URL of the relay box"`
	Every   Duration `json:"pollEvery,omitempty"`
	Relays  int      `json:"relays,omitempty" jsonschema:"minimum=1,maximum=4"`
	Comment string   `json:"comment,omitempty"`
}

func TestConfigFromOneStruct(t *testing.T) {
	def := relayConfig{Every: Duration(time.Second), Relays: 2}
	if err := ValidateConfig(Schema[relayConfig](), Sample(relayConfig{URL: "http://x", Every: Duration(5 * time.Second)})); err != nil {
		t.Fatalf("the schema rejects its own sample: %v", err)
	}
	tests := []struct {
		json, wantErr string
		want          relayConfig
	}{
		{`{"url":"http://127.0.0.1:1","pollEvery":"250ms"}`, "", relayConfig{URL: "http://127.0.0.1:1", Every: Duration(250 * time.Millisecond), Relays: 2}},
		{`{"url":"u","relays":4}`, "", relayConfig{URL: "u", Every: Duration(time.Second), Relays: 4}},
		{`{}`, "url", relayConfig{}},
		{`{"url":"u","pollEvery":"five minutes"}`, "/pollEvery", relayConfig{}},
		{`{"url":"u","pollEvery":5}`, "/pollEvery", relayConfig{}},
		{`{"url":"u","relays":9}`, "/relays", relayConfig{}},
		{`{"url":"u","colour":"red"}`, "colour", relayConfig{}},
	}
	for _, tt := range tests {
		got, err := DecodeConfig(Config{JSON: []byte(tt.json)}, def)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err %v, want one naming %q", tt.json, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v %v, want %+v", tt.json, got, err, tt.want)
		}
	}
}

func TestSwitchPlugAndGenericTraits(t *testing.T) {
	fan := Device("fan", "Fan", model.CategoryOther, WithOnOff(true), WithToggle("Oscillate", false),
		WithRange(model.Range{Instance: "Fan.Speed", Min: 1, Max: 5}, 3),
		WithMode(model.Mode{Instance: "Fan.Direction", Values: []model.ModeValue{{Value: "Forward"}, {Value: "Reverse"}}}, "Forward"),
		WithTemperatureSensor(21))
	for _, d := range []model.Device{Switch("s", "Switch"), Plug("p", "Plug"), fan,
		Light("l", "Lamp", OnOffLight, WithCategory(model.CategorySmartPlug))} {
		if err := model.ValidateFriendlyName(d.Endpoint.FriendlyName); err != nil || d.Endpoint.Category == "" {
			t.Errorf("%s: %v", d.Endpoint.DeviceID, err)
		}
		if _, bad := d.Endpoint.Traits.CheckState(d.State); len(bad) > 0 {
			t.Errorf("%s: default state out of range: %v", d.Endpoint.DeviceID, bad)
		}
	}
	if c := Plug("p", "P").Endpoint.Category; c != model.CategorySmartPlug {
		t.Errorf("plug category %s", c)
	}
	for _, c := range []model.Command{model.SetToggle("Oscillate", true), model.SetRange("Fan.Speed", 5), model.SetMode("Fan.Direction", "Reverse")} {
		if err := c.Validate(fan.Endpoint.Traits, fan.State); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
}

// pollEmitter records what a Poller emits.
type pollEmitter struct {
	mu  sync.Mutex
	evs []string
}

func (e *pollEmitter) add(s string)          { e.mu.Lock(); e.evs = append(e.evs, s); e.mu.Unlock() }
func (e *pollEmitter) Health(h model.Health) { e.add("health " + string(h.State)) }
func (e *pollEmitter) Snapshot(ds []model.Device) {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(" " + d.Endpoint.DeviceID)
		if !d.Reachable {
			b.WriteString("(unreachable)")
		}
	}
	e.add("snapshot" + b.String())
}
func (e *pollEmitter) Upsert(model.Device) { e.add("upsert") }
func (e *pollEmitter) Remove(string)       { e.add("remove") }
func (e *pollEmitter) Pairing(p model.Pairing) {
	e.add("pairing " + string(p.Stage) + " " + p.DeviceID)
}
func (e *pollEmitter) Link(id string, _ model.Link) { e.add("link " + id) }
func (e *pollEmitter) StateChanged(id string, s model.State, c model.Cause) {
	e.add("state " + id + " on=" + map[bool]string{true: "true", false: "false"}[s.On != nil && *s.On] + " " + string(c))
}
func (e *pollEmitter) Reachability(id string, r bool) {
	e.add("reachable " + id + " " + map[bool]string{true: "yes", false: "no"}[r])
}
func (e *pollEmitter) Complete(string, model.State, error) {}
func (e *pollEmitter) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.evs...)
}

// The poller snapshots after the first reads, reports only changes, marks a
// failing device unreachable and backs off from it.
func TestPoller(t *testing.T) {
	var mu sync.Mutex
	on := map[string]bool{"a": false, "b": false}
	down := map[string]bool{"b": true}
	reads := map[string]int{}
	p := &Poller{Devices: []model.Device{Switch("a", "A"), Switch("b", "B")}, Every: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		Read: func(_ context.Context, id string) (model.State, error) {
			mu.Lock()
			defer mu.Unlock()
			reads[id]++
			if down[id] {
				return model.State{}, errors.New("connection refused")
			}
			return model.State{On: model.Ptr(on[id])}, nil
		}}
	em := &pollEmitter{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx, em) }()
	has := func(s string) bool {
		for _, e := range em.list() {
			if e == s {
				return true
			}
		}
		return false
	}
	waitUntil(t, "snapshot", func() bool { return has("snapshot a b(unreachable)") })
	mu.Lock()
	on["a"] = true
	mu.Unlock()
	waitUntil(t, "a's change", func() bool { return has("state a on=true PERIODIC_POLL") })
	// b has been failing: its reads back off (at most every 40 ms, not every 10 ms).
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	ra, rb := reads["a"], reads["b"]
	down["b"] = false
	mu.Unlock()
	if rb*2 >= ra {
		t.Errorf("a failing device was read %d times against %d for a healthy one: no backoff", rb, ra)
	}
	waitUntil(t, "b reachable", func() bool { return has("reachable b yes") })
	if st, err := p.State("a"); err != nil || !*st.On {
		t.Errorf("State(a) = %+v, %v", st, err)
	}
	p.Update("a", model.State{On: model.Ptr(false)}) // a command turned it off; the poll agrees next
	mu.Lock()
	on["a"] = false
	mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range em.list() {
		if strings.HasPrefix(e, "state a") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("a's state reported %d times, want once (no repeats, no echo of Update): %v", n, em.list())
	}
}

// Every trait the model has can be built with the SDK's helpers and options,
// with a default state its trait accepts: a new trait fails here until the SDK
// has a block for it.
func TestABlockForEveryTrait(t *testing.T) {
	presets := []model.Preset{{Value: 33, Names: []model.Name{{Text: "low", Locale: "en-US"}}}}
	blocks := map[model.TraitKind]model.Device{
		model.TraitOnOff:             Switch("s", "Switch"),
		model.TraitBrightness:        Light("l", "Lamp", DimmableLight),
		model.TraitColor:             Light("c", "Colour lamp", ColorLight),
		model.TraitColorTemperature:  Light("w", "White lamp", ColorTemperatureLight),
		model.TraitLock:              Lock("k", "Door"),
		model.TraitThermostat:        SingleSetpointThermostat("t", "Radiator", 20),
		model.TraitTemperatureSensor: TemperatureSensor("ts", "Thermometer", 20),
		model.TraitToggle:            Device("g", "Toggle", model.CategoryOther, WithToggle("Oscillate", false)),
		model.TraitRange:             Device("r", "Range", model.CategoryOther, WithRange(model.Range{Instance: "Speed", Min: 1, Max: 5}, 3)),
		model.TraitMode:              Device("m", "Mode", model.CategoryOther, WithMode(model.Mode{Instance: "Wash", Values: []model.ModeValue{{Value: "Eco"}}}, "Eco")),
		model.TraitCover:             Cover("b", "Blind"),
		model.TraitContact:           Device("d", "Door sensor", model.CategoryContactSensor, WithContact(false)),
		model.TraitWaterLeak:         Device("wl", "Leak sensor", model.CategoryOther, WithWaterLeak(false)),
		model.TraitPower:             Plug("p", "Plug", WithPower(12.5)),
		model.TraitEnergy:            Plug("e", "Meter", WithEnergy(3.25)),
		model.TraitMotion:            Device("mo", "Hall sensor", model.CategoryMotionSensor, WithMotion(false)),
		model.TraitBattery:           Device("ba", "Remote", model.CategoryOther, WithBattery(90, false)),
		model.TraitHumidity:          TemperatureSensor("h", "Bathroom", 21, WithHumidity(55)),
		model.TraitIlluminance:       Device("lx", "Light sensor", model.CategoryOther, WithIlluminance(120)),
		model.TraitSmoke:             Device("sm", "Smoke alarm", model.CategoryOther, WithSmoke(false)),
		model.TraitGas:               Device("ga", "Gas alarm", model.CategoryOther, WithGas(false)),
		model.TraitTamper:            Device("ta", "Door sensor", model.CategoryContactSensor, WithContact(true), WithTamper(false)),
		model.TraitFan:               Fan("f", "Fan", presets),
		model.TraitSiren:             Device("si", "Siren", model.CategorySecurityPanel, WithSiren(false)),
	}
	for _, k := range model.AllTraitKinds() {
		d, ok := blocks[k]
		if !ok {
			t.Errorf("no SDK helper or option builds the %s trait", k)
			continue
		}
		if !d.Endpoint.Traits.Has(k) {
			t.Errorf("%s: the block does not add the %s trait", d.Endpoint.DeviceID, k)
		}
		if clean, bad := d.Endpoint.Traits.CheckState(d.State); len(bad) > 0 || clean.IsZero() {
			t.Errorf("%s: default state %+v: %v", d.Endpoint.DeviceID, d.State, bad)
		}
		if !slices.Contains(d.State.Kinds(), k) {
			t.Errorf("%s: no initial state for %s", d.Endpoint.DeviceID, k)
		}
	}
	if f := Fan("f", "Fan", presets); *f.State.FanSpeed != 33 || f.State.On == nil || *f.State.On {
		t.Errorf("fan: %+v", f.State)
	}
}
