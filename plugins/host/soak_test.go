//go:build soak

package host

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// TestSoakRepeatedCrashes kills the bridge 100 times; every time it must come
// back with a new process and a re-synced snapshot, and commands must work.
func TestSoakRepeatedCrashes(t *testing.T) {
	s, rec := startSupervisor(t, Config{Name: "virtual", Path: virtualBin, MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 50 * time.Millisecond, FastCrash: time.Millisecond})
	eventually(t, 10*time.Second, "running", func() bool { return s.Status().State == StateRunning })
	for i := range 100 {
		pid := s.Status().PID
		n := len(rec.snapshot())
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "restart", func() bool {
			st := s.Status()
			return st.State == StateRunning && st.PID != pid && st.Restarts == i+1
		})
		eventually(t, 5*time.Second, "snapshot", func() bool { j, _ := lastSnapshot(rec.snapshot()); return j >= n })
		if _, err := s.Execute(context.Background(), model.Request{CorrelationID: "x", DeviceID: "hall-light",
			Command: model.SetPower(i%2 == 0), Deadline: time.Now().Add(5 * time.Second)}); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
}
