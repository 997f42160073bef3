package hub

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/internal/hoptrace"
)

// hopTrace turns on the per-hop trace (internal/hoptrace) of one directive's
// path when AVSHUB_BENCH_HOPS is set: for the product's processes started
// after it (the hub passes it on to its bundled bridges) and for the
// emulator in this process. The benchmark marks "emu-send" and "emu-done"
// around each timed directive (hopMark) and calls the returned report after
// its loop: it prints the table of stages (the p50 of each hop, from the
// previous stage, and of the time since emu-send) and reports each hop's p50
// as hop-<stage>-us. Only directives marked emu-send count.
func hopTrace(b *testing.B) (report func()) {
	if os.Getenv("AVSHUB_BENCH_HOPS") == "" {
		return func() {}
	}
	dir := b.TempDir()
	b.Setenv(hoptrace.Env, dir)
	hoptrace.Start(dir)
	return func() {
		time.Sleep(300 * time.Millisecond) // every process flushed its marks
		marks, err := hoptrace.Read(dir)
		if err != nil {
			b.Fatalf("hop trace: %v", err)
		}
		hopReport(b, marks)
	}
}

// hopMark records emu-send (t0) and emu-done (now) for the directive raw
// and returns its key (the correlation token).
func hopMark(raw json.RawMessage, t0 time.Time) string {
	if !hoptrace.On() {
		return ""
	}
	t1 := time.Now()
	var d struct {
		Directive struct {
			Header struct {
				CorrelationToken string `json:"correlationToken"`
			} `json:"header"`
		} `json:"directive"`
	}
	if json.Unmarshal(raw, &d) != nil {
		return ""
	}
	k := d.Directive.Header.CorrelationToken
	hoptrace.AtTime(k, "emu-send", t0)
	hoptrace.AtTime(k, "emu-done", t1)
	return k
}

func hopReport(b *testing.B, marks map[string]map[string]int64) {
	since := map[string][]time.Duration{} // stage → time since emu-send, per directive
	n := 0
	for _, st := range marks {
		t0, ok := st["emu-send"]
		if !ok {
			continue
		}
		n++
		for s, t := range st {
			since[s] = append(since[s], time.Duration(t-t0))
		}
	}
	if n == 0 {
		b.Logf("hop trace: no directive marked")
		return
	}
	type stage struct {
		name string
		p50  float64
	}
	var order []stage
	for s, ds := range since {
		p50, _ := percentiles(ds)
		order = append(order, stage{s, p50})
	}
	slices.SortFunc(order, func(a, c stage) int {
		switch {
		case a.p50 < c.p50:
			return -1
		case a.p50 > c.p50:
			return 1
		}
		return strings.Compare(a.name, c.name)
	})
	var tab strings.Builder
	fmt.Fprintf(&tab, "hop trace of %s (%d directives; µs, p50):\n%-12s %10s %10s %8s\n", b.Name(), n, "stage", "hop", "since", "seen")
	for i, s := range order {
		var hop []time.Duration
		if i > 0 {
			prev := order[i-1].name
			for _, st := range marks {
				t, ok1 := st[s.name]
				p, ok2 := st[prev]
				if _, ok0 := st["emu-send"]; ok0 && ok1 && ok2 {
					hop = append(hop, time.Duration(t-p))
				}
			}
		}
		h50, _ := percentiles(hop)
		fmt.Fprintf(&tab, "%-12s %10.1f %10.1f %8d\n", s.name, h50*1000, s.p50*1000, len(since[s.name]))
		if i > 0 {
			b.ReportMetric(h50*1000, "hop-"+s.name+"-us")
		}
	}
	fmt.Fprint(os.Stderr, tab.String())
}
