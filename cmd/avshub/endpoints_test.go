package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/web"
)

// TestEndpointsShowSignalAndLastSeen: avshub endpoints lists the link a
// bridge reported (signal in %, last seen in words) and "—" where there is none.
func TestEndpointsShowSignalAndLastSeen(t *testing.T) {
	q := 72
	var out bytes.Buffer
	err := printEndpoints(&out, []web.Endpoint{
		{Endpoint: model.Endpoint{FriendlyName: "Lamp", ID: "h::zigbee::a"}, Link: &model.Link{Quality: &q, LastSeen: time.Now().Add(-2 * time.Minute)}},
		{Endpoint: model.Endpoint{FriendlyName: "Virtual lock", ID: "h::virtual::b"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "SIGNAL") || !strings.Contains(lines[0], "LAST SEEN") {
		t.Fatalf("output:\n%s", out.String())
	}
	if !strings.Contains(lines[1], "72 %") || !strings.Contains(lines[1], "2 min ago") {
		t.Errorf("the lamp's line lacks its signal or last seen: %q", lines[1])
	}
	if strings.Count(lines[2], "—") < 3 { // state, signal, last seen
		t.Errorf("the virtual lock's line should say — for state, signal and last seen: %q", lines[2])
	}
}
