package web

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// revSource is a hubSource that names its state (Revisioner) and records the
// order of the calls the page makes.
type revSource struct {
	*hubSource
	rmu   sync.Mutex
	rev   string
	calls []string
}

func (r *revSource) note(c string) {
	r.rmu.Lock()
	r.calls = append(r.calls, c)
	r.rmu.Unlock()
}

func (r *revSource) Revision() string {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	r.calls = append(r.calls, "revision")
	return r.rev
}

func (r *revSource) Endpoints() []Endpoint {
	r.note("endpoints")
	return r.hubSource.Endpoints()
}

func (r *revSource) Changes(ctx context.Context) <-chan struct{} {
	r.note("changes")
	return r.hubSource.Changes(ctx)
}

func (r *revSource) takeCalls() []string {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

// firstEvent reads the /live stream up to its first event and returns its
// name and data lines.
func firstEvent(t *testing.T, url string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/live", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var name, data string
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "event: "):
			name = strings.TrimPrefix(l, "event: ")
		case strings.HasPrefix(l, "data: "):
			data = strings.TrimPrefix(l, "data: ")
		case l == "" && name != "":
			return name, data
		}
	}
	return "", ""
}

// TestLiveHelloNamesTheRevision: a hub that names its state renders it into
// the page and each fragment (read before what they show), and its live
// stream starts with a hello carrying the revision as of the subscription
// (read after it), so the page can tell whether it missed a change. A hub
// that names none starts its stream with no hello (the page then refreshes
// on open).
func TestLiveHelloNamesTheRevision(t *testing.T) {
	src := &revSource{hubSource: newSource(), rev: "7.1.00ff"}
	ts := httptest.NewServer(New(src, nil, nil).Handler())
	defer ts.Close()

	if _, body := get(t, ts.URL+"/"); !strings.Contains(body, `<div id="live" data-revision="7.1.00ff">`) {
		t.Fatalf("the page does not carry its revision:\n%s", body)
	}
	if c := src.takeCalls(); slices.Index(c, "revision") < 0 || slices.Index(c, "revision") > slices.Index(c, "endpoints") {
		t.Fatalf("the page read %v: the revision must come before the endpoints", c)
	}
	src.rmu.Lock()
	src.rev = "8.1.00ff"
	src.rmu.Unlock()
	resp, err := http.Get(ts.URL + "/fragment")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get(RevisionHeader); got != "8.1.00ff" {
		t.Fatalf("fragment revision %q, want 8.1.00ff", got)
	}
	src.takeCalls()

	name, data := firstEvent(t, ts.URL)
	if name != "hello" || data != `{"revision":"8.1.00ff"}` {
		t.Fatalf("first event %q %q, want hello with the revision", name, data)
	}
	if c := src.takeCalls(); !slices.Equal(c, []string{"changes", "revision"}) {
		t.Fatalf("the stream made the calls %v, want the subscription before the revision", c)
	}

	plain := newSource()
	ts2 := httptest.NewServer(New(plain, nil, nil).Handler())
	defer ts2.Close()
	if _, body := get(t, ts2.URL+"/"); !strings.Contains(body, `<div id="live" data-revision="">`) {
		t.Fatalf("a page without a revision:\n%s", body)
	}
	plain.changes <- struct{}{}
	if name, _ := firstEvent(t, ts2.URL); name != "changed" {
		t.Fatalf("first event %q without a revision, want changed (no hello)", name)
	}
}
