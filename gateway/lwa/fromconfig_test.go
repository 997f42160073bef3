package lwa

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

func TestFromConfig(t *testing.T) {
	h := newHarness(t, lwatest.Options{})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pemCert(h.srv.Certificate().Raw), 0o600); err != nil {
		t.Fatal(err)
	}
	var c config.Config
	c.Hub.ProductID, c.Hub.SerialNumber, c.Hub.DataDir = "p", "SN", t.TempDir()
	c.LWA.ClientID, c.LWA.ClientSecret, c.LWA.URL, c.LWA.CAFile, c.LWA.RefreshHeadStart = testClientID, "sec", h.srv.URL, ca, 7*time.Minute
	cfg, err := FromConfig(&c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientID != testClientID || cfg.ClientSecret != "sec" || cfg.ProductID != "p" || cfg.SerialNumber != "SN" ||
		cfg.DataDir != c.Hub.DataDir || cfg.BaseURL != h.srv.URL || cfg.RefreshHeadStart != 7*time.Minute || cfg.HTTPClient == nil {
		t.Errorf("cfg = %+v", cfg)
	}
	// The client trusts the emulator.
	resp, err := cfg.HTTPClient.Get(h.srv.URL + lwatest.TokenPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.LWA.CAFile = filepath.Join(t.TempDir(), "none.pem")
	if _, err := FromConfig(&c, nil); err == nil {
		t.Error("missing CA file accepted")
	}
}

func TestStatusText(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		s    Status
		want []string
	}{
		{Status{}, []string{"not linked", "avshub link"}},
		{Status{Linked: true, Source: SourceCBL, LinkedAt: now, AccessTokenExpiry: now.Add(42 * time.Minute), TokenFile: "/d/lwa/tokens.json"}, []string{"linked (code-based linking)", "in 42m0s", "/d/lwa/tokens.json"}},
		{Status{Linked: true, Source: SourceCompanion, AccessTokenExpiry: now.Add(-time.Minute), LastError: "HTTP 503", RetryAt: now}, []string{"companion app", "expired: 1m0s ago", "last refresh failed:  HTTP 503"}},
		{Status{NeedsRelink: true, Reason: "invalid_grant"}, []string{"NEEDS RE-LINK (invalid_grant)", "avshub link"}},
	} {
		var b strings.Builder
		if err := WriteStatus(&b, tc.s, now); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("status text lacks %q:\n%s", w, b.String())
			}
		}
	}
}

func TestUnlink(t *testing.T) {
	h := newHarness(t, lwatest.Options{})
	h.clk.onSleep = func(int) { h.admin(lwatest.ApprovePath, "") }
	if err := Link(context.Background(), h.cfg, nil); err != nil {
		t.Fatal(err)
	}
	if s, err := LoadStatus(h.cfg); err != nil || !s.Linked || s.Source != SourceCBL || s.LinkedAt.IsZero() {
		t.Fatalf("LoadStatus after link = %+v, %v", s, err)
	}
	if err := Unlink(h.cfg); err != nil {
		t.Fatal(err)
	}
	if s, err := LoadStatus(h.cfg); err != nil || s.Linked {
		t.Fatalf("LoadStatus after unlink = %+v, %v", s, err)
	}
	if err := Unlink(h.cfg); err != nil {
		t.Errorf("second Unlink = %v", err)
	}
}
