package lwa

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestLinkApproved runs CBL end to end: pending, approved on the third poll,
// tokens stored, and the refresh token tested (and rotated) at once.
func TestLinkApproved(t *testing.T) {
	h := newHarness(t, lwatest.Options{PollInterval: 5 * time.Second})
	var code string
	h.clk.onSleep = func(n int) {
		if n == 3 {
			codes := h.sim.PendingUserCodes()
			if len(codes) != 1 {
				t.Errorf("pending codes = %v, want one", codes)
				return
			}
			code = codes[0]
			if st := h.admin(lwatest.ApprovePath, ""); st != 200 {
				t.Errorf("approve: HTTP %d", st)
			}
		}
	}
	var out bytes.Buffer
	if err := Link(context.Background(), h.cfg, &out); err != nil {
		t.Fatalf("Link: %v\n%s", err, out.String())
	}
	st := h.sim.Stats()
	if st.CodePairs != 1 || st.Polls != 3 || st.Refreshes != 1 {
		t.Errorf("stats = %+v, want 1 code pair, 3 polls, 1 refresh (the test right after linking)", st)
	}
	if got := h.clk.Sleeps(); len(got) != 3 || got[0] != 5*time.Second || got[2] != 5*time.Second {
		t.Errorf("sleeps = %v, want 3 × 5s (the announced interval)", got)
	}
	rt := h.storedToken()
	if !h.sim.ValidRefreshToken(rt) {
		t.Errorf("stored refresh token is not the live (rotated) one")
	}
	for _, want := range []string{"https://amazon.com/us/code", "\n       " + code + "\n", "waiting for the code to be entered", "approved", "Linked."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), rt) || strings.Contains(out.String(), "Atz") {
		t.Errorf("output shows a token:\n%s", out.String())
	}
	transcript := strings.ReplaceAll(out.String(), code, "XXXXXX")
	golden(t, "link_approved.txt", strings.ReplaceAll(transcript, h.cfg.DataDir, "$DATA"))
}

// TestLinkSlowDown polls once too early (the clock moves only half the
// interval, as after a clock adjustment); LWA answers slow_down and Link
// doubles its interval.
func TestLinkSlowDown(t *testing.T) {
	h := newHarness(t, lwatest.Options{PollInterval: 5 * time.Second})
	h.clk.advance = func(n int, d time.Duration) time.Duration {
		if n == 2 {
			return d / 2
		}
		return d
	}
	h.clk.onSleep = func(n int) {
		if n == 4 {
			h.admin(lwatest.ApprovePath, "")
		}
	}
	var out bytes.Buffer
	if err := Link(context.Background(), h.cfg, &out); err != nil {
		t.Fatalf("Link: %v\n%s", err, out.String())
	}
	want := []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second}
	if got := h.clk.Sleeps(); !equalDurations(got, want) {
		t.Errorf("sleeps = %v, want %v (interval doubled after slow_down)", got, want)
	}
	if !strings.Contains(out.String(), "poll more slowly; now every 10s") {
		t.Errorf("output does not report slow_down:\n%s", out.String())
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLinkExpiredCodePair lets the first code pair expire, noticed either by
// the hub's own deadline or by LWA's invalid_code_pair (hub clock behind),
// and approves the second one.
func TestLinkExpiredCodePair(t *testing.T) {
	for _, tc := range []struct {
		name string
		slow bool // the hub's clock runs at half speed, so LWA notices the expiry first
	}{
		{"hub deadline", false},
		{"invalid_code_pair", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, lwatest.Options{PollInterval: 5 * time.Second, CodePairLifetime: 30 * time.Second})
			if tc.slow {
				base := h.clk.Now()
				h.cfg.Now = func() time.Time { return base.Add(h.clk.Now().Sub(base) / 2) }
			}
			var codes []string
			h.clk.onSleep = func(int) {
				p := h.sim.PendingUserCodes()
				if len(p) == 1 && (len(codes) == 0 || codes[len(codes)-1] != p[0]) {
					codes = append(codes, p[0])
				}
				if len(codes) == 2 {
					h.admin(lwatest.ApprovePath, `{"user_code":"`+codes[1]+`"}`)
				}
			}
			var out bytes.Buffer
			if err := Link(context.Background(), h.cfg, &out); err != nil {
				t.Fatalf("Link: %v\n%s", err, out.String())
			}
			if st := h.sim.Stats(); st.CodePairs != 2 {
				t.Errorf("code pairs = %d, want 2", st.CodePairs)
			}
			if len(codes) != 2 || !strings.Contains(out.String(), "The code "+codes[0]+" expired") || !strings.Contains(out.String(), codes[1]) {
				t.Errorf("codes %v; output:\n%s", codes, out.String())
			}
			if h.storedToken() == "" {
				t.Error("no token stored")
			}
		})
	}
}

// TestLinkAllCodesExpire gives up after CodePairAttempts code pairs.
func TestLinkAllCodesExpire(t *testing.T) {
	h := newHarness(t, lwatest.Options{PollInterval: 5 * time.Second, CodePairLifetime: 20 * time.Second})
	h.cfg.CodePairAttempts = 2
	var out bytes.Buffer
	err := Link(context.Background(), h.cfg, &out)
	if !errors.Is(err, ErrCodeExpired) {
		t.Fatalf("Link = %v, want ErrCodeExpired", err)
	}
	if st := h.sim.Stats(); st.CodePairs != 2 || st.Polls != 6 {
		t.Errorf("stats %+v, want 2 code pairs, 6 polls (3 per 20 s code at 5 s; none after expiry)", st)
	}
	if _, err := os.Stat(TokenFile(h.cfg.DataDir)); !os.IsNotExist(err) {
		t.Errorf("token file exists after failed link: %v", err)
	}
}

// TestLinkDenied ends with ErrDenied when the owner declines.
func TestLinkDenied(t *testing.T) {
	h := newHarness(t, lwatest.Options{})
	h.clk.onSleep = func(n int) {
		if n == 2 {
			h.admin(lwatest.DenyPath, "")
		}
	}
	var out bytes.Buffer
	err := Link(context.Background(), h.cfg, &out)
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("Link = %v, want ErrDenied", err)
	}
	if st := h.sim.Stats(); st.Polls != 2 || st.Refreshes != 0 {
		t.Errorf("stats %+v, want 2 polls, no refresh", st)
	}
	if _, err := os.Stat(TokenFile(h.cfg.DataDir)); !os.IsNotExist(err) {
		t.Errorf("token file exists after denial: %v", err)
	}
}

// TestLinkRetries5xx retries server errors on the code pair request, on a
// poll and on the refresh test, and still links.
func TestLinkRetries5xx(t *testing.T) {
	h := newHarness(t, lwatest.Options{})
	h.sim.FailNext(2, 503)                       // the first two code pair requests
	h.sim.FailNextGrant("device_code", 1, 500)   // the first poll
	h.sim.FailNextGrant("refresh_token", 1, 502) // the first refresh test
	h.clk.onSleep = func(n int) {
		if h.sim.Stats().Polls == 2 {
			h.admin(lwatest.ApprovePath, "")
		}
	}
	var out bytes.Buffer
	if err := Link(context.Background(), h.cfg, &out); err != nil {
		t.Fatalf("Link: %v\n%s", err, out.String())
	}
	st := h.sim.Stats()
	if st.CodePairs != 3 || st.Faults != 4 {
		t.Errorf("stats %+v, want 3 code pair requests and 4 faults served", st)
	}
	if !h.sim.ValidRefreshToken(h.storedToken()) {
		t.Error("stored refresh token is not live")
	}
	for _, want := range []string{"HTTP 503", "unavailable (HTTP 500)", "Testing the refresh token failed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestLinkConfigErrors: a wrong client id or missing settings fail at once
// with a clear message and no retries.
func TestLinkConfigErrors(t *testing.T) {
	h := newHarness(t, lwatest.Options{})
	cfg := h.cfg
	cfg.ClientID = "amzn1.application-oa2-client.wrong"
	err := Link(context.Background(), cfg, &bytes.Buffer{})
	var le *Error
	if !errors.As(err, &le) || le.Code != "invalid_client" || !strings.Contains(err.Error(), "Other devices and platforms") {
		t.Errorf("Link with a wrong client id = %v", err)
	}
	if st := h.sim.Stats(); st.CodePairs != 1 {
		t.Errorf("code pair requests = %d, want 1 (no retry)", st.CodePairs)
	}
	cfg = h.cfg
	cfg.ProductID = ""
	if err := Link(context.Background(), cfg, &bytes.Buffer{}); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "hub.productId") {
		t.Errorf("Link without product id = %v", err)
	}
}

// TestLinkCanceled returns the context's error.
func TestLinkCanceled(t *testing.T) {
	h := newHarness(t, lwatest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	h.clk.onSleep = func(n int) {
		if n == 2 {
			cancel()
		}
	}
	if err := Link(ctx, h.cfg, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Link = %v, want context.Canceled", err)
	}
}

// TestTokenFilePermissions: directory 0700, file 0600, no temp files left;
// a file readable by others is refused.
func TestTokenFilePermissions(t *testing.T) {
	h := newHarness(t, lwatest.Options{})
	h.clk.onSleep = func(int) { h.admin(lwatest.ApprovePath, "") }
	if err := Link(context.Background(), h.cfg, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	path := TokenFile(h.cfg.DataDir)
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{filepath.Dir(path), 0o700}, {path, 0o600}, {h.cfg.DataDir, 0o700}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("%s: mode %v, want %v", c.path, got, c.want)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("token directory holds %d entries, want only the token file", len(entries))
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewAuthorizer(h.cfg); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("NewAuthorizer with a 0644 token file = %v, want a refusal", err)
	}
}

// TestHTTPClientWithCA trusts the emulator through its CA file.
func TestHTTPClientWithCA(t *testing.T) {
	h := newHarness(t, lwatest.Options{})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pemCert(h.srv.Certificate().Raw), 0o600); err != nil {
		t.Fatal(err)
	}
	client, err := HTTPClientWithCA(ca)
	if err != nil {
		t.Fatal(err)
	}
	// HTTP/1.1 is fine here: the point is the trust store.
	h.cfg.HTTPClient = client
	h.clk.onSleep = func(int) { h.admin(lwatest.ApprovePath, "") }
	if err := Link(context.Background(), h.cfg, &bytes.Buffer{}); err != nil {
		t.Fatalf("Link trusting the CA file: %v", err)
	}
	if _, err := HTTPClientWithCA(filepath.Join(t.TempDir(), "missing.pem")); !errors.Is(err, ErrConfig) {
		t.Errorf("missing CA file: %v", err)
	}
	h.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failures below are expected
	h.cfg.HTTPClient = nil                             // system roots do not trust the emulator
	h.cfg.DataDir = t.TempDir()
	var out bytes.Buffer
	if err := Link(context.Background(), h.cfg, &out); err == nil || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "lwa.caFile") {
		t.Errorf("Link without the CA = %v, want a certificate error", err)
	}
	if strings.Contains(out.String(), "retrying") {
		t.Errorf("a certificate error was retried:\n%s", out.String())
	}
}

// golden compares got with testdata/name (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
