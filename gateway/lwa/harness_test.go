package lwa

import (
	"bytes"
	"context"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

// fakeClock is the injectable clock shared by the hub side and the emulator:
// Sleep advances time at once (by advance(n, d) when set) and then runs the
// test's hook, so polling loops run instantly and deterministically.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	advance func(n int, d time.Duration) time.Duration // how far sleep n (1-based) moves the clock
	onSleep func(n int)                                // runs after sleep n
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	n := len(c.sleeps)
	step := d
	if c.advance != nil {
		step = c.advance(n, d)
	}
	c.now = c.now.Add(step)
	hook := c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const testClientID = "amzn1.application-oa2-client.0123456789abcdef"

// harness is an LWA emulator on a real HTTP/2 TLS listener plus a Config for
// the hub side that trusts it and shares its fake clock.
type harness struct {
	t    *testing.T
	sim  *lwatest.Server
	srv  *httptest.Server
	clk  *fakeClock
	logs *syncBuffer
	cfg  Config
}

func newHarness(t *testing.T, opts lwatest.Options) *harness {
	t.Helper()
	clk := newClock()
	opts.Now = clk.Now
	if opts.ClientID == "" {
		opts.ClientID = testClientID
	}
	sim := lwatest.New(opts)
	mux := http.NewServeMux()
	mux.Handle("/auth/", sim.Handler())
	mux.Handle("/sim/", sim.AdminHandler())
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	logs := &syncBuffer{}
	h := &harness{t: t, sim: sim, srv: srv, clk: clk, logs: logs}
	h.cfg = Config{
		ClientID:     testClientID,
		ProductID:    "avshub_test_product",
		SerialNumber: "AVSHUB-0001",
		DataDir:      t.TempDir() + "/data",
		BaseURL:      srv.URL,
		HTTPClient:   srv.Client(),
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:          clk.Now,
		Sleep:        clk.Sleep,
	}
	return h
}

// admin POSTs to the emulator's admin API over HTTPS and returns the status.
func (h *harness) admin(path, body string) int {
	h.t.Helper()
	resp, err := h.srv.Client().Post(h.srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		h.t.Errorf("admin %s: %v", path, err)
		return 0
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// link stores a CBL-linked refresh token minted by the emulator, as if Link
// had run, and returns it.
func (h *harness) link() lwatest.Token {
	h.t.Helper()
	tok := h.sim.Issue()
	if err := newStore(h.cfg.DataDir).save(stored{RefreshToken: tok.RefreshToken, Source: SourceCBL, ClientID: testClientID, LinkedAt: h.clk.Now()}); err != nil {
		h.t.Fatal(err)
	}
	return tok
}

func (h *harness) authorizer() *Authorizer {
	h.t.Helper()
	a, err := NewAuthorizer(h.cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

// pemCert encodes a DER certificate as PEM.
func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// storedToken returns the refresh token in the token file ("" if none).
func (h *harness) storedToken() string {
	h.t.Helper()
	st, err := newStore(h.cfg.DataDir).load()
	if err != nil {
		h.t.Fatal(err)
	}
	return st.RefreshToken
}
