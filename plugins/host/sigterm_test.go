package host

import (
	"context"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGroupSIGTERMLeavesTheStopToTheHost: a SIGTERM to the hub's whole process
// group (systemd's KillMode=control-group, the demo's stop, `kill -TERM
// -PGID`) reaches each bridge too. A bridge does not die of it: the hub stops
// it in order, and the log has no error for a bridge that "exited" (before,
// each bridge died of the signal and the hub logged `plugin process exited
// ... signal: terminated` at ERROR for each).
func TestGroupSIGTERMLeavesTheStopToTheHost(t *testing.T) {
	var logs syncBuffer
	s, err := New(Config{Name: "virtual", Path: virtualBin, DataDir: t.TempDir(), Sink: &recorder{},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	eventually(t, 30*time.Second, "running", func() bool { return s.Status().State == StateRunning })
	pid := s.Status().PID
	from := len(logs.String())
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the bridge to log the SIGTERM it leaves to the hub", func() bool {
		return strings.Contains(logs.String(), "SIGTERM: the hub stops this bridge")
	})
	if st := s.Status(); st.State != StateRunning || st.PID != pid || st.Restarts != 0 {
		t.Fatalf("after SIGTERM: %+v, want the same process still running", st)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	eventually(t, 3*time.Second, "plugin process gone", func() bool { return !alive(pid) })
	for _, l := range strings.Split(logs.String()[from:], "\n") {
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
			t.Errorf("stopping after a group SIGTERM logged: %s", l)
		}
	}
}
