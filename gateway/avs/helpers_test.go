package avs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/avshub/avshub/gateway/avs"
	"github.com/avshub/avshub/gateway/avstest"
	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// tokens is a TokenSource backed by the LWA emulator: a new token after Invalidate.
type tokens struct {
	lwa         *lwatest.Server
	mu          sync.Mutex
	cur         string
	invalidated int
}

func (t *tokens) Token(context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur == "" {
		t.cur = t.lwa.Issue().AccessToken
	}
	return t.cur, nil
}

func (t *tokens) Invalidate(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok == t.cur {
		t.cur = ""
		t.invalidated++
	}
}

func (t *tokens) invalidations() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.invalidated
}

// memGateway is an in-memory GatewayStore.
type memGateway struct {
	mu  sync.Mutex
	url string
}

func (m *memGateway) LoadGateway(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.url, nil
}

func (m *memGateway) SaveGateway(_ context.Context, u string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.url = u
	return nil
}

func (m *memGateway) get() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.url
}

// source is an in-memory DiscoverySource.
type source struct {
	mu        sync.Mutex
	pending   []avs.DiscoveryReport
	delivered []string
	changed   chan struct{}
}

func newSource(reports ...avs.DiscoveryReport) *source {
	return &source{pending: reports, changed: make(chan struct{}, 1)}
}

func (s *source) PendingReports(context.Context) ([]avs.DiscoveryReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]avs.DiscoveryReport(nil), s.pending...), nil
}

func (s *source) ReportDelivered(_ context.Context, r avs.DiscoveryReport) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.pending {
		if p.Name == r.Name && len(p.Endpoints) == len(r.Endpoints) && string(p.Endpoints[0]) == string(r.Endpoints[0]) {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			s.delivered = append(s.delivered, r.Name)
			return nil
		}
	}
	return errors.New("unknown report")
}

func (s *source) Changed() <-chan struct{} { return s.changed }

func (s *source) add(r avs.DiscoveryReport) {
	s.mu.Lock()
	s.pending = append(s.pending, r)
	s.mu.Unlock()
	s.changed <- struct{}{}
}

func (s *source) deliveredNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.delivered...)
}

// handlerFunc adapts a func to avs.DirectiveHandler.
type handlerFunc func(ctx context.Context, raw []byte) error

func (f handlerFunc) HandleDirective(ctx context.Context, raw []byte) error { return f(ctx, raw) }

// harness is one emulator and one running client.
type harness struct {
	sim    *avstest.Server
	client *avs.Client
	tokens *tokens
}

func fastOptions(sim *avstest.Server, tok *tokens) avs.Options {
	return avs.Options{
		URL:                   sim.URL(),
		TLSConfig:             sim.ClientTLS(),
		Tokens:                tok,
		Backoff:               []time.Duration{time.Millisecond, 2 * time.Millisecond},
		DiscoveryBackoff:      []time.Duration{time.Millisecond},
		PingInterval:          time.Hour,
		EventProcessedTimeout: 5 * time.Second,
		Logger:                quiet,
	}
}

func newSim(t testing.TB, opts avstest.Options) *avstest.Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	sim, err := avstest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// start runs a client against sim until the test ends.
func start(t testing.TB, sim *avstest.Server, edit func(*avs.Options)) *harness {
	t.Helper()
	tok := &tokens{lwa: sim.LWA()}
	o := fastOptions(sim, tok)
	if edit != nil {
		edit(&o)
	}
	c, err := avs.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &harness{sim: sim, client: c, tokens: tok}
}

// eventually polls cond until it holds or 15 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitPostConnect waits until the emulator saw post-connect complete on connection n.
func (h *harness) waitPostConnect(t testing.TB, n int) avstest.State {
	t.Helper()
	st, err := h.sim.WaitForState(ctxT(t), func(s avstest.State) bool {
		return s.Connection >= n && s.PostConnectDone
	})
	if err != nil {
		t.Fatalf("post-connect on connection %d: %v (state %+v)", n, err, st)
	}
	eventually(t, "client CONNECTED", func() bool { return h.client.Status().State == avs.StateConnected })
	return st
}

// inactivity returns a System.UserInactivityReport event (an ordinary event).
func inactivity(seconds int) []byte {
	return []byte(fmt.Sprintf(`{"context":[],"event":{"header":{"namespace":"System","name":"UserInactivityReport","messageId":%q},"payload":{"inactiveTimeInSeconds":%d}}}`,
		uuid.NewString(), seconds))
}

func messageID(event []byte) string {
	var env struct {
		Event struct {
			Header struct {
				MessageID string `json:"messageId"`
			} `json:"header"`
		} `json:"event"`
	}
	_ = json.Unmarshal(event, &env)
	return env.Event.Header.MessageID
}

// switchEndpoint is a connected endpoint AVS accepts (PowerController).
func switchEndpoint(id string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"endpointId":%q,"friendlyName":"Switch %s","description":"A switch","manufacturerName":"avshub","displayCategories":["SWITCH"],"cookie":{"bridge":"virtual"},"capabilities":[{"type":"AlexaInterface","interface":"Alexa","version":"3"},{"type":"AlexaInterface","interface":"Alexa.PowerController","version":"3","properties":{"supported":[{"name":"powerState"}],"proactivelyReported":true,"retrievable":true}}]}`, id, id))
}

var device = avs.DeviceInfo{ProductID: "avshub_test", SerialNumber: "DSN-0001"}
