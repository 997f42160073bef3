package web

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHostAndOriginGuard: a DNS-rebinding request (a foreign name in Host)
// is refused for every method and path; a state-changing request must come
// from the page itself; the page's own requests pass.
func TestHostAndOriginGuard(t *testing.T) {
	src := newSource()
	srv := New(src, nil, slog.New(slog.DiscardHandler))
	srv.AllowHosts("hub.lan.")
	h := srv.Handler()
	for _, tc := range []struct {
		name, method, path, host string
		hdr                      map[string]string
		want                     int
	}{
		{"page by IP", "GET", "/", "127.0.0.1:8080", nil, 200},
		{"page by IPv6", "GET", "/", "[::1]:8080", nil, 200},
		{"page by localhost", "GET", "/", "localhost:8080", nil, 200},
		{"page by configured name", "GET", "/", "HUB.lan:8080", nil, 200},
		{"page by LAN IP", "GET", "/", "192.168.1.20", nil, 200},
		{"rebound page", "GET", "/", "evil.example:8080", nil, 421},
		{"rebound status API", "GET", "/api/v1/status", "evil.example:8080", nil, 421},
		{"rebound live", "GET", "/live", "evil.example", nil, 421},
		{"no host", "GET", "/", "", nil, 421},
		{"lookalike name", "GET", "/", "hub.lan.evil.example", nil, 421},
		{"rebound pair with the page's header", "POST", "/api/v1/bridges/zigbee/pair?for=600s", "evil.example:8080",
			map[string]string{"X-Avshub": "1", "Origin": "http://evil.example:8080", "Sec-Fetch-Site": "same-origin"}, 421},
		{"pair from the page", "POST", "/api/v1/bridges/zigbee/pair", "127.0.0.1:8080",
			map[string]string{"X-Avshub": "1", "Origin": "http://127.0.0.1:8080", "Sec-Fetch-Site": "same-origin"}, 200},
		{"pair by a tool (no browser headers)", "POST", "/api/v1/bridges/zigbee/pair", "127.0.0.1:8080",
			map[string]string{"X-Avshub": "1"}, 200},
		{"pair from another site", "POST", "/api/v1/bridges/zigbee/pair", "127.0.0.1:8080",
			map[string]string{"X-Avshub": "1", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"pair from another site, no Sec-Fetch-Site", "POST", "/api/v1/bridges/zigbee/pair", "127.0.0.1:8080",
			map[string]string{"X-Avshub": "1", "Origin": "http://evil.example"}, 403},
		{"pair from a sibling origin", "POST", "/api/v1/bridges/zigbee/pair", "127.0.0.1:8080",
			map[string]string{"X-Avshub": "1", "Sec-Fetch-Site": "same-site"}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://x"+tc.path, nil)
			r.Host = tc.host
			for k, v := range tc.hdr {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("%s %s Host %q: %d, want %d (%s)", tc.method, tc.path, tc.host, w.Code, tc.want, w.Body)
			}
		})
	}
	if n := len(src.paired); n != 2 {
		t.Fatalf("%d pairings started, want 2 (the page's and the tool's)", n)
	}
}

// The page says plainly when the embedded broker is anonymous.
func TestPageSaysAnonymousBroker(t *testing.T) {
	src := newSource()
	src.status.MQTT = MQTTStatus{Broker: "tcp://127.0.0.1:1883", Embedded: true, Anonymous: true}
	r := httptest.NewRequest("GET", "http://127.0.0.1/", nil)
	w := httptest.NewRecorder()
	New(src, nil, slog.New(slog.DiscardHandler)).Handler().ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), "anonymous: any local process may control devices") {
		t.Fatalf("the page does not say the broker is anonymous:\n%s", w.Body.String())
	}
}
