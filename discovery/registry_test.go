package discovery

import (
	"context"
	"fmt"
	"github.com/avshub/avshub/discovery/model"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// memStore is a minimal Store for discovery's tests (gateway/store imports
// nothing from here, but discovery must not import gateway).
type memStore struct {
	mu   sync.Mutex
	data map[string]map[string][]byte
	fail error
}

func newMemStore() *memStore { return &memStore{data: map[string]map[string][]byte{}} }

func (s *memStore) List(bucket string) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.data[bucket]), nil
}

func (s *memStore) Update(bucket string, put map[string][]byte, del []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if s.data[bucket] == nil {
		s.data[bucket] = map[string][]byte{}
	}
	for _, k := range del {
		delete(s.data[bucket], k)
	}
	for k, v := range put {
		s.data[bucket][k] = slices.Clone(v)
	}
	return nil
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// logBuffer captures log output for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func light(id, name string, on bool) model.Device {
	return model.Device{
		Endpoint: model.Endpoint{DeviceID: id, FriendlyName: name, Category: model.CategoryLight,
			Traits: model.Traits{OnOff: &model.OnOff{}, Brightness: &model.Brightness{}}},
		State:     model.State{On: model.Ptr(on), Brightness: model.Ptr(50)},
		Reachable: true,
	}
}

func kinds(cs []Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Kind)+":"+c.Entry.Endpoint.DeviceID)
	}
	return out
}

func TestRegistryApply(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	type step struct {
		bridge string
		ev     model.Event
		want   []string // kind:deviceID
	}
	tests := []struct {
		name  string
		steps []step
		ids   []string // device ids in the registry at the end
	}{
		{"snapshot adds", []step{
			{"zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true), light("b", "B", false)}}, []string{"added:a", "added:b"}},
		}, []string{"a", "b"}},
		{"snapshot replaces the bridge's whole set", []step{
			{"zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true), light("b", "B", false)}}, []string{"added:a", "added:b"}},
			{"mq", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("m", "M", true)}}, []string{"added:m"}},
			{"zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("b", "B", true), light("c", "C", false)}}, []string{"state:b", "added:c", "removed:a"}},
		}, []string{"m", "b", "c"}}, // sorted by endpoint id: mq < zb
		{"identical snapshot changes nothing", []step{
			{"zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true)}}, []string{"added:a"}},
			{"zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true)}}, nil},
		}, []string{"a"}},
		{"upsert adds then updates", []step{
			{"zb", model.Event{Kind: model.EventUpsert, Device: model.Ptr(light("a", "A", true))}, []string{"added:a"}},
			{"zb", model.Event{Kind: model.EventUpsert, Device: model.Ptr(light("a", "Hall", true))}, []string{"updated:a"}},
		}, []string{"a"}},
		{"remove", []step{
			{"zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true)}}, []string{"added:a"}},
			{"zb", model.Event{Kind: model.EventRemove, DeviceID: "a"}, []string{"removed:a"}},
			{"zb", model.Event{Kind: model.EventRemove, DeviceID: "a"}, nil},
		}, nil},
		{"state and reachability", []step{
			{"zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true)}}, []string{"added:a"}},
			{"zb", model.Event{Kind: model.EventState, DeviceID: "a", State: model.State{Brightness: model.Ptr(80)}, Cause: model.CausePhysical}, []string{"state:a"}},
			{"zb", model.Event{Kind: model.EventState, DeviceID: "a", State: model.State{Brightness: model.Ptr(80)}}, nil},
			{"zb", model.Event{Kind: model.EventReachability, DeviceID: "a", Reachable: false}, []string{"reachability:a"}},
			{"zb", model.Event{Kind: model.EventReachability, DeviceID: "a", Reachable: false}, nil},
			{"zb", model.Event{Kind: model.EventState, DeviceID: "ghost", State: model.State{On: model.Ptr(true)}}, nil},
		}, []string{"a"}},
		{"bad input skipped", []step{
			{"zb", model.Event{Kind: model.EventUpsert}, nil},
			{"zb", model.Event{Kind: "bogus"}, nil},
			{"", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true)}}, nil},
			{"zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("", "A", true), light("x", "X", true), light("x", "X2", true)}}, []string{"added:x"}},
		}, []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry("SER1", WithLogger(quietLogger()), WithClock(func() time.Time { return at }))
			for i, s := range tt.steps {
				got := kinds(r.Apply(s.bridge, s.ev))
				if !slices.Equal(got, s.want) {
					t.Fatalf("step %d: changes %v, want %v", i, got, s.want)
				}
			}
			var ids []string
			for _, e := range r.List() {
				ids = append(ids, e.Endpoint.DeviceID)
				if e.Endpoint.ID != model.EndpointID("SER1", e.Endpoint.Bridge, e.Endpoint.DeviceID) || !model.ValidEndpointID(e.Endpoint.ID) {
					t.Errorf("entry id %q not derived from serial/bridge/device", e.Endpoint.ID)
				}
			}
			if !slices.Equal(ids, tt.ids) {
				t.Fatalf("registry holds %v, want %v", ids, tt.ids)
			}
		})
	}
}

func TestRegistryStateAndCause(t *testing.T) {
	r := NewRegistry("S", WithLogger(quietLogger()))
	r.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", false)}})
	cs := r.Apply("zb", model.Event{Kind: model.EventState, DeviceID: "a", State: model.State{On: model.Ptr(true), Brightness: model.Ptr(50)}, Cause: model.CausePhysical})
	if len(cs) != 1 {
		t.Fatalf("changes %v", kinds(cs))
	}
	c := cs[0]
	if c.Cause != model.CausePhysical || c.Changed.On == nil || !*c.Changed.On || c.Changed.Brightness != nil {
		t.Fatalf("change = %+v; want only on=true changed, cause physical", c)
	}
	e, ok := r.Get(r.ID("zb", "a"))
	if !ok || !*e.State.On || *e.State.Brightness != 50 || !e.Reachable {
		t.Fatalf("entry = %+v", e)
	}
	if !r.Has(r.ID("zb", "a")) || r.Has(r.ID("zb", "b")) {
		t.Fatalf("Has: a %v (want true), b %v (want false)", r.Has(r.ID("zb", "a")), r.Has(r.ID("zb", "b")))
	}
	// Callers get copies.
	*e.State.On = false
	e.Endpoint.Traits.OnOff = nil
	e2, _ := r.Get(r.ID("zb", "a"))
	if !*e2.State.On || e2.Endpoint.Traits.OnOff == nil {
		t.Fatal("Get returned registry-owned memory")
	}
	r.Apply("zb", model.Event{Kind: model.EventHealth, Health: &model.Health{State: model.HealthUnhealthy}})
	if h, ok := r.BridgeHealth("zb"); !ok || h.State != model.HealthUnhealthy {
		t.Fatalf("health = %v %v", h, ok)
	}
	if !r.Synced("zb") || r.Synced("mq") {
		t.Fatal("Synced wrong")
	}
}

// TestRegistryStoredState: a device whose state the bridge took from its
// storage (Device.StateAt) does not replace a state the hub was told after
// that; it fills in only what the hub does not know. A current state (no
// StateAt) or a newer stored one replaces it as before.
func TestRegistryStoredState(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	stored := func(on bool, bright *int, at time.Time) model.Device {
		d := light("a", "A", on)
		d.State.Brightness, d.StateAt = bright, at
		return d
	}
	tests := []struct {
		name      string
		known     *int      // the brightness the hub knows before
		told      time.Time // when the hub was told on=false (the state event's time)
		snap      model.Device
		wantOn    bool
		wantBrt   int
		wantState bool // the snapshot makes a state change
	}{
		{"stored before the hub was told: the newer state stays", model.Ptr(50), sec(10), stored(true, model.Ptr(50), sec(5)), false, 50, false},
		{"stored before, knowing what the hub does not: fills it in", nil, sec(10), stored(true, model.Ptr(70), sec(5)), false, 70, true},
		{"stored before, lacking a field: the hub's stays", model.Ptr(50), sec(10), stored(true, nil, sec(5)), false, 50, false},
		{"stored after the hub was told: replaces", model.Ptr(50), sec(10), stored(true, model.Ptr(60), sec(15)), true, 60, true},
		{"current (no StateAt): replaces", model.Ptr(50), sec(10), stored(true, model.Ptr(60), time.Time{}), true, 60, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry("S", WithLogger(quietLogger()), WithClock(func() time.Time { return sec(20) }))
			first := light("a", "A", true)
			first.State.Brightness = tt.known
			r.Apply("zb", model.Event{Kind: model.EventSnapshot, At: sec(1), Devices: []model.Device{first}})
			r.Apply("zb", model.Event{Kind: model.EventState, At: tt.told, DeviceID: "a", State: model.State{On: model.Ptr(false)}})
			cs := r.Apply("zb", model.Event{Kind: model.EventSnapshot, At: sec(20), Devices: []model.Device{tt.snap}})
			changed := slices.ContainsFunc(cs, func(c Change) bool { return c.Kind == ChangeState })
			e, _ := r.Get(r.ID("zb", "a"))
			brt := -1
			if e.State.Brightness != nil {
				brt = *e.State.Brightness
			}
			if *e.State.On != tt.wantOn || brt != tt.wantBrt || changed != tt.wantState {
				t.Fatalf("on %v brightness %d state change %v (%v); want on %v brightness %d state change %v",
					*e.State.On, brt, changed, kinds(cs), tt.wantOn, tt.wantBrt, tt.wantState)
			}
		})
	}

	// A StateAt later than the event carrying it is the bridge's mistake,
	// taken as the event's time: it does not hold off the states after it.
	r := NewRegistry("S", WithLogger(quietLogger()))
	r.Apply("zb", model.Event{Kind: model.EventSnapshot, At: sec(1), Devices: []model.Device{stored(true, model.Ptr(50), sec(3600))}})
	r.Apply("zb", model.Event{Kind: model.EventSnapshot, At: sec(30), Devices: []model.Device{light("a", "A", false)}})
	if e, _ := r.Get(r.ID("zb", "a")); *e.State.On {
		t.Fatal("a StateAt in the future held off a later current state")
	}

	// An endpoint loaded from the hub's store has no time: the bridge's
	// stored state replaces it (both come from storage).
	st := newMemStore()
	r = NewRegistry("S", WithLogger(quietLogger()), WithStore(st))
	r.Apply("zb", model.Event{Kind: model.EventSnapshot, At: sec(30), Devices: []model.Device{light("a", "A", false)}})
	r2 := NewRegistry("S", WithLogger(quietLogger()), WithStore(st))
	r2.Apply("zb", model.Event{Kind: model.EventSnapshot, At: sec(40), Devices: []model.Device{stored(true, model.Ptr(50), sec(5))}})
	if e, _ := r2.Get(r2.ID("zb", "a")); !*e.State.On {
		t.Fatal("after a hub restart the bridge's stored state did not replace the hub's stored one")
	}
}

func TestRegistryFriendlyNameDedupe(t *testing.T) {
	var logs logBuffer
	r := NewRegistry("S", WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	r.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("b", "Lamp", true)}})
	// A device on another bridge with the same name: "S::mq::a" < "S::zb::b", so
	// the new one keeps "Lamp" and the old one becomes "Lamp 2" (deterministic by id).
	cs := r.Apply("mq", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "lamp", true)}})
	if got := kinds(cs); !slices.Equal(got, []string{"added:a", "updated:b"}) {
		t.Fatalf("changes %v", got)
	}
	names := map[string]string{}
	for _, e := range r.List() {
		names[e.Endpoint.DeviceID] = e.Endpoint.FriendlyName
	}
	if names["a"] != "lamp" || names["b"] != "Lamp 2" {
		t.Fatalf("names %v", names)
	}
	if n := strings.Count(logs.String(), "friendly name changed"); n != 1 {
		t.Fatalf("%d warnings logged, want 1: %s", n, logs.String())
	}
	// Unrelated changes do not repeat the warning.
	r.Apply("zb", model.Event{Kind: model.EventUpsert, Device: model.Ptr(light("z", "Other", true))})
	if n := strings.Count(logs.String(), "friendly name changed"); n != 1 {
		t.Fatalf("%d warnings logged after an unrelated change, want 1", n)
	}
	// Removing the collision gives the name back.
	cs = r.Apply("mq", model.Event{Kind: model.EventRemove, DeviceID: "a"})
	if got := kinds(cs); !slices.Equal(got, []string{"removed:a", "updated:b"}) || !strings.Contains(logs.String(), "unique again") {
		t.Fatalf("changes %v", got)
	}
	if e, _ := r.Get(r.ID("zb", "b")); e.Endpoint.FriendlyName != "Lamp" {
		t.Fatalf("name %q, want Lamp back", e.Endpoint.FriendlyName)
	}
	// An empty name is repaired.
	r.Apply("zb", model.Event{Kind: model.EventUpsert, Device: model.Ptr(light("c", "  ", true))})
	if e, _ := r.Get(r.ID("zb", "c")); e.Endpoint.FriendlyName != "Device c" {
		t.Fatalf("repaired name %q", e.Endpoint.FriendlyName)
	}
}

func TestRegistrySubscribe(t *testing.T) {
	r := NewRegistry("S", WithLogger(quietLogger()), WithSubscriberBuffer(2))
	ctx, cancel := context.WithCancel(context.Background())
	ch := r.Subscribe(ctx)
	r.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true)}})
	select {
	case c := <-ch:
		if c.Kind != ChangeAdded || c.Entry.Endpoint.DeviceID != "a" {
			t.Fatalf("got %+v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no change delivered")
	}
	cancel()
	for range ch { // closed when ctx ends
	}

	// A slow subscriber is dropped (channel closed while its ctx is live) and
	// never blocks Apply.
	slowCtx, slowCancel := context.WithCancel(context.Background())
	defer slowCancel()
	slow := r.Subscribe(slowCtx)
	for i := range 10 {
		r.Apply("zb", model.Event{Kind: model.EventState, DeviceID: "a", State: model.State{Brightness: model.Ptr(i)}})
	}
	n := 0
	for range slow {
		n++
	}
	if n != 2 || slowCtx.Err() != nil {
		t.Fatalf("slow subscriber got %d changes before being dropped, want 2 (buffer)", n)
	}
}

// TestRegistrySubscriptionMemory: an idle subscription holds no buffer for
// the changes that may wait for it (a channel buffered for
// DefaultSubscriberBuffer changes held about 1 MB each, scanned by every
// collection), yet a backlog up to the bound is still delivered in order.
func TestRegistrySubscriptionMemory(t *testing.T) {
	r := NewRegistry("S", WithLogger(quietLogger()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const subs = 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	chs := make([]<-chan Change, subs)
	for i := range chs {
		chs[i] = r.Subscribe(ctx)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 1<<20 {
		t.Errorf("%d idle subscriptions hold %d KiB of heap, want under 1 MiB", subs, grew>>10)
	}
	// A backlog of DefaultSubscriberBuffer changes waits for a reader that comes late.
	r.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true)}})
	for i := range DefaultSubscriberBuffer - 1 {
		r.Apply("zb", model.Event{Kind: model.EventState, DeviceID: "a", State: model.State{Brightness: model.Ptr(i % 100)}})
	}
	for i := range DefaultSubscriberBuffer {
		c, ok := <-chs[0]
		if !ok {
			t.Fatalf("subscription closed after %d changes, want %d", i, DefaultSubscriberBuffer)
		}
		if i > 0 && (c.Changed.Brightness == nil || *c.Changed.Brightness != (i-1)%100) {
			t.Fatalf("change %d: %+v, want brightness %d", i, c.Changed, (i-1)%100)
		}
	}
	runtime.KeepAlive(chs)
}

func TestRegistryPersistence(t *testing.T) {
	st := newMemStore()
	r := NewRegistry("S", WithLogger(quietLogger()), WithStore(st))
	r.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true), light("b", "A", true)}})
	r.Apply("zb", model.Event{Kind: model.EventRemove, DeviceID: "b"})
	r.Apply("zb", model.Event{Kind: model.EventUpsert, Device: model.Ptr(light("c", "C", true))})
	if got := slices.Sorted(maps.Keys(st.data[EndpointsBucket])); !slices.Equal(got, []string{r.ID("zb", "a"), r.ID("zb", "c")}) {
		t.Fatalf("stored %v", got)
	}
	st.data[EndpointsBucket]["garbage"] = []byte("{")
	r2 := NewRegistry("S", WithLogger(quietLogger()), WithStore(st))
	got := r2.List()
	if len(got) != 2 || got[0].Endpoint.FriendlyName != "A" || got[0].Reachable || got[1].Endpoint.DeviceID != "c" {
		t.Fatalf("reloaded %+v", got)
	}
	if !reflect.DeepEqual(got[0].Endpoint, r.List()[0].Endpoint) {
		t.Fatalf("reloaded endpoint differs:\n%+v\n%+v", got[0].Endpoint, r.List()[0].Endpoint)
	}
	// The bridge's snapshot then marks it reachable without an "added".
	cs := r2.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true), light("c", "C", true)}})
	if k := kinds(cs); !slices.Equal(k, []string{"reachability:a", "reachability:c"}) {
		t.Fatalf("changes after reload %v", k)
	}
	// A failing store never breaks the registry.
	st.fail = fmt.Errorf("disk full")
	if cs := r2.Apply("zb", model.Event{Kind: model.EventUpsert, Device: model.Ptr(light("d", "D", true))}); len(cs) != 1 {
		t.Fatalf("changes %v", kinds(cs))
	}
	// Retain drops bridges no longer configured.
	st.fail = nil
	r2.Apply("old", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("z", "Z", true)}})
	if k := kinds(r2.Retain("zb")); !slices.Equal(k, []string{"removed:z"}) {
		t.Fatalf("Retain changes %v", k)
	}
	if _, ok := st.data[EndpointsBucket][r2.ID("old", "z")]; ok {
		t.Fatal("retained-away endpoint still stored")
	}
}

// TestRegistryConcurrent runs bridges, readers and subscribers at once (for
// the race detector) and checks the final state.
func TestRegistryConcurrent(t *testing.T) {
	r := NewRegistry("S", WithLogger(quietLogger()), WithStore(newMemStore()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := r.Subscribe(ctx)
	got := make(chan int)
	go func() {
		n := 0
		for range sub {
			n++
		}
		got <- n
	}()
	var wg sync.WaitGroup
	for b := range 4 {
		bridge := fmt.Sprint("b", b)
		wg.Go(func() {
			r.Apply(bridge, model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("x", "Same", true), light("y", "Same", false)}})
			for i := range 200 {
				r.Apply(bridge, model.Event{Kind: model.EventState, DeviceID: "x", State: model.State{Brightness: model.Ptr(i % 100)}})
			}
		})
		wg.Go(func() {
			for range 200 {
				_ = r.List()
				_, _ = r.Get(r.ID(bridge, "x"))
			}
		})
	}
	wg.Wait()
	cancel()
	if n := <-got; n == 0 {
		t.Fatal("subscriber saw nothing")
	}
	names := map[string]bool{}
	for _, e := range r.List() {
		if names[e.Endpoint.FriendlyName] {
			t.Fatalf("duplicate name %q", e.Endpoint.FriendlyName)
		}
		names[e.Endpoint.FriendlyName] = true
		if e.Endpoint.DeviceID == "x" && *e.State.Brightness != 99 {
			t.Fatalf("final brightness %d, want 99", *e.State.Brightness)
		}
	}
	if len(names) != 8 {
		t.Fatalf("%d endpoints, want 8", len(names))
	}
}
