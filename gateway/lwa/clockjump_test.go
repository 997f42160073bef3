package lwa

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

// TestClockJumps: the hub's wall clock jumps (a box without a real-time clock
// boots in the past and NTP moves it; an administrator sets the time). Login
// with Amazon keeps its own time. A jump forward makes the access token look
// expired: one early refresh, nothing breaks. A jump backward makes an expired
// token look valid: AVS refuses it (403), Invalidate forces one refresh, and
// the hub carries on — no error, no retry storm.
func TestClockJumps(t *testing.T) {
	h := newHarness(t, lwatest.Options{AccessTokenLifetime: time.Hour})
	var offset atomic.Int64 // the hub's clock minus LWA's
	h.cfg.Now = func() time.Time { return h.clk.Now().Add(time.Duration(offset.Load())) }
	h.cfg.RefreshHeadStart = 5 * time.Minute
	h.link()
	a := h.authorizer()
	ctx := context.Background()

	tok1, err := a.Token(ctx)
	if err != nil || !h.sim.ValidAccessToken(tok1) {
		t.Fatalf("first token: %v", err)
	}
	base := h.sim.Stats().Refreshes

	// Forward: the hub's clock jumps 3 hours ahead.
	offset.Store(int64(3 * time.Hour))
	tok2, err := a.Token(ctx)
	if err != nil || tok2 == tok1 || !h.sim.ValidAccessToken(tok2) {
		t.Fatalf("after a jump forward: err %v, new token %t, valid %t", err, tok2 != tok1, h.sim.ValidAccessToken(tok2))
	}
	if got := h.sim.Stats().Refreshes - base; got != 1 {
		t.Fatalf("a jump forward made %d refreshes, want 1", got)
	}
	if tok, _ := a.Token(ctx); tok != tok2 {
		t.Fatal("the refreshed token was not kept")
	}

	// Backward: the hub's clock falls 3 hours behind while real time moves on
	// past the token's expiry; the hub still believes its token valid.
	offset.Store(int64(-3 * time.Hour))
	h.clk.Add(61 * time.Minute)
	if h.sim.ValidAccessToken(tok2) {
		t.Fatal("test setup: the token should have expired at LWA")
	}
	stale, err := a.Token(ctx)
	if err != nil || stale != tok2 {
		t.Fatalf("before AVS refuses it the hub keeps its token: %v", err)
	}
	before := h.sim.Stats().Refreshes
	for range 5 { // a burst of 403s from concurrent events
		a.Invalidate(stale)
	}
	tok3, err := a.Token(ctx)
	if err != nil || tok3 == stale || !h.sim.ValidAccessToken(tok3) {
		t.Fatalf("after AVS refused the token: err %v, valid %t", err, h.sim.ValidAccessToken(tok3))
	}
	if got := h.sim.Stats().Refreshes - before; got != 1 {
		t.Fatalf("the 403 burst made %d refreshes, want 1", got)
	}
	if st := a.Status(); !st.Linked || st.NeedsRelink {
		t.Fatalf("status after the jumps: %+v", st)
	}
}
