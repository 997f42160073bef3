package host

import (
	"context"
	"io"
	"log"
	"log/slog"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
)

// hclogAdapter is an hclog.Logger that forwards to a slog.Logger. go-plugin
// logs through it, including every line a plugin writes to its stderr (parsed
// from hclog JSON), so plugin logs land in the hub's log under the bridge's name.
type hclogAdapter struct {
	l       *slog.Logger
	name    string
	implied []any
	level   hclog.Level
}

func newHCLog(l *slog.Logger, level hclog.Level) hclog.Logger {
	return &hclogAdapter{l: l, level: level}
}

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (a *hclogAdapter) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off || (level != hclog.NoLevel && level < a.level) {
		return
	}
	l := a.l
	if a.name != "" {
		l = l.With("logger", a.name)
	}
	lvl := slogLevel(level)
	ctx := context.Background()
	if !l.Enabled(ctx, lvl) {
		return
	}
	at, args := pluginArgs(args)
	r := slog.NewRecord(at, lvl, msg, 0)
	r.Add(a.implied...)
	r.Add(args...)
	_ = l.Handler().Handle(ctx, r)
}

// pluginArgs tidies the arguments go-plugin parsed from a plugin's JSON log
// line: the "timestamp" it appends becomes the record's time (one timestamp
// per line, the plugin's), numbers that JSON decoding made float64 are logged
// as integers when they are whole (pollEvery=1000000000, not 1e+09), and the
// keys, which came out of a map, are sorted.
func pluginArgs(args []any) (time.Time, []any) {
	at := time.Now()
	type kv struct {
		k string
		v any
	}
	var kvs []kv
	for i := 0; i+1 < len(args); i += 2 {
		k, ok := args[i].(string)
		if !ok {
			return at, args // not key/value pairs: leave as they are
		}
		v := args[i+1]
		if k == "timestamp" {
			if s, ok := v.(string); ok {
				if t, err := time.Parse(hclog.TimeFormat, s); err == nil {
					at = t
					continue
				}
			}
		}
		if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			v = int64(f)
		}
		kvs = append(kvs, kv{k, v})
	}
	if len(args)%2 == 1 {
		kvs = append(kvs, kv{"!BADKEY", args[len(args)-1]})
	}
	sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
	out := make([]any, 0, 2*len(kvs))
	for _, x := range kvs {
		out = append(out, x.k, x.v)
	}
	return at, out
}

func (a *hclogAdapter) Trace(msg string, args ...any) { a.Log(hclog.Trace, msg, args...) }
func (a *hclogAdapter) Debug(msg string, args ...any) { a.Log(hclog.Debug, msg, args...) }
func (a *hclogAdapter) Info(msg string, args ...any)  { a.Log(hclog.Info, msg, args...) }
func (a *hclogAdapter) Warn(msg string, args ...any)  { a.Log(hclog.Warn, msg, args...) }
func (a *hclogAdapter) Error(msg string, args ...any) { a.Log(hclog.Error, msg, args...) }

func (a *hclogAdapter) IsTrace() bool { return a.level <= hclog.Trace }
func (a *hclogAdapter) IsDebug() bool { return a.level <= hclog.Debug }
func (a *hclogAdapter) IsInfo() bool  { return a.level <= hclog.Info }
func (a *hclogAdapter) IsWarn() bool  { return a.level <= hclog.Warn }
func (a *hclogAdapter) IsError() bool { return a.level <= hclog.Error }

func (a *hclogAdapter) ImpliedArgs() []any { return a.implied }

func (a *hclogAdapter) With(args ...any) hclog.Logger {
	c := *a
	c.implied = append(append([]any(nil), a.implied...), args...)
	return &c
}

func (a *hclogAdapter) Name() string { return a.name }

func (a *hclogAdapter) Named(name string) hclog.Logger {
	c := *a
	if c.name == "" {
		c.name = name
	} else {
		c.name += "." + name
	}
	return &c
}

func (a *hclogAdapter) ResetNamed(name string) hclog.Logger {
	c := *a
	c.name = name
	return &c
}

func (a *hclogAdapter) SetLevel(level hclog.Level) { a.level = level }
func (a *hclogAdapter) GetLevel() hclog.Level      { return a.level }

func (a *hclogAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(a.StandardWriter(opts), "", 0)
}

func (a *hclogAdapter) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		a.Info(strings.TrimRight(string(p), "\n"))
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
