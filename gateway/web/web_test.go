package web

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/avshub/avshub/discovery/model"
)

// hubSource is a Source over fixed data, standing in for the hub.
type hubSource struct {
	mu      sync.Mutex
	status  Status
	eps     []Endpoint
	changes chan struct{}
	paired  []string
}

func newSource() *hubSource {
	on := true
	return &hubSource{
		status: Status{Version: "test", Ready: true, AVS: AVSStatus{State: "CONNECTED", Gateway: "https://avs.example"},
			Bridges: []BridgeStatus{{Name: "zigbee", State: "running", Health: "HEALTHY", Pairing: true}}},
		eps: []Endpoint{{
			Endpoint:  model.Endpoint{ID: "hub::virtual::lamp", Bridge: "virtual", FriendlyName: "Kitchen Light", Category: model.CategoryLight, Traits: model.Traits{OnOff: &model.OnOff{}}},
			State:     model.State{On: &on},
			Reachable: true}},
		changes: make(chan struct{}, 1),
	}
}

func (h *hubSource) Status() Status {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.status
}

func (h *hubSource) Endpoints() []Endpoint {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Endpoint(nil), h.eps...)
}

func (h *hubSource) Changes(ctx context.Context) <-chan struct{} { return h.changes }

func (h *hubSource) Pair(_ context.Context, bridge string, d time.Duration) error {
	if bridge != "zigbee" {
		return &model.Error{Kind: model.ErrNotSupported, Message: bridge + " cannot pair"}
	}
	h.mu.Lock()
	h.paired = append(h.paired, bridge+" "+d.String())
	h.mu.Unlock()
	return nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPageAndHealth(t *testing.T) {
	src := newSource()
	ts := httptest.NewServer(New(src, prometheus.NewRegistry(), nil).Handler())
	defer ts.Close()
	code, body := get(t, ts.URL+"/")
	if code != 200 || !strings.Contains(body, "Kitchen Light") || !strings.Contains(body, "CONNECTED") || !strings.Contains(body, `data-pair="zigbee"`) {
		t.Fatalf("page %d:\n%s", code, body)
	}
	if code, _ := get(t, ts.URL+"/healthz"); code != 200 {
		t.Errorf("healthz = %d", code)
	}
	if code, _ := get(t, ts.URL+"/readyz"); code != 200 {
		t.Errorf("readyz = %d while ready", code)
	}
	src.mu.Lock()
	src.status.Ready = false
	src.status.AVS.State = "CONNECTING"
	src.mu.Unlock()
	if code, body := get(t, ts.URL+"/readyz"); code != 503 || !strings.Contains(body, "CONNECTING") {
		t.Errorf("readyz = %d %q while connecting", code, body)
	}
	if code, _ := get(t, ts.URL+"/metrics"); code != 200 {
		t.Errorf("metrics = %d", code)
	}
}

func TestLiveUpdates(t *testing.T) {
	src := newSource()
	ts := httptest.NewServer(New(src, nil, nil).Handler())
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/live", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	src.changes <- struct{}{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == "event: changed" {
			return
		}
	}
	t.Fatalf("no changed event: %v", sc.Err())
}

func TestPairNeedsHeaderAndUnixClient(t *testing.T) {
	src := newSource()
	srv := New(src, nil, nil)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	resp, err := http.Post(ts.URL+"/api/v1/bridges/zigbee/pair", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("pair without X-Avshub = %d, want 403", resp.StatusCode)
	}

	sock := filepath.Join(t.TempDir(), "avshub.sock")
	l, err := ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, l, srv.APIHandler()) }()
	defer func() { cancel(); <-done }()
	if _, err := ListenUnix(sock); err == nil {
		t.Fatal("a second hub could take the socket")
	}
	c := NewClient(sock)
	st, err := c.Status(ctx)
	if err != nil || st.AVS.State != "CONNECTED" {
		t.Fatalf("status %+v %v", st, err)
	}
	eps, err := c.Endpoints(ctx)
	if err != nil || len(eps) != 1 || eps[0].Endpoint.FriendlyName != "Kitchen Light" || eps[0].State.On == nil {
		t.Fatalf("endpoints %+v %v", eps, err)
	}
	if err := c.Pair(ctx, "zigbee", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Pair(ctx, "virtual", 30*time.Second); err == nil || !strings.Contains(err.Error(), "cannot pair") {
		t.Fatalf("pairing a bridge that cannot pair: %v", err)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if len(src.paired) != 1 || src.paired[0] != "zigbee 30s" {
		t.Fatalf("paired %v", src.paired)
	}
}

func TestClientHubNotRunning(t *testing.T) {
	_, err := NewClient(filepath.Join(t.TempDir(), "none.sock")).Status(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not running") {
		t.Fatalf("err = %v", err)
	}
}
