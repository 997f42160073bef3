package web

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// pairingSource is the test hub with a pairing session.
type pairingSource struct {
	*hubSource
	sessions []PairingSession
}

func (p pairingSource) Pairing() []PairingSession { return p.sessions }
func (p pairingSource) PairingEvents(ctx context.Context) <-chan PairingEvent {
	return make(chan PairingEvent)
}
func (p pairingSource) Remove(context.Context, string) error { return nil }

// TestPagePairingPanel (issue 16 point 2): while a bridge's network is open
// the home page shows its countdown and each device by its stage in words: one
// being interviewed with its steps so far, one published with its traits and
// a link to its page, one that failed with why.
func TestPagePairingPanel(t *testing.T) {
	now := time.Now()
	src := pairingSource{hubSource: newSource(), sessions: []PairingSession{{Bridge: "zigbee", Open: true, Started: now, Until: now.Add(10 * time.Minute),
		Devices: []PairingDevice{
			{DeviceID: "0017880106f2d011", Stage: "interviewing", Detail: "reading its colour capabilities", Steps: []string{"asking for its active endpoints", "reading its colour capabilities"}},
			{DeviceID: "0017880104a1c3e5", EndpointID: "hub::zigbee::0017880104a1c3e5", Name: "Philips Hue bulb", Stage: "published", Traits: []string{"on_off", "brightness"}},
			{DeviceID: "000d6ffffe7788aa", Stage: "failed", Detail: "IKEA TRADFRI remote control is a remote or button: Alexa has no button, so it is remembered only"},
		}}}}
	ts := httptest.NewServer(New(src, prometheus.NewRegistry(), nil).Handler())
	defer ts.Close()
	code, body := get(t, ts.URL+"/")
	if code != 200 {
		t.Fatalf("page %d", code)
	}
	text := func(s string) string {
		return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(s, " ")), " ")
	}
	item := func(device string) string {
		m := regexp.MustCompile(`(?s)<li data-device="` + device + `" data-stage="([a-z]+)">(.*?)</li>\s*(?:<li data-device|</ul>)`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no item for %s in the pairing panel:\n%s", device, body)
		}
		return m[1] + " | " + text(m[2])
	}
	m := regexp.MustCompile(`<span class="countdown" role="timer" data-until="\d+">(\d+) s left</span>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no countdown in the pairing panel:\n%s", body)
	}
	if left, err := strconv.Atoi(m[1]); err != nil || left < 1 || left > 600 {
		t.Errorf("countdown %v, want the seconds left of 10 minutes", m)
	}
	for dev, want := range map[string][]string{
		"0017880106f2d011": {"interviewing | 0017880106f2d011 being interviewed", "reading its colour capabilities", "interview: 2 steps"},
		"0017880104a1c3e5": {"published | Philips Hue bulb ready: published to Alexa and the dashboards on_off brightness open its page"},
		"000d6ffffe7788aa": {"failed | 000d6ffffe7788aa failed IKEA TRADFRI remote control is a remote or button"},
	} {
		got := item(dev)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s shown as %q, want %q", dev, got, w)
			}
		}
	}
	if !strings.Contains(body, `<a href="/device/hub::zigbee::0017880104a1c3e5">open its page</a>`) {
		t.Error("the published device has no link to its page")
	}
}
