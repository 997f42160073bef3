package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestPerComponentLevels(t *testing.T) {
	var buf bytes.Buffer
	f := New(&buf, Options{Level: slog.LevelInfo, Levels: map[string]slog.Level{"avs": slog.LevelDebug, "host": slog.LevelWarn}})
	f.For("avs").Debug("avs-debug")
	f.For("host").Info("host-info")
	f.For("host").Warn("host-warn")
	f.For("router").Debug("router-debug")
	f.For("router").Info("router-info")
	out := buf.String()
	for _, want := range []string{"avs-debug", "host-warn", "router-info", "component=avs"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	for _, bad := range []string{"host-info", "router-debug"} {
		if strings.Contains(out, bad) {
			t.Errorf("%q should be filtered:\n%s", bad, out)
		}
	}
	if a, b := f.For("avs"), f.For("avs"); a != b {
		t.Error("For should return the same logger for a component")
	}
}

func TestJSONAndRedact(t *testing.T) {
	var buf bytes.Buffer
	redact := func(h slog.Handler) slog.Handler { return &upper{h} }
	f := New(&buf, Options{JSON: true, Redact: redact})
	f.Root().Info("hello")
	if !strings.Contains(buf.String(), `"msg":"HELLO"`) {
		t.Fatalf("redact wrapper not applied or not JSON: %s", buf.String())
	}
}

type upper struct{ slog.Handler }

func (u *upper) Handle(ctx context.Context, r slog.Record) error {
	r2 := slog.NewRecord(r.Time, r.Level, strings.ToUpper(r.Message), r.PC)
	return u.Handler.Handle(ctx, r2)
}

func (u *upper) WithAttrs(as []slog.Attr) slog.Handler { return &upper{u.Handler.WithAttrs(as)} }
func (u *upper) WithGroup(n string) slog.Handler       { return &upper{u.Handler.WithGroup(n)} }
