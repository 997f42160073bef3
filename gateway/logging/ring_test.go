package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// TestRingKeepsRecentRecords: the factory's ring holds the newest records
// past the level filter and after redaction, with component, groups and
// attributes, and filters by level, component and sequence.
func TestRingKeepsRecentRecords(t *testing.T) {
	f := New(io.Discard, Options{Level: slog.LevelInfo, Redact: func(h slog.Handler) slog.Handler { return &upperAttrs{h} }, RingSize: 5})
	r := f.Ring()
	f.For("router").Debug("not kept: below the level")
	for i := range 6 {
		f.For("router").Info("directive", "n", i, slog.Group("ep", slog.String("id", "lamp")))
	}
	f.For("avs").WithGroup("conn").Warn("ping late", "after", "9s")
	got := r.Records(Query{})
	if len(got) != 5 {
		t.Fatalf("ring holds %d records, want 5: %+v", len(got), got)
	}
	if got[0].Seq != 3 || got[4].Seq != 7 || r.Last() != 7 {
		t.Fatalf("seqs %d…%d last %d, want 3…7 last 7", got[0].Seq, got[4].Seq, r.Last())
	}
	if g := got[0]; g.Message != "DIRECTIVE" || g.Component != "router" || g.Level != "INFO" ||
		!slices.Equal(g.Attrs, []Attr{{"n", "2"}, {"ep.id", "lamp"}}) {
		t.Fatalf("first record %+v", g)
	}
	if w := got[4]; w.Component != "avs" || !slices.Equal(w.Attrs, []Attr{{"conn.after", "9s"}}) {
		t.Fatalf("grouped record %+v", w)
	}
	for _, c := range []struct {
		q    Query
		want []uint64
	}{
		{Query{Level: slog.LevelWarn}, []uint64{7}},
		{Query{Component: "router"}, []uint64{3, 4, 5, 6}},
		{Query{Component: "router", After: 4}, []uint64{5, 6}},
		{Query{Limit: 2}, []uint64{6, 7}},
		{Query{Component: "nobody"}, nil},
	} {
		var seqs []uint64
		for _, x := range r.Records(c.q) {
			seqs = append(seqs, x.Seq)
		}
		if !slices.Equal(seqs, c.want) {
			t.Errorf("%+v: %v, want %v", c.q, seqs, c.want)
		}
	}
	if c := r.Components(); !slices.Equal(c, []string{"avs", "router"}) {
		t.Errorf("components %v", c)
	}
	if New(io.Discard, Options{RingSize: -1}).Ring() != nil {
		t.Error("a negative RingSize still made a ring")
	}
}

// TestRingCountsDropSummaries: the rate limiter's summary of dropped lines
// reaches the ring under the component that repeated itself.
func TestRingCountsDropSummaries(t *testing.T) {
	f := New(io.Discard, Options{})
	r := f.Ring()
	d := dropSummary{key: limitKey{"zigbee", slog.LevelWarn, "bad frame"}, dropped: 3}
	_ = f.base.Handle(context.Background(), withComponent(d.record(), "zigbee"))
	got := r.Records(Query{Component: "zigbee"})
	if len(got) != 1 || !strings.Contains(fmt.Sprint(got[0].Attrs), "dropped 3") {
		t.Fatalf("summary in the ring: %+v", got)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"": slog.LevelDebug, "INFO": slog.LevelInfo, "warning": slog.LevelWarn, " error": slog.LevelError} {
		if got, ok := ParseLevel(in); !ok || got != want {
			t.Errorf("ParseLevel(%q) = %v %v", in, got, ok)
		}
	}
	if _, ok := ParseLevel("loud"); ok {
		t.Error("ParseLevel accepted loud")
	}
}

// BenchmarkRingAdd is the cost the ring adds to a logged line.
func BenchmarkRingAdd(b *testing.B) {
	l := New(io.Discard, Options{}).For("router")
	for b.Loop() {
		l.Info("directive", "endpoint", "lamp", "ms", 3)
	}
}

// BenchmarkRingDirectiveLine is the router's line per directive (six
// attributes) through the whole handler chain.
func BenchmarkRingDirectiveLine(b *testing.B) {
	l := New(io.Discard, Options{}).For("router")
	ctx := context.Background()
	for b.Loop() {
		l.LogAttrs(ctx, slog.LevelInfo, "directive", slog.String("endpoint", "virtual-light-1"), slog.String("name", "Kitchen light"),
			slog.String("what", "Alexa.PowerController.TurnOn"), slog.String("command", "on"), slog.String("outcome", "ok"), slog.Int64("ms", 3))
	}
}

// upperAttrs upper-cases messages and keeps attributes (a stand-in redactor).
type upperAttrs struct{ slog.Handler }

func (u *upperAttrs) Handle(ctx context.Context, r slog.Record) error {
	r2 := slog.NewRecord(r.Time, r.Level, strings.ToUpper(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool { r2.AddAttrs(a); return true })
	return u.Handler.Handle(ctx, r2)
}

func (u *upperAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return &upperAttrs{u.Handler.WithAttrs(as)}
}
func (u *upperAttrs) WithGroup(n string) slog.Handler { return &upperAttrs{u.Handler.WithGroup(n)} }
