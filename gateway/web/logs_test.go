package web

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/avshub/avshub/gateway/logging"
)

// logSource is the stand-in hub with a log ring.
type logSource struct {
	*hubSource
	f *logging.Factory
}

func (l logSource) LogRing() *logging.Ring { return l.f.Ring() }

// TestLogsAPI: /api/v1/logs filters the hub's recent records by level and
// component, continues after a record number, refuses bad filters, and the
// log page offers the components that logged.
func TestLogsAPI(t *testing.T) {
	f := logging.New(io.Discard, logging.Options{})
	src := logSource{newSource(), f}
	ts := httptest.NewServer(New(src, prometheus.NewRegistry(), nil).Handler())
	defer ts.Close()
	f.For("router").Info("directive", "endpoint", "lamp", "outcome", "ok")
	f.For("avs").Warn("ping late")
	f.For("router").Error("bridge gone")

	read := func(q string) Logs {
		t.Helper()
		code, body := get(t, ts.URL+"/api/v1/logs"+q)
		if code != 200 {
			t.Fatalf("%s: %d %s", q, code, body)
		}
		var l Logs
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	msgs := func(l Logs) string {
		var m []string
		for _, r := range l.Records {
			m = append(m, r.Component+":"+r.Message)
		}
		return strings.Join(m, ",")
	}
	for q, want := range map[string]string{
		"":                             "router:directive,avs:ping late,router:bridge gone",
		"?level=warn":                  "avs:ping late,router:bridge gone",
		"?component=router":            "router:directive,router:bridge gone",
		"?level=warn&component=router": "router:bridge gone",
		"?after=1":                     "avs:ping late,router:bridge gone",
		"?limit=1":                     "router:bridge gone",
		"?component=nobody":            "",
		"?level=ERROR&component=avs":   "",
	} {
		if got := msgs(read(q)); got != want {
			t.Errorf("%q: %s, want %s", q, got, want)
		}
	}
	all := read("")
	if all.Last != 3 || strings.Join(all.Components, ",") != "avs,router" || all.Records[0].Attrs[1].Value != "ok" {
		t.Errorf("reply %+v", all)
	}
	for _, bad := range []string{"?level=loud", "?after=x", "?limit=0", "?limit=99999"} {
		if code, _ := get(t, ts.URL+"/api/v1/logs"+bad); code != 400 {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
	code, page := get(t, ts.URL+"/logs?component=avs")
	if code != 200 || !strings.Contains(page, `<option value="avs" selected>`) || !strings.Contains(page, `<option value="router">`) {
		t.Errorf("log page %d:\n%s", code, page)
	}
	// A hub without a ring says so.
	plain := httptest.NewServer(New(newSource(), nil, nil).Handler())
	defer plain.Close()
	if code, _ := get(t, plain.URL+"/api/v1/logs"); code != 501 {
		t.Errorf("no ring: %d, want 501", code)
	}
}
