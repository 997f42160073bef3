package host

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// A plugin's JSON log line, as go-plugin hands it over (numbers decoded as
// float64, its "timestamp" appended), is re-logged with one timestamp and its
// whole numbers as integers.
func TestPluginLineKeepsNumbersAndOneTimestamp(t *testing.T) {
	var buf bytes.Buffer
	a := newHCLog(slog.New(slog.NewTextHandler(&buf, nil)), hclog.Debug).Named("bridge-acme")
	a.Info("polling", "pollEvery", float64(1e9), "revision", float64(20220219), "ratio", 0.25,
		"timestamp", "2026-01-02T03:04:05.678Z")
	line := strings.TrimSpace(buf.String())
	for _, want := range []string{"time=2026-01-02T03:04:05.678Z", "pollEvery=1000000000", "revision=20220219", "ratio=0.25", "logger=bridge-acme"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q lacks %q", line, want)
		}
	}
	if strings.Count(line, "time") != 1 || strings.Contains(line, "e+") {
		t.Errorf("two timestamps or a float exponent: %q", line)
	}
}

func TestAPIMismatchSaysWhich(t *testing.T) {
	if err := apiMismatch("acme", []string{"2.0"}); !strings.Contains(err.Error(), "too new") || !strings.Contains(err.Error(), "upgrade avshub") {
		t.Error(err)
	}
	if err := apiMismatch("acme", []string{"0.9"}); !strings.Contains(err.Error(), "too old") || !strings.Contains(err.Error(), "rebuild the bridge") {
		t.Error(err)
	}
}
