// Package logging builds the hub's slog loggers: text or JSON, one level per
// component, and a redacting filter in front of every handler so that tokens and
// codes never reach a log line.
package logging

import (
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
}

// Factory hands out one logger per component, sharing the output.
type Factory struct {
	opts Options
	base slog.Handler
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
	if opts.Redact != nil {
		h = opts.Redact(h)
	}
	return &Factory{opts: opts, base: h, logs: map[string]*slog.Logger{}}
}

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
	l := slog.New(&levelHandler{min: lvl, h: f.base}).With("component", component)
	f.logs[component] = l
	return l
}

// levelHandler filters records below min before the shared handler sees them.
type levelHandler struct {
	min slog.Level
	h   slog.Handler
}

func (l *levelHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= l.min && l.h.Enabled(ctx, lv)
}

func (l *levelHandler) Handle(ctx context.Context, r slog.Record) error { return l.h.Handle(ctx, r) }

func (l *levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &levelHandler{min: l.min, h: l.h.WithAttrs(as)}
}

func (l *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{min: l.min, h: l.h.WithGroup(name)}
}
