package memlimit

import (
	"context"
	"io"
	"log/slog"
	"runtime/debug"
	"testing"
	"time"
)

func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		name        string
		floor, live int64
		want        int64
	}{
		{"small heap: the floor", 40 << 20, 10 << 20, 40 << 20},
		{"at the edge", 40 << 20, 24 << 20, 40 << 20},
		{"big heap: one and a half times it plus the margin", 40 << 20, 100 << 20, 154 << 20},
		{"no live heap read", 40 << 20, 0, 40 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Limit(tc.floor, tc.live); got != tc.want {
				t.Fatalf("Limit(%d, %d) = %d, want %d", tc.floor, tc.live, got, tc.want)
			}
		})
	}
}

// TestFollower: the limit follows the smallest live heap of the last
// window reads: a burst shorter than the window does not raise it, a heap
// that stays bigger for the window does, and a smaller one lowers it at once.
func TestFollower(t *testing.T) {
	var f follower
	const mb = 1 << 20
	steps := []struct{ live, want int64 }{
		{20 * mb, 20 * mb},
		{36 * mb, 20 * mb}, // a burst
		{38 * mb, 20 * mb},
		{22 * mb, 20 * mb},
	}
	for range window - 4 {
		steps = append(steps, struct{ live, want int64 }{30 * mb, 20 * mb})
	}
	// The 20 MiB read leaves the window: the smallest is now 22 MiB.
	steps = append(steps, struct{ live, want int64 }{30 * mb, 22 * mb})
	for range 2 { // while the 22 MiB read is in the window
		steps = append(steps, struct{ live, want int64 }{30 * mb, 22 * mb})
	}
	// Every read of the window is 30 MiB or more.
	steps = append(steps, struct{ live, want int64 }{30 * mb, 30 * mb})
	steps = append(steps, struct{ live, want int64 }{10 * mb, 10 * mb}) // smaller: at once
	for i, s := range steps {
		if got := f.next(s.live); got != s.want {
			t.Fatalf("read %d (%d MiB): follows %d MiB, want %d MiB", i, s.live/mb, got/mb, s.want/mb)
		}
	}
}

// TestRun: Run sets the soft limit while it runs and puts the previous one
// back when ctx ends; GOMEMLIMIT in the environment or a negative floor leave it alone.
func TestRun(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const floor = 1 << 40 // above any live heap of the test binary
	for _, tc := range []struct {
		name    string
		env     string
		floor   int64
		wantSet bool
	}{
		{"default", "", floor, true},
		{"GOMEMLIMIT set", "100MiB", floor, false},
		{"turned off", "", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", tc.env)
			before := debug.SetMemoryLimit(-1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan struct{})
			go func() { Run(ctx, tc.floor, log); close(done) }()
			if !tc.wantSet {
				// Run returns at once, the limit untouched.
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					t.Fatal("Run did not return")
				}
				if got := debug.SetMemoryLimit(-1); got != before {
					t.Fatalf("limit = %d, want it untouched (%d)", got, before)
				}
				return
			}
			var got int64
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if got = debug.SetMemoryLimit(-1); got == floor {
					break
				}
			}
			cancel()
			<-done
			if got != floor {
				t.Fatalf("limit while running = %d, want %d", got, int64(floor))
			}
			if after := debug.SetMemoryLimit(-1); after != before {
				t.Fatalf("limit after Run = %d, want the previous %d", after, before)
			}
		})
	}
}
