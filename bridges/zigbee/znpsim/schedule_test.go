package znpsim

import (
	"testing"
	"time"
)

// Delayed actions run in the order of their due times, and those due at once
// in the order they were scheduled (two frames to one device arrive in order).
func TestScheduleKeepsOrder(t *testing.T) {
	s, err := New(Options{Devices: []DeviceSpec{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 2000
	done := make(chan struct{})
	var got []int
	s.mu.Lock()
	for i := range n {
		s.after(2*time.Second, func() {
			got = append(got, i)
		})
	}
	// Due earlier although scheduled last: runs first.
	s.after(0, func() { got = append(got, -1) })
	s.mu.Unlock()
	s.after(3*time.Second, func() {
		got = append(got, n)
		close(done)
	})
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the scheduled actions did not all run")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if got[0] != -1 {
		t.Fatalf("the action due first ran at position %d", indexOf(got, -1))
	}
	for i := 1; i <= n; i++ {
		if got[i] != i-1 {
			t.Fatalf("action %d ran at position %d: %v…", i-1, indexOf(got, i-1), got[max(0, i-3):min(len(got), i+3)])
		}
	}
}

func indexOf(xs []int, x int) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}
