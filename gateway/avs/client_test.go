package avs_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/avs"
	"github.com/avshub/avshub/gateway/avstest"
	"github.com/avshub/avshub/gateway/metrics"
)

func TestPostConnectOrder(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	src := newSource(
		avs.DiscoveryReport{Name: "AddOrUpdateReport", Endpoints: []json.RawMessage{avs.DeviceEndpoint(device), switchEndpoint("sw-1"), switchEndpoint("sw-2")}},
		avs.DiscoveryReport{Name: "DeleteReport", Endpoints: []json.RawMessage{json.RawMessage(`{"endpointId":"sw-2"}`)}},
	)
	tok := &tokens{lwa: sim.LWA()}
	o := fastOptions(sim, tok)
	o.Discovery = src
	o.Metrics = metrics.New()
	c, err := avs.New(o)
	if err != nil {
		t.Fatal(err)
	}
	// An ordinary event queued before Run must wait for CONNECTED.
	sent := make(chan error, 1)
	go func() { sent <- c.Send(context.Background(), inactivity(60)) }()
	eventually(t, "event queued", func() bool { return c.Status().Queued == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := <-sent; err != nil {
		t.Fatalf("Send: %v", err)
	}
	st := sim.State()
	want := []string{"Alexa.ApiGateway.VerifyGateway", "Alexa.Discovery.AddOrUpdateReport",
		"Alexa.Discovery.DeleteReport", "System.SynchronizeState", "System.UserInactivityReport"}
	if !slices.Equal(st.PostConnectSequence, want) {
		t.Errorf("events on the connection = %v, want %v", st.PostConnectSequence, want)
	}
	if len(st.Violations) != 0 {
		t.Errorf("violations: %v", st.Violations)
	}
	if got := src.deliveredNames(); !slices.Equal(got, []string{"AddOrUpdateReport", "DeleteReport"}) {
		t.Errorf("delivered reports = %v", got)
	}
	var ids []string
	for _, e := range sim.Endpoints() {
		var v struct{ EndpointID string }
		_ = json.Unmarshal(e, &v)
		ids = append(ids, v.EndpointID)
	}
	if want := []string{avs.DeviceEndpointID(device), "sw-1"}; !slices.Equal(ids, want) {
		t.Errorf("endpoints Alexa knows = %v, want %v", ids, want)
	}
	// The scope token was filled in at send time with the live token.
	rec, _, err := sim.WaitForEvent(ctxT(t), 0, avstest.Named("Alexa.Discovery.AddOrUpdateReport", http.StatusAccepted))
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := tok.Token(context.Background())
	if !strings.Contains(string(rec.Event), `"token":"`+cur+`"`) {
		t.Errorf("AddOrUpdateReport scope does not carry the current token")
	}
	var states []avs.State
	for _, tr := range c.Status().History {
		states = append(states, tr.State)
	}
	wantStates := []avs.State{avs.StateIdle, avs.StateAuthorizing, avs.StateConnecting, avs.StatePostConnecting, avs.StateConnected}
	if !slices.Equal(states, wantStates) {
		t.Errorf("state history = %v, want %v", states, wantStates)
	}
	for _, m := range []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"avshub_events_total", map[string]string{"name": "Alexa.ApiGateway.VerifyGateway", "status": "204"}, 1},
		{"avshub_events_total", map[string]string{"name": "Alexa.Discovery.AddOrUpdateReport", "status": "202"}, 1},
		{"avshub_discovery_reports_total", map[string]string{"name": "DeleteReport"}, 1},
		{"avshub_avs_connection_state", map[string]string{"state": "CONNECTED"}, 1},
		{"avshub_avs_connection_state", map[string]string{"state": "POST_CONNECTING"}, 0},
	} {
		if got := metricValue(t, o.Metrics, m.family, m.labels); got != m.want {
			t.Errorf("%s%v = %v, want %v", m.family, m.labels, got, m.want)
		}
	}
}

// metricValue returns the value of one series (-1 when absent).
func metricValue(t *testing.T, m *metrics.Metrics, family string, labels map[string]string) float64 {
	t.Helper()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != family {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			for _, lp := range s.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue series
				}
			}
			if s.GetCounter() != nil {
				return s.GetCounter().GetValue()
			}
			return s.GetGauge().GetValue()
		}
	}
	return -1
}

func TestDiscoveryWhileConnected(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	src := newSource()
	h := start(t, sim, func(o *avs.Options) { o.Discovery = src })
	h.waitPostConnect(t, 1)
	src.add(avs.DiscoveryReport{Name: "AddOrUpdateReport", Endpoints: []json.RawMessage{switchEndpoint("sw-9")}})
	eventually(t, "report delivered", func() bool { return len(src.deliveredNames()) == 1 })
	if _, ok := sim.Endpoint("sw-9"); !ok {
		t.Error("the emulator does not know sw-9")
	}
}

func TestPostConnectRetries(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	src := newSource(avs.DiscoveryReport{Name: "AddOrUpdateReport", Endpoints: []json.RawMessage{switchEndpoint("sw-1")}})
	// VerifyGateway is answered 500 once (retried with backoff); the first
	// report gets 202 but no Alexa.EventProcessed, so it is sent again.
	for _, f := range []avstest.Fault{{Kind: avstest.FaultStatus, Status: 500}, {Kind: avstest.FaultNoEventProcessed}} {
		if err := sim.Inject(f); err != nil {
			t.Fatal(err)
		}
	}
	h := start(t, sim, func(o *avs.Options) {
		o.Discovery = src
		o.EventProcessedTimeout = 50 * time.Millisecond
	})
	h.waitPostConnect(t, 1)
	var got []string
	for _, r := range sim.Events() {
		got = append(got, fmt.Sprintf("%s %d", r.Name(), r.Status))
	}
	want := []string{"Alexa.ApiGateway.VerifyGateway 500", "Alexa.ApiGateway.VerifyGateway 204",
		"Alexa.Discovery.AddOrUpdateReport 202", "Alexa.Discovery.AddOrUpdateReport 202", "System.SynchronizeState 204"}
	if !slices.Equal(got, want) {
		t.Errorf("events = %v, want %v", got, want)
	}
	if got := src.deliveredNames(); len(got) != 1 {
		t.Errorf("delivered = %v", got)
	}
}

func TestReconnect(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*avs.Options)
		faults []avstest.Fault
	}{
		{"goaway", nil, []avstest.Fault{{Kind: avstest.FaultGoAway}}},
		{"goaway keeping streams", nil, []avstest.Fault{{Kind: avstest.FaultGoAway, Keep: true}}},
		{"dropped downchannel", nil, []avstest.Fault{{Kind: avstest.FaultDropDownchannel}}},
		{"downchannel refused 403 on reconnect", nil, []avstest.Fault{{Kind: avstest.FaultExpireToken}, {Kind: avstest.FaultDropDownchannel}}},
		{"downchannel answered 503 on reconnect", nil, []avstest.Fault{{Kind: avstest.FaultStatus, Target: avstest.TargetDirectives, Status: 503, Count: 2}, {Kind: avstest.FaultDropDownchannel}}},
		{"ping answered 500", func(o *avs.Options) { o.PingInterval = 20 * time.Millisecond },
			[]avstest.Fault{{Kind: avstest.FaultStatus, Target: avstest.TargetPing, Status: 500}}},
		{"ping times out", func(o *avs.Options) {
			o.PingInterval = 20 * time.Millisecond
			o.PingTimeout = 50 * time.Millisecond
		}, []avstest.Fault{{Kind: avstest.FaultStall, Target: avstest.TargetPing}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim := newSim(t, avstest.Options{})
			h := start(t, sim, tc.edit)
			first := h.waitPostConnect(t, 1)
			for _, f := range tc.faults {
				if err := sim.Inject(f); err != nil {
					t.Fatal(err)
				}
			}
			st := h.waitPostConnect(t, first.Connection+1)
			if st.PostConnectSequence[0] != "Alexa.ApiGateway.VerifyGateway" {
				t.Errorf("new connection began with %v", st.PostConnectSequence)
			}
			if len(st.Violations) != 0 {
				t.Errorf("violations: %v", st.Violations)
			}
			if tc.name == "downchannel refused 403 on reconnect" && h.tokens.invalidations() != 1 {
				t.Errorf("Invalidate called %d times, want 1", h.tokens.invalidations())
			}
			if h.client.Status().Connects < 2 {
				t.Errorf("Connects = %d", h.client.Status().Connects)
			}
			// The new connection works.
			if err := h.client.Send(ctxT(t), inactivity(1)); err != nil {
				t.Errorf("Send after reconnect: %v", err)
			}
		})
	}
}

// TestVerifyGatewayRefused: a post-connect failure ends the connection (the
// downchannel included) and the client connects again.
func TestVerifyGatewayRefused(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultStatus, Status: 400}); err != nil {
		t.Fatal(err)
	}
	h := start(t, sim, nil)
	st := h.waitPostConnect(t, 2)
	if st.Connections != 2 {
		t.Errorf("connections = %d, want 2", st.Connections)
	}
	recs := sim.Events()
	if len(recs) == 0 || recs[0].Name() != "Alexa.ApiGateway.VerifyGateway" || recs[0].Status != 400 || recs[0].Conn != 1 {
		t.Errorf("first event: %+v", recs[0])
	}
	if h.client.Status().LastError == "" {
		t.Error("Status().LastError is empty after a failed connection")
	}
}

func TestPing(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	h := start(t, sim, func(o *avs.Options) { o.PingInterval = 10 * time.Millisecond })
	h.waitPostConnect(t, 1)
	if _, err := sim.WaitForState(ctxT(t), func(s avstest.State) bool { return s.Pings >= 3 }); err != nil {
		t.Fatal(err)
	}
	st := h.client.Status()
	if st.LastPing.IsZero() || st.LastPingError != "" || sim.State().Connections != 1 {
		t.Errorf("after pings: %+v, emulator connections %d", st, sim.State().Connections)
	}
}

// TestEventTimeout: an event whose response headers never come is resent on a
// new connection, once.
func TestEventTimeout(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	// The timeout must end the stalled POST but never a healthy one: at 100 ms
	// a loaded machine's answer on the new connection came later, and the event
	// was sent a third time (recorded on connections 2 and 3).
	h := start(t, sim, func(o *avs.Options) { o.EventTimeout = time.Second })
	h.waitPostConnect(t, 1)
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultStall}); err != nil {
		t.Fatal(err)
	}
	ev := inactivity(3)
	if err := h.client.Send(ctxT(t), ev); err != nil {
		t.Fatal(err)
	}
	var conns []int
	for _, r := range sim.Events() {
		if messageID(r.Event) == messageID(ev) {
			conns = append(conns, r.Conn)
		}
	}
	if !slices.Equal(conns, []int{2}) {
		t.Errorf("event recorded on connections %v, want [2]", conns)
		for _, r := range sim.Events() {
			t.Logf("conn %d status %d %s %s", r.Conn, r.Status, r.Name(), messageID(r.Event))
		}
	}
}

func TestForbiddenRefreshesOnce(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	h := start(t, sim, nil)
	h.waitPostConnect(t, 1)
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultExpireToken}); err != nil {
		t.Fatal(err)
	}
	ev := inactivity(5)
	if err := h.client.Send(ctxT(t), ev); err != nil {
		t.Fatalf("Send with an expired token: %v", err)
	}
	if n := h.tokens.invalidations(); n != 1 {
		t.Errorf("Invalidate called %d times, want 1", n)
	}
	var statuses []int
	for _, r := range sim.Events() {
		if messageID(r.Event) == messageID(ev) {
			statuses = append(statuses, r.Status)
		}
	}
	if !slices.Equal(statuses, []int{403, 204}) {
		t.Errorf("statuses of the event = %v, want [403 204]", statuses)
	}

	// A second 403 with the fresh token is final: one refresh only.
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultStatus, Status: 403, Count: 2}); err != nil {
		t.Fatal(err)
	}
	err := h.client.Send(ctxT(t), inactivity(6))
	var exc *avs.Exception
	if !errors.As(err, &exc) || exc.Status != 403 || exc.Code != "UNAUTHORIZED_REQUEST_EXCEPTION" {
		t.Fatalf("Send = %v, want *avs.Exception 403 UNAUTHORIZED_REQUEST_EXCEPTION", err)
	}
	if n := h.tokens.invalidations(); n != 2 {
		t.Errorf("Invalidate called %d times in all, want 2", n)
	}
}

func TestBackoff(t *testing.T) {
	for _, status := range []int{429, 500, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			sim := newSim(t, avstest.Options{})
			h := start(t, sim, nil)
			h.waitPostConnect(t, 1)
			if err := sim.Inject(avstest.Fault{Kind: avstest.FaultStatus, Status: status, Count: 2}); err != nil {
				t.Fatal(err)
			}
			ev := inactivity(7)
			if err := h.client.Send(ctxT(t), ev); err != nil {
				t.Fatalf("Send: %v", err)
			}
			var statuses []int
			for _, r := range sim.Events() {
				if messageID(r.Event) == messageID(ev) {
					statuses = append(statuses, r.Status)
				}
			}
			if !slices.Equal(statuses, []int{status, status, 204}) {
				t.Errorf("statuses = %v, want [%d %d 204]", statuses, status, status)
			}
			// More failures than MaxRetries: the exception reaches the caller.
			if err := sim.Inject(avstest.Fault{Kind: avstest.FaultStatus, Status: status, Count: 10}); err != nil {
				t.Fatal(err)
			}
			err := h.client.Send(ctxT(t), inactivity(8))
			var exc *avs.Exception
			if !errors.As(err, &exc) || exc.Status != status || !exc.Retryable() {
				t.Fatalf("Send = %v, want *avs.Exception %d", err, status)
			}
			if status == 429 && exc.Code != "THROTTLING_EXCEPTION" {
				t.Errorf("code = %q", exc.Code)
			}
			if h.sim.State().Connection != 1 {
				t.Error("a throttled event made the client reconnect")
			}
		})
	}
}

func TestNoEventLostAcrossReconnect(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	h := start(t, sim, nil)
	h.waitPostConnect(t, 1)
	// The next event stalls (no answer); the connection then drops under it.
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultStall}); err != nil {
		t.Fatal(err)
	}
	stalled := inactivity(11)
	res := make(chan error, 1)
	go func() { res <- h.client.Send(context.Background(), stalled) }()
	if _, err := sim.WaitForState(ctxT(t), func(s avstest.State) bool { return s.HeldStreams == 1 }); err != nil {
		t.Fatal(err)
	}
	// More events queue while the connection goes away.
	var more [][]byte
	for i := range 5 {
		more = append(more, inactivity(100+i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(more))
	for _, ev := range more {
		wg.Go(func() { errs <- h.client.Send(context.Background(), ev) })
	}
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultDropDownchannel}); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatalf("stalled event: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	got := map[string]int{}
	for _, r := range sim.Events() {
		if r.Status == 204 {
			got[messageID(r.Event)]++
		}
	}
	for _, ev := range append(more, stalled) {
		if got[messageID(ev)] != 1 {
			t.Errorf("event %s delivered %d times, want 1", messageID(ev), got[messageID(ev)])
		}
	}
	if v := sim.State().Violations; len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestEventStreamLimit(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	h := start(t, sim, nil)
	h.waitPostConnect(t, 1)
	// Every event gets its response headers and then a body that does not end.
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultStall, Phase: "body", Count: 100}); err != nil {
		t.Fatal(err)
	}
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- h.client.Send(context.Background(), inactivity(i)) })
	}
	if _, err := sim.WaitForState(ctxT(t), func(s avstest.State) bool { return s.HeldStreams == 8 }); err != nil {
		t.Fatal(err)
	}
	eventually(t, "client at 8 streams", func() bool { return h.client.Status().InFlight == 8 })
	if st := sim.State(); st.OpenEventStreams != 8 || st.Events != 8+2 {
		t.Errorf("with 8 streams held: open=%d events=%d; want 8 open and no ninth event started", st.OpenEventStreams, st.Events)
	}
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultClear}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}
	if m := sim.State().MaxEventStreams; m != 8 {
		t.Errorf("most concurrent event streams = %d, want 8", m)
	}
}

func TestSetGateway(t *testing.T) {
	b := newSim(t, avstest.Options{})
	a := newSim(t, avstest.Options{LWA: b.LWA(), SetGateway: b.URL()})
	store := &memGateway{}
	src := newSource(avs.DiscoveryReport{Name: "AddOrUpdateReport", Endpoints: []json.RawMessage{avs.DeviceEndpoint(device)}})
	h := start(t, a, func(o *avs.Options) {
		o.Gateway = store
		o.Discovery = src
		o.TLSConfig = bothCAs(a, b)
	})
	if _, err := b.WaitForState(ctxT(t), func(s avstest.State) bool { return s.PostConnectDone }); err != nil {
		t.Fatal(err)
	}
	eventually(t, "CONNECTED at B", func() bool { return h.client.Status().State == avs.StateConnected })
	if store.get() != b.URL() {
		t.Errorf("persisted gateway = %q, want %q", store.get(), b.URL())
	}
	if g := h.client.Status().Gateway; g != b.URL() {
		t.Errorf("Status().Gateway = %q", g)
	}
	var atA []string
	for _, r := range a.Events() {
		atA = append(atA, fmt.Sprintf("%s %d", r.Name(), r.Status))
	}
	if !slices.Equal(atA, []string{"Alexa.ApiGateway.VerifyGateway 200"}) {
		t.Errorf("events at the old gateway = %v, want only VerifyGateway answered 200 (SetGateway)", atA)
	}
	if _, ok := b.Endpoint(avs.DeviceEndpointID(device)); !ok {
		t.Error("discovery was not sent at the new gateway")
	}

	// A new client with the same store goes straight to B.
	before := a.State().Connections
	h2 := start(t, a, func(o *avs.Options) {
		o.Gateway = store
		o.TLSConfig = bothCAs(a, b)
	})
	if _, err := b.WaitForState(ctxT(t), func(s avstest.State) bool { return s.Connections >= 2 && s.PostConnectDone }); err != nil {
		t.Fatal(err)
	}
	eventually(t, "second client CONNECTED", func() bool { return h2.client.Status().State == avs.StateConnected })
	if a.State().Connections != before {
		t.Error("the second client connected to the old gateway")
	}
}

func TestSetGatewayOnDownchannel(t *testing.T) {
	b := newSim(t, avstest.Options{})
	a := newSim(t, avstest.Options{LWA: b.LWA()})
	store := &memGateway{}
	h := start(t, a, func(o *avs.Options) {
		o.Gateway = store
		o.TLSConfig = bothCAs(a, b)
	})
	h.waitPostConnect(t, 1)
	// An unusable gateway is refused with ExceptionEncountered; the connection stays.
	bad := `{"directive":{"header":{"namespace":"Alexa.ApiGateway","name":"SetGateway","messageId":"m1"},"payload":{"gateway":"http://insecure.example"}}}`
	if err := a.SendRaw([]byte(bad)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.WaitForEvent(ctxT(t), 0, avstest.Named("System.ExceptionEncountered", 204)); err != nil {
		t.Fatal(err)
	}
	if store.get() != "" || a.State().Connections != 1 {
		t.Fatalf("a bad SetGateway changed the gateway: %q", store.get())
	}
	good := fmt.Sprintf(`{"directive":{"header":{"namespace":"Alexa.ApiGateway","name":"SetGateway","messageId":"m2"},"payload":{"gateway":%q}}}`, b.URL())
	if err := a.SendRaw([]byte(good)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitForState(ctxT(t), func(s avstest.State) bool { return s.PostConnectDone }); err != nil {
		t.Fatal(err)
	}
	if store.get() != b.URL() {
		t.Errorf("persisted gateway = %q, want %q", store.get(), b.URL())
	}
}

func TestDirectives(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	var h *harness
	handler := handlerFunc(func(ctx context.Context, raw []byte) error {
		hdr, _, err := avs.DecodeDirectiveHeader(raw)
		if err != nil {
			return err
		}
		switch hdr.Qualified() {
		case "Alexa.PowerController.TurnOn":
			return h.client.Send(ctx, response(hdr.CorrelationToken, "sw-1"))
		case "Alexa.ModeController.SetMode":
			if err := h.client.Send(ctx, deferred(hdr.CorrelationToken)); err != nil {
				return err
			}
			return h.client.Send(ctx, response(hdr.CorrelationToken, "sw-1"))
		case "Test.Panic":
			panic("handler bug")
		case "Test.Garbled":
			return fmt.Errorf("%w: payload is garbled", avs.ErrMalformed)
		}
		return fmt.Errorf("%w: %s", avs.ErrUnsupported, hdr.Qualified())
	})
	h = start(t, sim, func(o *avs.Options) { o.Handler = handler })
	h.waitPostConnect(t, 1)

	res, err := sim.SendDirective(ctxT(t), avstest.DirectiveRequest{Namespace: "Alexa.PowerController", Name: "TurnOn", EndpointID: "sw-1"}, true)
	if err != nil || !res.Complete || len(res.Events) != 1 {
		t.Fatalf("TurnOn: %+v, %v", res, err)
	}
	res, err = sim.SendDirective(ctxT(t), avstest.DirectiveRequest{Namespace: "Alexa.ModeController", Name: "SetMode", EndpointID: "sw-1", Instance: "Lock.Mode", Payload: json.RawMessage(`{"mode":"Lock.Locked"}`)}, true)
	if err != nil || !res.Complete || len(res.Events) != 2 {
		t.Fatalf("SetMode: %+v, %v", res, err)
	}
	if !strings.Contains(string(res.Events[0]), `"DeferredResponse"`) || !strings.Contains(string(res.Events[1]), `"Response"`) {
		t.Errorf("deferred answer = %s", res.Events)
	}

	// The same through the admin API, as a demo script would do it.
	admin := httptest.NewServer(sim.AdminHandler())
	defer admin.Close()
	resp, err := http.Post(admin.URL+"/sim/directive?wait=10s", "application/json",
		strings.NewReader(`{"namespace":"Alexa.ModeController","name":"SetMode","endpointId":"sw-1","instance":"Lock.Mode","payload":{"mode":"Lock.Locked"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var viaAdmin avstest.DirectiveResult
	err = json.NewDecoder(resp.Body).Decode(&viaAdmin)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !viaAdmin.Complete || len(viaAdmin.Events) != 2 {
		t.Errorf("admin SetMode?wait: %d %+v %v", resp.StatusCode, viaAdmin, err)
	}

	cases := []struct {
		name, raw, wantType string
	}{
		{"not JSON", `{"directive":`, avs.ExceptionUnexpectedInformation},
		{"no header", `{"directive":{"payload":{}}}`, avs.ExceptionUnexpectedInformation},
		{"unsupported", `{"directive":{"header":{"namespace":"Foo","name":"Bar","messageId":"m1"},"payload":{}}}`, avs.ExceptionUnsupportedOperation},
		{"malformed for the handler", `{"directive":{"header":{"namespace":"Test","name":"Garbled","messageId":"m2"},"payload":{}}}`, avs.ExceptionUnexpectedInformation},
		{"handler panics", `{"directive":{"header":{"namespace":"Test","name":"Panic","messageId":"m3"},"payload":{}}}`, avs.ExceptionInternalError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			from := len(sim.Events())
			if err := sim.SendRaw([]byte(tc.raw)); err != nil {
				t.Fatal(err)
			}
			rec, _, err := sim.WaitForEvent(ctxT(t), from, avstest.Named("System.ExceptionEncountered", 204))
			if err != nil {
				t.Fatal(err)
			}
			var ev struct {
				Event struct {
					Payload struct {
						UnparsedDirective string
						Error             struct{ Type string }
					}
				}
			}
			_ = json.Unmarshal(rec.Event, &ev)
			if ev.Event.Payload.Error.Type != tc.wantType || ev.Event.Payload.UnparsedDirective != tc.raw {
				t.Errorf("ExceptionEncountered = %s", rec.Event)
			}
		})
	}
	if st := sim.State(); st.Connection != 1 || st.Connections != 1 {
		t.Errorf("bad directives cost the connection: %+v", st)
	}
}

// bothCAs trusts the CAs of two emulators.
func bothCAs(a, b *avstest.Server) *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(a.CAPEM())
	pool.AppendCertsFromPEM(b.CAPEM())
	return &tls.Config{RootCAs: pool}
}

func response(token, endpoint string) []byte {
	return []byte(fmt.Sprintf(`{"context":{"properties":[{"namespace":"Alexa.PowerController","name":"powerState","value":"ON","timeOfSample":"2024-01-01T12:00:00.00Z","uncertaintyInMilliseconds":0}]},"event":{"header":{"namespace":"Alexa","name":"Response","messageId":"5f8a426e-01e4-4cc9-8b79-65f8bd0fd8a4","correlationToken":%q,"payloadVersion":"3"},"endpoint":{"endpointId":%q},"payload":{}}}`, token, endpoint))
}

func deferred(token string) []byte {
	return []byte(fmt.Sprintf(`{"event":{"header":{"namespace":"Alexa","name":"DeferredResponse","messageId":"6f8a426e-01e4-4cc9-8b79-65f8bd0fd8a4","correlationToken":%q,"payloadVersion":"3"},"payload":{"estimatedDeferralInSeconds":7}}}`, token))
}

func TestQueueBounded(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	tok := &tokens{lwa: sim.LWA()}
	o := fastOptions(sim, tok)
	o.QueueSize = 2
	c, err := avs.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 2 {
		if err := c.Send(ctx, inactivity(1)); !errors.Is(err, context.Canceled) {
			t.Fatalf("Send = %v, want context.Canceled (still queued)", err)
		}
	}
	if err := c.Send(ctx, inactivity(1)); !errors.Is(err, avs.ErrQueueFull) {
		t.Fatalf("third Send = %v, want ErrQueueFull", err)
	}
	if err := c.Send(context.Background(), []byte(`{"event":{}}`)); err == nil {
		t.Error("Send accepted an event without a header")
	}
	// Run ends at once (cancelled context): the queued events fail, later Sends too.
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(context.Background(), inactivity(1)); !errors.Is(err, avs.ErrStopped) {
		t.Errorf("Send after Run = %v, want ErrStopped", err)
	}
	if st := c.Status(); st.State != avs.StateStopped || st.Queued != 0 {
		t.Errorf("status after Run: %+v", st)
	}
}

// TestDirectiveAfterGoAway: a directive AVS writes on the downchannel after
// its GOAWAY, while the client has ended that connection and waits to
// connect again, still reaches the handler (HTTP/2 lets streams opened
// before a GOAWAY finish). The client used to close the whole connection at
// once, and the directive was lost.
func TestDirectiveAfterGoAway(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	got := make(chan string, 4)
	h := start(t, sim, func(o *avs.Options) {
		o.Backoff = []time.Duration{2 * time.Second}
		o.Handler = handlerFunc(func(_ context.Context, raw []byte) error {
			hdr, _, err := avs.DecodeDirectiveHeader(raw)
			if err == nil {
				got <- hdr.Qualified()
			}
			return nil
		})
	})
	first := h.waitPostConnect(t, 1)
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultGoAway, Keep: true}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the client waiting to connect again", func() bool { return h.client.Status().State == avs.StateWaiting })
	if st := sim.State(); st.Connection != first.Connection {
		t.Fatalf("the emulator's current connection is %d, want the old one (%d): the client closed its downchannel on GOAWAY", st.Connection, first.Connection)
	}
	if _, err := sim.SendDirective(ctxT(t), avstest.DirectiveRequest{Namespace: "Alexa", Name: "ReportState", EndpointID: "sw-1"}, false); err != nil {
		t.Fatalf("pushing a directive on the downchannel kept after GOAWAY: %v", err)
	}
	select {
	case name := <-got:
		if name != "Alexa.ReportState" {
			t.Errorf("handler got %s, want Alexa.ReportState", name)
		}
	case <-ctxT(t).Done():
		t.Fatal("the directive written after GOAWAY never reached the handler")
	}
	h.waitPostConnect(t, first.Connection+1)
}
