package web

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestBridgeTroubleInWords: the page says in words what a bridge's last error
// means; the raw error (a gRPC status, a checksum) is only inside the
// "Technical details" disclosure.
func TestBridgeTroubleInWords(t *testing.T) {
	raw := "event stream of virtual ended: rpc error: code = Unavailable desc = error reading from server: EOF"
	for _, tt := range []struct {
		b    BridgeStatus
		want string
	}{
		{BridgeStatus{Name: "virtual", State: "running", Health: "HEALTHY", Restarts: 1, LastError: raw}, "It stopped unexpectedly and the hub restarted it (once so far)."},
		{BridgeStatus{Name: "virtual", State: "restarting", Health: "UNREACHABLE", Restarts: 3, LastError: raw}, "It stopped unexpectedly; the hub restarts it in a moment."},
		{BridgeStatus{Name: "virtual", State: "failed", Health: "UNREACHABLE", Restarts: 5, LastError: raw}, "It kept failing, so the hub stopped restarting it."},
		{BridgeStatus{Name: "acme", State: "failed", Health: "UNREACHABLE", LastError: "start acme: the executable /usr/lib/avshub/bridge-acme has sha256 ab, but the checksum pinned at its first start expects cd. If you rebuilt..."}, "its program file is not the one the hub trusts"},
		{BridgeStatus{Name: "acme", State: "failed", Health: "UNREACHABLE", LastError: "bridge acme is too new for this hub: it speaks bridge API [2.0]"}, "it was built for another version of avshub"},
	} {
		t.Run(tt.b.State+" "+tt.b.Name, func(t *testing.T) {
			src := newSource()
			src.status.Bridges = []BridgeStatus{tt.b}
			ts := httptest.NewServer(New(src, prometheus.NewRegistry(), nil).Handler())
			defer ts.Close()
			_, body := get(t, ts.URL+"/")
			row := body[strings.Index(body, `data-bridge="`+tt.b.Name+`"`):]
			row = row[:strings.Index(row, "</tr>")]
			if !strings.Contains(row, tt.want) {
				t.Errorf("the bridge's row does not say %q:\n%s", tt.want, row)
			}
			i := strings.Index(row, "<details")
			if i < 0 || !strings.Contains(row[i:], "Technical details") {
				t.Fatalf("no Technical details disclosure in the row:\n%s", row)
			}
			first := strings.Index(row, tt.b.LastError[:20])
			if first < i {
				t.Errorf("the raw error shows outside the disclosure:\n%s", row)
			}
		})
	}
	if got := BridgeTrouble(BridgeStatus{State: "running"}); got != "" {
		t.Errorf("no error: %q", got)
	}
}
