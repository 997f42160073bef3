package logging

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultRingSize is how many recent log records a Factory keeps in memory
// for the status page's log view when Options.RingSize is 0.
const DefaultRingSize = 2000

// Record is one log line as the log view shows it.
type Record struct {
	// Seq numbers records from 1 in the order they were logged.
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Level     string    `json:"level"`
	Component string    `json:"component,omitempty"`
	Message   string    `json:"message"`
	Attrs     []Attr    `json:"attrs,omitempty"`

	level slog.Level
}

// Attr is one attribute of a Record, its value as text ("group.key").
type Attr struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Query selects records from a Ring: at or above Level, of Component (all
// when empty), with a Seq above After, the newest Limit of them (0: all).
type Query struct {
	Level     slog.Level
	Component string
	After     uint64
	Limit     int
}

// Ring keeps the most recent log records in memory (a bounded ring). It is
// safe for concurrent use.
type Ring struct {
	mu    sync.Mutex
	buf   []Record
	next  int // where the next record goes
	full  bool
	seq   uint64
	comps map[string]struct{}
}

// NewRing returns a ring holding the last n records (n ≥ 1).
func NewRing(n int) *Ring {
	return &Ring{buf: make([]Record, max(n, 1)), comps: map[string]struct{}{}}
}

func (r *Ring) add(rec Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	rec.Seq = r.seq
	r.buf[r.next] = rec
	r.next = (r.next + 1) % len(r.buf)
	if r.next == 0 {
		r.full = true
	}
	if rec.Component != "" {
		r.comps[rec.Component] = struct{}{}
	}
}

// Records returns the records q selects, oldest first.
func (r *Ring) Records(q Query) []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, start := r.next, 0
	if r.full {
		n, start = len(r.buf), r.next
	}
	var out []Record
	for i := range n {
		rec := r.buf[(start+i)%len(r.buf)]
		if rec.Seq <= q.After || rec.level < q.Level || (q.Component != "" && rec.Component != q.Component) {
			continue
		}
		out = append(out, rec)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out
}

// Last is the Seq of the newest record (0 when none was logged).
func (r *Ring) Last() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq
}

// Components lists, sorted, the components that logged since the hub started.
func (r *Ring) Components() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.comps))
	for c := range r.comps {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// Handler returns a slog handler that adds every record it handles to r.
func (r *Ring) Handler() slog.Handler { return &ringHandler{ring: r} }

// ringHandler turns slog records into Records; attributes given to
// WithAttrs (the component among them) are kept and prefixed by their groups.
type ringHandler struct {
	ring      *Ring
	component string
	attrs     []Attr
	prefix    string
}

func (h *ringHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *ringHandler) Handle(_ context.Context, r slog.Record) error {
	// Room for the record's own attributes at once: appending them one by one
	// to a clone of h.attrs grew the slice three or four times per line.
	attrs := make([]Attr, len(h.attrs), len(h.attrs)+r.NumAttrs())
	copy(attrs, h.attrs)
	rec := Record{Time: r.Time, Level: r.Level.String(), level: r.Level, Component: h.component,
		Message: r.Message, Attrs: attrs}
	r.Attrs(func(a slog.Attr) bool {
		if rec.Component == "" && h.prefix == "" && a.Key == "component" { // a rate limit summary
			rec.Component = a.Value.String()
			return true
		}
		rec.Attrs = appendAttr(rec.Attrs, h.prefix, a)
		return true
	})
	h.ring.add(rec)
	return nil
}

func (h *ringHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = slices.Clone(h.attrs)
	for _, a := range as {
		if h.prefix == "" && a.Key == "component" {
			c.component = a.Value.String()
			continue
		}
		c.attrs = appendAttr(c.attrs, h.prefix, a)
	}
	return &c
}

func (h *ringHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix = h.prefix + name + "."
	return &c
}

func appendAttr(out []Attr, prefix string, a slog.Attr) []Attr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			out = appendAttr(out, p, g)
		}
		return out
	}
	if a.Equal(slog.Attr{}) {
		return out
	}
	return append(out, Attr{Key: prefix + a.Key, Value: v.String()})
}

// ParseLevel reads a level name as the log view's filter gives it: debug,
// info, warn (or warning) or error, any case; "" is debug (everything).
func ParseLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return 0, false
}

// teeHandler hands each record to two handlers.
type teeHandler struct{ a, b slog.Handler }

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var errA, errB error
	if t.a.Enabled(ctx, r.Level) {
		errA = t.a.Handle(ctx, r.Clone())
	}
	if t.b.Enabled(ctx, r.Level) {
		errB = t.b.Handle(ctx, r)
	}
	if errA != nil {
		return errA
	}
	return errB
}

func (t teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{t.a.WithAttrs(as), t.b.WithAttrs(as)}
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{t.a.WithGroup(name), t.b.WithGroup(name)}
}
