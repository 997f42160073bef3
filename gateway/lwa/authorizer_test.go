package lwa

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

// TestRefreshBeforeExpiry: the first Token refreshes (no access token in
// memory yet); later calls reuse it until the head start before expiry, when
// one refresh runs and the rotated refresh token is persisted.
func TestRefreshBeforeExpiry(t *testing.T) {
	h := newHarness(t, lwatest.Options{AccessTokenLifetime: time.Hour})
	h.cfg.RefreshHeadStart = 10 * time.Minute
	h.link()
	a := h.authorizer()
	ctx := context.Background()

	tok1, err := a.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !h.sim.ValidAccessToken(tok1) {
		t.Fatal("first token is not valid at LWA")
	}
	if got := h.sim.Stats().Refreshes; got != 1 {
		t.Fatalf("refreshes = %d, want 1", got)
	}
	rt1 := h.storedToken()

	h.clk.Add(49*time.Minute + 59*time.Second) // 10m01s before expiry
	for range 5 {
		if tok, err := a.Token(ctx); err != nil || tok != tok1 {
			t.Fatalf("Token before the head start = %v, %v; want the same token", err, tok == tok1)
		}
	}
	if got := h.sim.Stats().Refreshes; got != 1 {
		t.Fatalf("refreshes = %d, want still 1", got)
	}

	h.clk.Add(2 * time.Second) // inside the head start, token still valid
	tok2, err := a.Token(ctx)
	if err != nil || tok2 == tok1 || !h.sim.ValidAccessToken(tok2) {
		t.Fatalf("Token inside the head start = %v (new: %v)", err, tok2 != tok1)
	}
	if got := h.sim.Stats().Refreshes; got != 2 {
		t.Fatalf("refreshes = %d, want 2", got)
	}
	rt2 := h.storedToken()
	if rt2 == rt1 || !h.sim.ValidRefreshToken(rt2) || h.sim.ValidRefreshToken(rt1) {
		t.Error("the rotated refresh token was not persisted")
	}
	s := a.Status()
	if !s.Linked || s.NeedsRelink || !s.AccessTokenExpiry.Equal(h.clk.Now().Add(time.Hour)) {
		t.Errorf("status = %+v", s)
	}
}

// TestHeadStartCappedAtHalfLifetime: with 2-minute tokens a 10-minute head
// start would refresh on every call; it is capped at half the lifetime.
func TestHeadStartCappedAtHalfLifetime(t *testing.T) {
	h := newHarness(t, lwatest.Options{AccessTokenLifetime: 2 * time.Minute})
	h.link()
	a := h.authorizer()
	tok1, err := a.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h.clk.Add(59 * time.Second)
	if tok, _ := a.Token(context.Background()); tok != tok1 {
		t.Error("refreshed before half the lifetime")
	}
	h.clk.Add(2 * time.Second)
	if tok, _ := a.Token(context.Background()); tok == tok1 {
		t.Error("did not refresh after half the lifetime")
	}
}

// fakeAVS is an AVS-side caller: an HTTPS endpoint that accepts only live LWA
// access tokens (as avstest does) and a send function that, like avs.Client,
// calls Invalidate on 403 and retries once with a fresh token.
type fakeAVS struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen int
}

func newFakeAVS(t *testing.T, sim *lwatest.Server) *fakeAVS {
	f := &fakeAVS{}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.seen++
		f.mu.Unlock()
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !sim.ValidAccessToken(tok) {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"payload":{"code":"UNAUTHORIZED_REQUEST_EXCEPTION","description":"Unable to authenticate the request. Please provide a valid authorization token."}}`)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	f.srv.EnableHTTP2 = true
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAVS) send(ctx context.Context, ts interface {
	Token(context.Context) (string, error)
	Invalidate(string)
}) (int, error) {
	var status int
	for attempt := 0; attempt < 2; attempt++ {
		tok, err := ts.Token(ctx)
		if err != nil {
			return 0, err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/v20160207/events", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			return 0, err
		}
		_ = resp.Body.Close()
		status = resp.StatusCode
		if status != http.StatusForbidden {
			return status, nil
		}
		ts.Invalidate(tok)
	}
	return status, nil
}

// TestForbiddenRefreshesAtOnce: AVS rejects a token that LWA expired early;
// Invalidate makes the next Token refresh at once and the event is retried
// and delivered. Concurrent 403s for the same token cause one refresh.
func TestForbiddenRefreshesAtOnce(t *testing.T) {
	h := newHarness(t, lwatest.Options{})
	h.link()
	a := h.authorizer()
	avs := newFakeAVS(t, h.sim)
	ctx := context.Background()
	if st, err := avs.send(ctx, a); err != nil || st != http.StatusNoContent {
		t.Fatalf("first event: %d %v", st, err)
	}
	before := h.sim.Stats().Refreshes

	h.sim.ExpireAccessTokens() // LWA considers the token dead long before the hub expected
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Go(func() {
			st, err := avs.send(ctx, a)
			if err != nil {
				t.Error(err)
			}
			statuses[i] = st
		})
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusNoContent {
			t.Errorf("event %d: HTTP %d, want delivered after the retry", i, st)
		}
	}
	if got := h.sim.Stats().Refreshes - before; got != 1 {
		t.Errorf("refreshes after the 403 burst = %d, want exactly 1", got)
	}
	// Invalidating a stale token is a no-op.
	tok, _ := a.Token(ctx)
	a.Invalidate("Atza|stale")
	if again, _ := a.Token(ctx); again != tok {
		t.Error("Invalidate of a stale token forced a refresh")
	}
}

// TestUnrecoverableNeedsRelink: after a revocation (invalid_grant) or a
// configuration error (invalid_client), Token reports "needs re-link", one
// clear line is logged, the state is persisted, and no further request
// reaches LWA however often the hub asks, also after a restart.
func TestUnrecoverableNeedsRelink(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(h *harness)
		code    string
	}{
		{"revoked", func(h *harness) {
			if st := h.admin(lwatest.RevokePath, ""); st != 200 {
				h.t.Fatalf("revoke: HTTP %d", st)
			}
		}, "invalid_grant"},
		{"wrong client id", func(h *harness) { h.cfg.ClientID = "amzn1.application-oa2-client.other" }, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, lwatest.Options{AccessTokenLifetime: time.Hour})
			h.link()
			a := h.authorizer()
			avs := newFakeAVS(t, h.sim)
			ctx := context.Background()
			if st, err := avs.send(ctx, a); err != nil || st != http.StatusNoContent {
				t.Fatalf("first event: %d %v", st, err)
			}
			tc.breakIt(h)
			a = h.authorizer() // picks up a changed config, if any
			h.sim.ExpireAccessTokens()
			before := h.sim.Stats().TokenRequests

			for range 100 {
				_, err := avs.send(ctx, a)
				if !errors.Is(err, ErrNeedsRelink) || !strings.Contains(err.Error(), tc.code) {
					t.Fatalf("send = %v, want ErrNeedsRelink (%s)", err, tc.code)
				}
				h.clk.Add(time.Minute)
			}
			if got := h.sim.Stats().TokenRequests - before; got != 1 {
				t.Errorf("LWA token requests after the failure = %d, want 1 (no retry storm)", got)
			}
			s := a.Status()
			if s.Linked || !s.NeedsRelink || !strings.Contains(s.Reason, tc.code) {
				t.Errorf("status = %+v", s)
			}
			if n := strings.Count(h.logs.String(), "avshub link"); n != 1 {
				t.Errorf("log mentions `avshub link` %d times, want once:\n%s", n, h.logs.String())
			}
			if h.storedToken() != "" {
				t.Error("the refused refresh token is still stored")
			}
			// A restart does not retry either.
			b := h.authorizer()
			if err := b.Ready(); !errors.Is(err, ErrNeedsRelink) {
				t.Errorf("Ready after restart = %v", err)
			}
			if _, err := b.Token(ctx); !errors.Is(err, ErrNeedsRelink) {
				t.Errorf("Token after restart = %v", err)
			}
			if got := h.sim.Stats().TokenRequests - before; got != 1 {
				t.Errorf("LWA token requests after restart = %d, want still 1", got)
			}
			ls, err := LoadStatus(h.cfg)
			if err != nil || !ls.NeedsRelink {
				t.Errorf("LoadStatus = %+v, %v", ls, err)
			}
			var out bytes.Buffer
			_ = WriteStatus(&out, ls, h.clk.Now())
			if !strings.Contains(out.String(), "NEEDS RE-LINK") || !strings.Contains(out.String(), "avshub link") {
				t.Errorf("status text:\n%s", out.String())
			}
		})
	}
}

// TestTransientFailuresBackOff: while LWA answers 503, at most one request is
// sent per backoff step however often Token is called; a still-valid token is
// served meanwhile, and the first success clears the failure.
func TestTransientFailuresBackOff(t *testing.T) {
	h := newHarness(t, lwatest.Options{AccessTokenLifetime: time.Hour})
	h.link()
	a := h.authorizer()
	ctx := context.Background()
	tok1, err := a.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.sim.FailNext(1000, 503)
	h.clk.Add(55 * time.Minute) // inside the head start: refresh due, token still valid
	before := h.sim.Stats().TokenRequests
	for range 50 {
		tok, err := a.Token(ctx)
		if err != nil || tok != tok1 {
			t.Fatalf("Token during backoff = %v; want the still-valid token", err)
		}
	}
	if got := h.sim.Stats().TokenRequests - before; got != 1 {
		t.Errorf("requests = %d, want 1 within the first backoff step", got)
	}
	s := a.Status()
	if s.LastError == "" || s.RetryAt.IsZero() || !s.Linked {
		t.Errorf("status during backoff = %+v", s)
	}

	h.clk.Add(6 * time.Minute) // the token has expired; backoff steps pass one per minute
	for i := range 5 {
		_, err := a.Token(ctx)
		if err == nil || errors.Is(err, ErrNeedsRelink) {
			t.Fatalf("Token with an expired token and LWA down = %v", err)
		}
		if got := h.sim.Stats().TokenRequests - before; got != 2+i {
			t.Fatalf("requests = %d, want %d", got, 2+i)
		}
		for range 10 {
			_, _ = a.Token(ctx) // no request while backing off
		}
		h.clk.Add(91 * time.Second) // longer than the largest step (60 s + 50 %)
	}
	h.sim.FailNext(0, 0)
	tok, err := a.Token(ctx)
	if err != nil || !h.sim.ValidAccessToken(tok) {
		t.Fatalf("Token after LWA recovered = %v", err)
	}
	if s := a.Status(); s.LastError != "" {
		t.Errorf("status keeps the old error: %+v", s)
	}
}

// TestNotLinkedThenLinked: an unlinked hub sends nothing, and picks up the
// tokens `avshub link` stores while it runs.
func TestNotLinkedThenLinked(t *testing.T) {
	h := newHarness(t, lwatest.Options{})
	a := h.authorizer()
	if err := a.Ready(); !errors.Is(err, ErrNotLinked) {
		t.Fatalf("Ready = %v", err)
	}
	if _, err := a.Token(context.Background()); !errors.Is(err, ErrNotLinked) {
		t.Fatalf("Token = %v", err)
	}
	if st := h.sim.Stats(); st.TokenRequests != 0 {
		t.Fatalf("requests while unlinked: %+v", st)
	}
	h.clk.onSleep = func(int) { h.admin(lwatest.ApprovePath, "") }
	if err := Link(context.Background(), h.cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	tok, err := a.Token(context.Background())
	if err != nil || !h.sim.ValidAccessToken(tok) {
		t.Fatalf("Token after link = %v", err)
	}
	if s := a.Status(); !s.Linked || s.Source != SourceCBL {
		t.Errorf("status = %+v", s)
	}
}

// TestRunRefreshesAhead: Run sleeps until the head start before each expiry
// and refreshes then.
func TestRunRefreshesAhead(t *testing.T) {
	h := newHarness(t, lwatest.Options{AccessTokenLifetime: time.Hour})
	h.cfg.RefreshHeadStart = 5 * time.Minute
	h.link()
	a := h.authorizer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.clk.onSleep = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	if err := a.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{55 * time.Minute, 55 * time.Minute, 55 * time.Minute}
	if got := h.clk.Sleeps(); !equalDurations(got, want) {
		t.Errorf("Run slept %v, want %v", got, want)
	}
	if got := h.sim.Stats().Refreshes; got != 3 {
		t.Errorf("refreshes = %d, want 3 (at start, and twice 5 min before expiry)", got)
	}
}

// TestImportRefreshToken imports a companion-app refresh token; it needs the
// client secret, which is then sent on every refresh.
func TestImportRefreshToken(t *testing.T) {
	h := newHarness(t, lwatest.Options{ClientSecret: "s3cret-value"})
	remote := h.sim.IssueRemote()

	var out bytes.Buffer
	err := ImportRefreshToken(context.Background(), h.cfg, remote.RefreshToken, &out)
	if err == nil || !strings.Contains(err.Error(), "client_secret") {
		t.Fatalf("import without secret = %v", err)
	}
	if _, err := os.Stat(TokenFile(h.cfg.DataDir)); !os.IsNotExist(err) {
		t.Fatal("a refused token was stored")
	}
	if strings.Contains(err.Error(), remote.RefreshToken) {
		t.Fatal("error shows the token")
	}

	h.cfg.ClientSecret = "s3cret-value"
	file := t.TempDir() + "/rt.json"
	if err := os.WriteFile(file, []byte(`{"refresh_token":"`+remote.RefreshToken+`"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rt, err := ReadRefreshTokenFile(file)
	if err != nil || rt != remote.RefreshToken {
		t.Fatalf("ReadRefreshTokenFile = %v", err)
	}
	if err := ImportRefreshToken(context.Background(), h.cfg, rt, &out); err != nil {
		t.Fatalf("import: %v", err)
	}
	a := h.authorizer()
	if s := a.Status(); !s.Linked || s.Source != SourceCompanion {
		t.Errorf("status = %+v", s)
	}
	h.clk.Add(2 * time.Hour)
	if tok, err := a.Token(context.Background()); err != nil || !h.sim.ValidAccessToken(tok) {
		t.Errorf("refresh of an imported token = %v", err)
	}
	if err := ImportRefreshToken(context.Background(), h.cfg, "two words", &out); err == nil {
		t.Error("accepted a malformed token")
	}
}

// TestNoTokensInLogs drives linking, refresh, 403, 5xx and revocation with a
// debug logger and searches the captured logs (and errors) for every token.
func TestNoTokensInLogs(t *testing.T) {
	h := newHarness(t, lwatest.Options{AccessTokenLifetime: time.Hour})
	var secrets []string
	h.clk.onSleep = func(int) {
		secrets = append(secrets, h.sim.PendingUserCodes()...)
		h.admin(lwatest.ApprovePath, "")
	}
	if err := Link(context.Background(), h.cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	h.clk.onSleep = nil
	secrets = append(secrets, h.storedToken())
	a := h.authorizer()
	ctx := context.Background()
	var errs []error
	for range 3 {
		tok, err := a.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, tok, h.storedToken())
		a.Invalidate(tok)
	}
	h.sim.FailNext(1, 500)
	h.clk.Add(2 * time.Hour)
	_, err := a.Token(ctx)
	errs = append(errs, err)
	h.clk.Add(2 * time.Minute)
	tok, err := a.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, tok, h.storedToken())
	h.sim.RevokeAll()
	h.clk.Add(2 * time.Hour)
	_, err = a.Token(ctx)
	errs = append(errs, err)
	// The hub's other components log through the same redacting handler.
	log := a.log
	log.Info("sending event", "token", tok, "authorization", "Bearer "+tok, "detail", "refresh_token="+secrets[1])
	log.Info("oops " + tok)

	logs := h.logs.String()
	if !strings.Contains(logs, "refreshing the access token failed") || !strings.Contains(logs, "avshub link") {
		t.Fatalf("the scenario did not log what it should:\n%s", logs)
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("empty secret collected")
		}
		if strings.Contains(logs, s) {
			t.Errorf("log contains a secret:\n%s", logs)
		}
		for _, e := range errs {
			if e != nil && strings.Contains(e.Error(), s) {
				t.Errorf("error contains a secret: %v", e)
			}
		}
	}
	if strings.Contains(logs, "Atza|") || strings.Contains(logs, "Atzr|") {
		t.Errorf("log contains a token shape:\n%s", logs)
	}
}

// The Authorizer is what avs.Client takes as its TokenSource.
var _ interface {
	Token(context.Context) (string, error)
	Invalidate(string)
} = (*Authorizer)(nil)

// TestRelinkWhileRunning: `avshub link` replaces the token file while the hub
// runs; the hub switches to the new authorization and never overwrites it
// with its old refresh token chain.
func TestRelinkWhileRunning(t *testing.T) {
	h := newHarness(t, lwatest.Options{AccessTokenLifetime: time.Hour})
	old := h.link()
	a := h.authorizer()
	if _, err := a.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.clk.onSleep = func(int) { h.admin(lwatest.ApprovePath, "") }
	if err := Link(context.Background(), h.cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	linked := h.storedToken()
	h.clk.Add(2 * time.Hour)
	tok, err := a.Token(context.Background())
	if err != nil || !h.sim.ValidAccessToken(tok) {
		t.Fatalf("Token after re-link = %v", err)
	}
	now := h.storedToken()
	if now == linked || !h.sim.ValidRefreshToken(now) {
		t.Error("the hub did not continue from the newly linked refresh token")
	}
	if h.sim.ValidRefreshToken(linked) {
		t.Error("the hub refreshed with its old chain instead of the newly linked token")
	}
	if h.sim.ValidRefreshToken(old.RefreshToken) {
		t.Error("test setup: the old chain should have rotated")
	}
}

// TestWaitReady: an unlinked hub's WaitReady waits (until its context ends)
// and returns once tokens are stored, whether another process wrote the file
// (`avshub link`, seen by polling) or this one did and called Reload.
func TestWaitReady(t *testing.T) {
	for _, tt := range []struct {
		name   string
		reload bool
	}{{"file written by avshub link", false}, {"stored here, then Reload", true}} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, lwatest.Options{})
			a := h.authorizer()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if err := a.WaitReady(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("WaitReady while unlinked = %v, want the context's deadline", err)
			}
			done := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				done <- a.WaitReady(ctx)
			}()
			h.link()
			if tt.reload {
				if err := a.Reload(); err != nil {
					t.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				t.Fatalf("WaitReady after the link = %v", err)
			}
			if err := a.Ready(); err != nil {
				t.Fatalf("Ready after the link = %v", err)
			}
		})
	}
}
