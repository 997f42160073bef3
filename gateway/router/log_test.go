package router

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// lineLog collects JSON log lines.
type lineLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the info-or-above lines with message msg.
func (l *lineLog) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, s := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if s == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("log line %q: %v", s, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestLogLines checks the info lines a person reads to answer "what did Alexa
// ask, and what came of it?": one per directive with its answer and time, one
// per change by hand (dashboard or at the device), none for sensor readings.
func TestLogLines(t *testing.T) {
	logs := &lineLog{}
	e := newEnv(t, func(o *Options) {
		o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	for _, dev := range []string{"l1", "nope", "gone1"} {
		if err := e.r.HandleDirective(context.Background(), directive(t, "Alexa.PowerController", "TurnOn", id(dev), "{}")); err != nil {
			t.Fatal(err)
		}
		e.rec.next(t)
	}
	got := logs.lines(t, "directive")
	if len(got) != 3 {
		t.Fatalf("%d directive lines, want 3: %v", len(got), got)
	}
	want := []map[string]any{
		{"endpoint": id("l1"), "name": "Lamp", "what": "Alexa.PowerController.TurnOn", "command": "on_off=true", "outcome": "ok"},
		{"endpoint": id("nope"), "what": "Alexa.PowerController.TurnOn", "outcome": "NO_SUCH_ENDPOINT"},
		{"endpoint": id("gone1"), "name": "Porch", "outcome": "ENDPOINT_UNREACHABLE", "reason": "Porch is not reachable"},
	}
	for i, w := range want {
		for k, v := range w {
			if got[i][k] != v {
				t.Errorf("directive line %d: %s = %v, want %v (%v)", i, k, got[i][k], v, got[i])
			}
		}
		if _, ok := got[i]["ms"].(float64); !ok {
			t.Errorf("directive line %d has no ms: %v", i, got[i])
		}
		if got[i]["level"] != "INFO" {
			t.Errorf("directive line %d at %v, want INFO", i, got[i]["level"])
		}
	}

	if _, err := e.r.Execute(context.Background(), id("l2"), model.SetBrightness(30), model.CauseApp); err != nil {
		t.Fatal(err)
	}
	_, _ = e.r.Execute(context.Background(), id("l2"), model.SetBrightness(300), model.CauseApp)
	e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "k1", State: model.State{Lock: model.Unlocked}, Cause: model.CausePhysical})
	e.r.BridgeEvent("zb", model.Event{Kind: model.EventState, DeviceID: "t1", State: model.State{Temperature: model.Ptr(21.5)}, Cause: model.CausePhysical})
	hand := logs.lines(t, "change by hand")
	if len(hand) != 3 {
		t.Fatalf("%d change-by-hand lines, want 3 (two dashboard commands, one lock turned at the door; no sensor reading): %v", len(hand), hand)
	}
	if hand[0]["command"] != "brightness=30" || hand[0]["outcome"] != "ok" || hand[0]["cause"] != "APP_INTERACTION" || hand[0]["name"] != "Desk" {
		t.Errorf("dashboard command line: %v", hand[0])
	}
	if hand[1]["outcome"] != "OUT_OF_RANGE" || hand[1]["reason"] == nil {
		t.Errorf("refused dashboard command line: %v", hand[1])
	}
	if hand[2]["endpoint"] != id("k1") || !strings.Contains(hand[2]["changed"].(string), "UNLOCKED") || hand[2]["cause"] != "PHYSICAL_INTERACTION" {
		t.Errorf("lock turned by hand: %v", hand[2])
	}
}
