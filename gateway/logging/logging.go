// Package logging builds the hub's slog loggers: text or JSON, one level per
// component, a redacting filter in front of every handler so that tokens and
// codes never reach a log line, and a rate limit on repeated warnings and
// errors (per component, level and message: RepeatBurst per RepeatWindow, then
// a count of what was dropped). Every line has a message (NoMessage when logged without).
package logging

import (
	"cmp"
	"context"
	"io"
	"log/slog"
	"sync"
)

// Options configures the loggers.
type Options struct {
	// JSON selects the JSON handler (text otherwise).
	JSON bool
	// Level is the default level.
	Level slog.Level
	// Levels overrides the level per component name.
	Levels map[string]slog.Level
	// Redact wraps the base handler (e.g. lwa's token redaction); nil for none.
	Redact func(slog.Handler) slog.Handler
	// RingSize is how many recent records the factory keeps in memory for
	// the log view (Factory.Ring): 0 means DefaultRingSize, negative none.
	RingSize int
}

// Factory hands out one logger per component, sharing the output.
type Factory struct {
	opts Options
	base slog.Handler
	ring *Ring
	lim  *limiter
	mu   sync.Mutex
	logs map[string]*slog.Logger
}

// New returns a factory writing to w.
func New(w io.Writer, opts Options) *Factory {
	ho := &slog.HandlerOptions{Level: slog.LevelDebug}
	var h slog.Handler
	if opts.JSON {
		h = slog.NewJSONHandler(w, ho)
	} else {
		h = slog.NewTextHandler(w, ho)
	}
	var ring *Ring
	if opts.RingSize >= 0 {
		ring = NewRing(cmp.Or(opts.RingSize, DefaultRingSize))
		h = teeHandler{h, ring.Handler()}
	}
	if opts.Redact != nil { // in front of the ring too: it is shown on the page
		h = opts.Redact(h)
	}
	return &Factory{opts: opts, base: h, ring: ring, lim: newLimiter(), logs: map[string]*slog.Logger{}}
}

// Ring is the in-memory ring of recent records (nil when Options.RingSize is negative).
func (f *Factory) Ring() *Ring { return f.ring }

// Root is the logger for the hub itself (component "hub").
func (f *Factory) Root() *slog.Logger { return f.For("hub") }

// For returns the logger of one component, with its level and a component attribute.
func (f *Factory) For(component string) *slog.Logger {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.logs[component]; ok {
		return l
	}
	lvl := f.opts.Level
	if v, ok := f.opts.Levels[component]; ok {
		lvl = v
	}
	l := slog.New(&levelHandler{min: lvl, h: f.base.WithAttrs([]slog.Attr{slog.String("component", component)}),
		component: component, lim: f.lim, base: f.base})
	f.logs[component] = l
	return l
}

// levelHandler filters records below min and rate-limits repeated ones
// before the shared handler sees them.
type levelHandler struct {
	min       slog.Level
	h         slog.Handler
	component string
	lim       *limiter
	base      slog.Handler // for the drop summaries
}

func (l *levelHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= l.min && l.h.Enabled(ctx, lv)
}

func (l *levelHandler) Handle(ctx context.Context, r slog.Record) error {
	return l.lim.limit(ctx, l.component, l.h, r, l.base)
}

func (l *levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *l
	c.h = l.h.WithAttrs(as)
	return &c
}

func (l *levelHandler) WithGroup(name string) slog.Handler {
	c := *l
	c.h = l.h.WithGroup(name)
	return &c
}
