package web

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// TestEndpointPages pages through 1,234 endpoints over the unix socket: every
// endpoint comes once, in id order, each reply holds at most a page, and a bad
// limit is refused.
func TestEndpointPages(t *testing.T) {
	src := newSource()
	src.eps = nil
	for i := range 1234 {
		src.eps = append(src.eps, Endpoint{Endpoint: model.Endpoint{
			ID: fmt.Sprintf("hub::z2m::%05d", (i*7919)%1234), Bridge: "z2m", FriendlyName: fmt.Sprintf("Light %d", i)}})
	}
	sock := filepath.Join(t.TempDir(), "avshub.sock")
	l, err := ListenUnix(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, l, New(src, nil, nil).APIHandler()) }()
	defer func() { cancel(); <-done }()
	c := NewClient(sock)

	var got []string
	pages := 0
	for after := ""; ; pages++ {
		p, err := c.EndpointPage(ctx, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Endpoints) > 100 || p.Total != 1234 {
			t.Fatalf("page of %d endpoints, total %d", len(p.Endpoints), p.Total)
		}
		for _, e := range p.Endpoints {
			got = append(got, e.Endpoint.ID)
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if len(got) != 1234 || pages != 12 {
		t.Fatalf("%d endpoints in %d pages", len(got), pages+1)
	}
	for i, id := range got {
		if want := fmt.Sprintf("hub::z2m::%05d", i); id != want {
			t.Fatalf("endpoint %d is %s, want %s", i, id, want)
		}
	}
	all, err := c.Endpoints(ctx) // the CLI's call: pages of DefaultPageSize
	if err != nil || len(all) != 1234 {
		t.Fatalf("Endpoints: %d, %v", len(all), err)
	}
	for _, bad := range []string{"0", "-1", "x", fmt.Sprint(MaxPageSize + 1)} {
		var p Page
		if err := c.do(ctx, http.MethodGet, "/api/v1/endpoints?limit="+bad, &p); err == nil {
			t.Errorf("limit=%s accepted", bad)
		}
	}
}
