package web

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/avshub/avshub/discovery/model"
)

// TestDevicePageShowsLink: the device page shows the link the bridge
// reported ("Signal 72 %", last seen "2 min ago"); without one, the signal is
// "not reported by this bridge" and last seen falls back to the last change.
func TestDevicePageShowsLink(t *testing.T) {
	q := 72
	cases := []struct {
		name     string
		link     *model.Link
		updated  time.Time
		signal   string
		lastSeen string
	}{
		{"reported", &model.Link{Quality: &q, LastSeen: time.Now().Add(-2*time.Minute - 5*time.Second)}, time.Now().Add(-time.Hour), "72 %", "2 min ago"},
		{"quality only", &model.Link{Quality: &q}, time.Now().Add(-3 * time.Hour), "72 %", "3 h ago"},
		{"none", nil, time.Now().Add(-10 * time.Second), "not reported by this bridge", "10 s ago"},
	}
	field := func(body, id string) string {
		m := regexp.MustCompile(`<dd id="` + id + `"[^>]*>(.*?)</dd>`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		return regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], "")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := newSource()
			src.eps = []Endpoint{{Endpoint: model.Endpoint{ID: "hub::zigbee::x", Bridge: "zigbee", FriendlyName: "Lamp",
				Traits: model.Traits{OnOff: &model.OnOff{}}}, Reachable: true, Updated: c.updated, Link: c.link}}
			ts := httptest.NewServer(New(src, prometheus.NewRegistry(), nil).Handler())
			defer ts.Close()
			code, body := get(t, ts.URL+"/device/hub::zigbee::x")
			if code != 200 {
				t.Fatalf("device page %d", code)
			}
			if got := field(body, "signal"); got != c.signal {
				t.Errorf("signal %q, want %q", got, c.signal)
			}
			if got := strings.TrimSpace(field(body, "last-seen")); got != c.lastSeen {
				t.Errorf("last seen %q, want %q", got, c.lastSeen)
			}
		})
	}
}

func TestAgo(t *testing.T) {
	for _, c := range []struct {
		ago  time.Duration
		want string
	}{{time.Second, "just now"}, {40 * time.Second, "40 s ago"}, {2*time.Minute + 59*time.Second, "2 min ago"},
		{5 * time.Hour, "5 h ago"}, {72 * time.Hour, "3 days ago"}} {
		if got := Ago(time.Now().Add(-c.ago)); got != c.want {
			t.Errorf("Ago(-%s) = %q, want %q", c.ago, got, c.want)
		}
	}
	if Ago(time.Time{}) != "never" {
		t.Error("the zero time is not never")
	}
}
