package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/avshub/avshub/discovery/model"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// testRender renders an endpoint as a small Alexa-like object; pad adds bytes.
func testRender(pad int) Renderer {
	return func(ep model.Endpoint) (json.RawMessage, error) {
		if ep.FriendlyName == "unrenderable" {
			return nil, fmt.Errorf("cannot render")
		}
		return json.Marshal(map[string]any{"endpointId": ep.ID, "friendlyName": ep.FriendlyName,
			"displayCategories": []model.Category{ep.Category}, "description": strings.Repeat("x", pad)})
	}
}

var hubStatic = StaticEndpoint{ID: "hub-self", JSON: json.RawMessage(`{"endpointId":"hub-self", "friendlyName":""}`)}

type harness struct {
	t   *testing.T
	st  *memStore
	reg *Registry
	m   *Manager
}

func newHarness(t *testing.T, st *memStore, opts ManagerOptions) *harness {
	t.Helper()
	reg := NewRegistry("S", WithLogger(quietLogger()))
	if opts.Render == nil {
		opts.Render = testRender(0)
	}
	opts.Store = st
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	m, err := NewManager(reg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, st: st, reg: reg, m: m}
}

// deliver sends every pending report and returns a summary "Name:ids,...".
func (h *harness) deliver() []string {
	h.t.Helper()
	ctx := context.Background()
	reports, err := h.m.Pending(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, r := range reports {
		var ids []string
		for _, e := range r.Endpoints {
			var ref struct{ EndpointID string }
			if err := json.Unmarshal(e, &ref); err != nil {
				h.t.Fatal(err)
			}
			ids = append(ids, ref.EndpointID)
		}
		out = append(out, r.Name+":"+strings.Join(ids, ","))
		if err := h.m.Delivered(ctx, r); err != nil {
			h.t.Fatal(err)
		}
	}
	if again, _ := h.m.Pending(ctx); len(again) != 0 {
		h.t.Fatalf("still pending after delivery: %d reports", len(again))
	}
	return out
}

func lights(n int) []model.Device {
	var ds []model.Device
	for i := range n {
		ds = append(ds, light(fmt.Sprintf("d%03d", i), fmt.Sprintf("Light %d", i), true))
	}
	return ds
}

func TestManagerDiff(t *testing.T) {
	st := newMemStore()
	h := newHarness(t, st, ManagerOptions{Static: []StaticEndpoint{hubStatic}})
	select {
	case <-h.m.Changed():
	default:
		t.Fatal("Changed not signalled at start")
	}
	h.reg.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true), light("b", "B", true)}})
	if got := h.deliver(); !slices.Equal(got, []string{"AddOrUpdateReport:hub-self,S::zb::a,S::zb::b"}) {
		t.Fatalf("first publish %v", got)
	}

	t.Run("state changes publish nothing", func(t *testing.T) {
		h.reg.Apply("zb", model.Event{Kind: model.EventState, DeviceID: "a", State: model.State{On: model.Ptr(false)}})
		h.reg.Apply("zb", model.Event{Kind: model.EventReachability, DeviceID: "b"})
		if got := h.deliver(); len(got) != 0 {
			t.Fatalf("sent %v", got)
		}
	})
	t.Run("restart with nothing changed sends nothing", func(t *testing.T) {
		h2 := newHarness(t, st, ManagerOptions{Static: []StaticEndpoint{hubStatic}})
		// Before the bridge reports, nothing is deleted…
		if got := h2.deliver(); len(got) != 0 {
			t.Fatalf("sent before the bridge synced: %v", got)
		}
		// …and its identical snapshot changes nothing either.
		h2.reg.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", false), light("b", "B", true)}})
		if got := h2.deliver(); len(got) != 0 {
			t.Fatalf("sent after restart: %v", got)
		}
	})
	t.Run("rename sends one AddOrUpdateReport", func(t *testing.T) {
		h.reg.Apply("zb", model.Event{Kind: model.EventUpsert, Device: model.Ptr(light("a", "Hall", true))})
		if got := h.deliver(); !slices.Equal(got, []string{"AddOrUpdateReport:S::zb::a"}) {
			t.Fatalf("sent %v", got)
		}
	})
	t.Run("removal sends DeleteReport", func(t *testing.T) {
		h.reg.Apply("zb", model.Event{Kind: model.EventRemove, DeviceID: "b"})
		if got := h.deliver(); !slices.Equal(got, []string{"DeleteReport:S::zb::b"}) {
			t.Fatalf("sent %v", got)
		}
	})
	t.Run("unrenderable endpoint is kept, not deleted", func(t *testing.T) {
		h.reg.Apply("zb", model.Event{Kind: model.EventUpsert, Device: model.Ptr(light("a", "unrenderable", true))})
		if got := h.deliver(); len(got) != 0 {
			t.Fatalf("sent %v", got)
		}
	})
	t.Run("SetBridges: a bridge removed by a reload is deleted, one added is published", func(t *testing.T) {
		st := newMemStore()
		h := newHarness(t, st, ManagerOptions{Bridges: []string{"zb", "mq"}})
		h.reg.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true)}})
		h.reg.Apply("mq", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("m", "M", true)}})
		if got := h.deliver(); !slices.Equal(got, []string{"AddOrUpdateReport:S::mq::m,S::zb::a"}) {
			t.Fatalf("first publish %v", got)
		}
		<-h.m.Changed()
		h.m.SetBridges([]string{"zb"})
		select {
		case <-h.m.Changed():
		default:
			t.Fatal("SetBridges did not signal Changed")
		}
		if got := h.deliver(); !slices.Equal(got, []string{"DeleteReport:S::mq::m"}) {
			t.Fatalf("after removing mq: %v", got)
		}
		h.m.SetBridges([]string{"zb", "mq"})
		if got := h.deliver(); !slices.Equal(got, []string{"AddOrUpdateReport:S::mq::m"}) {
			t.Fatalf("after adding mq back: %v", got)
		}
	})
	t.Run("bridge removed from config is deleted", func(t *testing.T) {
		h3 := newHarness(t, st, ManagerOptions{Static: []StaticEndpoint{hubStatic}, Bridges: []string{"mq"}})
		h3.reg.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "unrenderable", true)}})
		h3.reg.Apply("zb", model.Event{Kind: model.EventUpsert, Device: model.Ptr(light("a", "Hall", true))})
		if got := h3.deliver(); !slices.Equal(got, []string{"DeleteReport:S::zb::a"}) {
			t.Fatalf("sent %v", got)
		}
	})
}

func TestManagerSplitting(t *testing.T) {
	tests := []struct {
		name      string
		n, pad    int
		maxBytes  int
		wantSizes []int
	}{
		{"300 in one", 299, 0, 0, []int{300}},
		{"over 300: only 300 published, in one report", 400, 0, 0, []int{300}},
		{"246 KB", 250, 2000, 0, nil}, // computed below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, newMemStore(), ManagerOptions{Static: []StaticEndpoint{hubStatic}, Render: testRender(tt.pad), MaxEndpoints: 10000})
			if tt.name != "246 KB" {
				h.m.opts.MaxEndpoints = MaxEndpoints
			}
			h.reg.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: lights(tt.n)})
			reports, err := h.m.Pending(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var sizes []int
			total := 0
			for _, r := range reports {
				sizes = append(sizes, len(r.Endpoints))
				total += len(r.Endpoints)
				b, _ := json.Marshal(r.Endpoints)
				if len(r.Endpoints) > MaxEndpoints || len(b)-2 > MaxReportBytes {
					t.Fatalf("report of %d endpoints, %d bytes exceeds limits", len(r.Endpoints), len(b))
				}
				if r.Name != AddOrUpdateReport {
					t.Fatalf("report %s", r.Name)
				}
			}
			if tt.wantSizes != nil && !slices.Equal(sizes, tt.wantSizes) {
				t.Fatalf("report sizes %v, want %v", sizes, tt.wantSizes)
			}
			if tt.name == "246 KB" && (len(reports) < 2 || total != tt.n+1) {
				t.Fatalf("%d reports holding %d endpoints; want ≥2 holding %d", len(reports), total, tt.n+1)
			}
		})
	}
}

func TestSplitBoundaries(t *testing.T) {
	ep := func(n int) json.RawMessage { return json.RawMessage(`"` + strings.Repeat("a", n-2) + `"`) }
	// Three endpoints of 10 bytes: with commas, 2 fit in 21 bytes, 3 need 32.
	eps := []json.RawMessage{ep(10), ep(10), ep(10)}
	for _, tt := range []struct {
		maxN, maxBytes int
		want           []int
	}{{300, 32, []int{3}}, {300, 31, []int{2, 1}}, {300, 21, []int{2, 1}}, {300, 20, []int{1, 1, 1}}, {2, 1000, []int{2, 1}}, {1, 1000, []int{1, 1, 1}}} {
		var got []int
		for _, r := range split("X", eps, tt.maxN, tt.maxBytes) {
			got = append(got, len(r.Endpoints))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("split(maxN=%d, maxBytes=%d) = %v, want %v", tt.maxN, tt.maxBytes, got, tt.want)
		}
	}
}

func TestManagerOverLimitRule(t *testing.T) {
	var logs logBuffer
	h := newHarness(t, newMemStore(), ManagerOptions{Static: []StaticEndpoint{hubStatic},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), MaxEndpoints: 3})
	h.reg.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("c", "C", true), light("a", "A", true), light("b", "B", true)}})
	h.reg.Apply("mq", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("z", "Z", true)}})
	// hub first, then by endpoint id: S::mq::z, S::zb::a; left out: S::zb::b, S::zb::c.
	if got := h.deliver(); !slices.Equal(got, []string{"AddOrUpdateReport:hub-self,S::mq::z,S::zb::a"}) {
		t.Fatalf("sent %v", got)
	}
	if got := h.m.Omitted(); !slices.Equal(got, []string{"S::zb::b", "S::zb::c"}) {
		t.Fatalf("Omitted = %v", got)
	}
	if !strings.Contains(logs.String(), "NOT published") || !strings.Contains(logs.String(), "S::zb::c") {
		t.Fatalf("no clear warning: %s", logs.String())
	}
	// A removal makes room: the next one in id order is published.
	h.reg.Apply("mq", model.Event{Kind: model.EventRemove, DeviceID: "z"})
	if got := h.deliver(); !slices.Equal(got, []string{"DeleteReport:S::mq::z", "AddOrUpdateReport:S::zb::b"}) {
		t.Fatalf("sent %v", got)
	}
	if got := h.m.Omitted(); !slices.Equal(got, []string{"S::zb::c"}) {
		t.Fatalf("Omitted = %v", got)
	}
}

func TestManagerRunSignals(t *testing.T) {
	h := newHarness(t, newMemStore(), ManagerOptions{})
	<-h.m.Changed() // initial
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.m.Run(ctx) }()
	<-h.m.Changed() // Run signals on (re)subscribe
	h.reg.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{light("a", "A", true)}})
	<-h.m.Changed()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestManagerErrors(t *testing.T) {
	reg := NewRegistry("S")
	if _, err := NewManager(reg, ManagerOptions{}); err == nil {
		t.Fatal("NewManager without store and renderer succeeded")
	}
	if _, err := NewManager(reg, ManagerOptions{Store: newMemStore(), Render: testRender(0),
		Static: []StaticEndpoint{{ID: "bad id!", JSON: json.RawMessage(`{}`)}}}); err == nil {
		t.Fatal("invalid static id accepted")
	}
	st := newMemStore()
	h := newHarness(t, st, ManagerOptions{})
	if err := h.m.Delivered(context.Background(), Report{Name: "Nope", Endpoints: []json.RawMessage{json.RawMessage(`{"endpointId":"x"}`)}}); err == nil {
		t.Fatal("unknown report name accepted")
	}
	if err := h.m.Delivered(context.Background(), Report{Name: AddOrUpdateReport, Endpoints: []json.RawMessage{json.RawMessage(`{}`)}}); err == nil {
		t.Fatal("endpoint without id accepted")
	}
	st.fail = fmt.Errorf("disk full")
	err := h.m.Delivered(context.Background(), Report{Name: DeleteReport, Endpoints: []json.RawMessage{json.RawMessage(`{"endpointId":"x"}`)}})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("store failure not reported: %v", err)
	}
}

// TestDeliveredWhileStopping: a report acknowledged as the hub stops (its
// context already ended) is still recorded, so it is not pending again.
func TestDeliveredWhileStopping(t *testing.T) {
	h := newHarness(t, newMemStore(), ManagerOptions{Static: []StaticEndpoint{hubStatic}})
	reports, err := h.m.Pending(context.Background())
	if err != nil || len(reports) != 1 {
		t.Fatalf("pending: %d reports, %v; want the hub's own", len(reports), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.m.Delivered(ctx, reports[0]); err != nil {
		t.Fatalf("Delivered with an ended context: %v", err)
	}
	if again, err := h.m.Pending(context.Background()); err != nil || len(again) != 0 {
		t.Fatalf("after delivery: %d reports pending, %v; want none", len(again), err)
	}
}

// BenchmarkPendingUnchanged measures the per-connection diff of 300 endpoints
// when nothing changed (the common case), against rendering alone.
func BenchmarkPendingUnchanged(b *testing.B) {
	st := newMemStore()
	reg := NewRegistry("S", WithLogger(quietLogger()))
	reg.Apply("zb", model.Event{Kind: model.EventSnapshot, Devices: lights(299)})
	m, err := NewManager(reg, ManagerOptions{Store: st, Render: testRender(200), Static: []StaticEndpoint{hubStatic}, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	reports, _ := m.Pending(ctx)
	for _, r := range reports {
		_ = m.Delivered(ctx, r)
	}
	b.Run("render-only", func(b *testing.B) {
		for b.Loop() {
			for _, e := range reg.List() {
				_, _ = m.opts.Render(e.Endpoint)
			}
		}
	})
	b.Run("pending", func(b *testing.B) {
		for b.Loop() {
			if r, _ := m.Pending(ctx); len(r) != 0 {
				b.Fatal("pending after delivery")
			}
		}
	})
}

// TestManagerSignalsWhenBridgeSyncs: after a restart the registry holds the
// endpoints it had, so a bridge's first snapshot may change nothing. A
// deletion that waited for that snapshot (here an endpoint hidden from Alexa
// whose DeleteReport was sent but not recorded: the hub stopped in between)
// must still be signalled once the bridge is synced, or it waits until some
// other endpoint changes (TestRenameAndHide failed so once).
func TestManagerSignalsWhenBridgeSyncs(t *testing.T) {
	st := newMemStore()
	snapshot := model.Event{Kind: model.EventSnapshot, Devices: lights(2)}
	reg := NewRegistry("S", WithStore(st), WithLogger(quietLogger()))
	m, err := NewManager(reg, ManagerOptions{Store: st, Render: testRender(0), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, reg: reg, m: m}
	reg.Apply("zb", snapshot)
	if got := h.deliver(); !slices.Equal(got, []string{"AddOrUpdateReport:S::zb::d000,S::zb::d001"}) {
		t.Fatalf("first run delivered %v", got)
	}
	hidden := true
	if _, err := reg.Configure("S::zb::d001", SettingsPatch{HiddenFromAlexa: &hidden}); err != nil {
		t.Fatal(err)
	}

	// The restart: the same store, the DeleteReport still pending.
	reg = NewRegistry("S", WithStore(st), WithLogger(quietLogger()))
	if m, err = NewManager(reg, ManagerOptions{Store: st, Render: testRender(0), Logger: quietLogger()}); err != nil {
		t.Fatal(err)
	}
	<-m.Changed() // the new manager's first signal
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	<-m.Changed() // Run's, once subscribed: nothing to send before the bridge has said what it has
	if p, err := m.Pending(ctx); err != nil || len(p) != 0 {
		t.Fatalf("before the snapshot: %v %v", p, err)
	}
	for _, c := range reg.Apply("zb", snapshot) { // reachability only: not persisted
		if c.Kind != ChangeReachability {
			t.Fatalf("the same snapshot after the restart made a %s change of %s", c.Kind, c.Entry.Endpoint.ID)
		}
	}
	select {
	case <-m.Changed():
	case <-time.After(10 * time.Second):
		t.Fatal("no signal once the bridge was synced: the pending DeleteReport waits for some other change")
	}
	h = &harness{t: t, st: st, reg: reg, m: m}
	if got := h.deliver(); !slices.Equal(got, []string{"DeleteReport:S::zb::d001"}) {
		t.Fatalf("after the snapshot: %v", got)
	}
}
