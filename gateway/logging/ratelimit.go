package logging

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// The rate limit of repeated warnings and errors (what a misbehaving peer
// makes the hub say over and over): per component, level and message, at
// most RepeatBurst lines per RepeatWindow; the rest are counted, and the
// count is logged once the window is over (with the next line of any kind).
const (
	RepeatBurst  = 10
	RepeatWindow = 10 * time.Second
)

// NoMessage is the message given to a record logged without one.
const NoMessage = "(log record without a message)"

// limiter counts log lines by key over fixed windows.
type limiter struct {
	now func() time.Time
	mu  sync.Mutex
	win map[limitKey]*window
}

type limitKey struct {
	component string
	level     slog.Level
	msg       string
}

type window struct {
	start   time.Time
	passed  int
	dropped int
}

func newLimiter() *limiter { return &limiter{now: time.Now, win: map[limitKey]*window{}} }

// admit reports whether a record with key k may be written now, and returns
// the summaries of windows that ended with lines dropped (to be logged first).
func (l *limiter) admit(k limitKey) (ok bool, ended []dropSummary) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, w := range l.win { // few keys live at once: the windows are short
		if now.Sub(w.start) >= RepeatWindow {
			if w.dropped > 0 {
				ended = append(ended, dropSummary{key, w.dropped, now.Sub(w.start)})
			}
			delete(l.win, key)
		}
	}
	w := l.win[k]
	if w == nil {
		w = &window{start: now}
		l.win[k] = w
	}
	if w.passed < RepeatBurst {
		w.passed++
		return true, ended
	}
	w.dropped++
	return false, ended
}

// dropSummary is how many lines of one key a window dropped.
type dropSummary struct {
	key     limitKey
	dropped int
	over    time.Duration
}

// record is the summary as a log record.
func (d dropSummary) record() slog.Record {
	r := slog.NewRecord(time.Now(), d.key.level, "repeated log lines dropped", 0)
	r.AddAttrs(slog.String("message", d.key.msg), slog.Int("dropped", d.dropped),
		slog.Duration("over", d.over.Round(time.Second)))
	return r
}

// limit applies the limiter of component in front of h.
func (l *limiter) limit(ctx context.Context, component string, h slog.Handler, r slog.Record, base slog.Handler) error {
	if r.Message == "" {
		r.Message = NoMessage
	}
	if r.Level < slog.LevelWarn { // info and debug lines are the hub's own routine, not a peer's flood
		return h.Handle(ctx, r)
	}
	ok, ended := l.admit(limitKey{component, r.Level, r.Message})
	for _, d := range ended {
		_ = base.Handle(ctx, withComponent(d.record(), d.key.component))
	}
	if !ok {
		return nil
	}
	return h.Handle(ctx, r)
}

func withComponent(r slog.Record, component string) slog.Record {
	r.AddAttrs(slog.String("component", component))
	return r
}
