package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
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

// TestRepeatedLinesLimited: a warning repeated 100 times in a window is
// written RepeatBurst times, then its dropped count once the window is over;
// other messages, info lines and other components are not held back; a
// record without a message gets one.
func TestRepeatedLinesLimited(t *testing.T) {
	var buf bytes.Buffer
	f := New(&buf, Options{Level: slog.LevelInfo})
	now := time.Unix(1000, 0)
	f.lim.now = func() time.Time { return now }
	log := f.For("broker")
	for i := range 100 {
		log.Warn("MQTT connection ended", "n", i)
		log.Info("routine", "n", i)
	}
	f.For("host").Warn("MQTT connection ended")
	log.Warn("another warning")
	log.Warn("")
	count := func(s string) int { return strings.Count(buf.String(), s) }
	if n := count(`msg="MQTT connection ended" component=broker`); n != RepeatBurst {
		t.Errorf("%d repeated warnings written in the window, want %d", n, RepeatBurst)
	}
	if n := count(`msg=routine`); n != 100 {
		t.Errorf("%d info lines written, want all 100", n)
	}
	for _, want := range []string{`msg="MQTT connection ended" component=host`, `msg="another warning"`, `msg="` + NoMessage + `"`} {
		if count(want) != 1 {
			t.Errorf("missing %s in:\n%s", want, buf.String())
		}
	}
	if count("dropped") != 0 {
		t.Fatal("a drop count before the window ended")
	}
	now = now.Add(RepeatWindow)
	log.Warn("MQTT connection ended")
	if n := count(`msg="repeated log lines dropped" message="MQTT connection ended" dropped=90`); n != 1 {
		t.Errorf("the drop summary: %d, want 1 in:\n%s", n, buf.String())
	}
	if n := count(`msg="MQTT connection ended" component=broker`); n != RepeatBurst+1 {
		t.Errorf("the warning is not written again in the next window (%d)", n)
	}
}
