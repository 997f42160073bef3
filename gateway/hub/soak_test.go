//go:build soak

package hub

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/avstest"
)

// TestSoak runs random directives, manual changes and faults (GOAWAY, 503/429
// bursts, dropped downchannels, bridge SIGKILLs) for AVSHUB_SOAK_DURATION
// (default 1h), then checks that Alexa's view matches every device and that
// goroutines, heap and file descriptors did not grow.
//
//	make soak   # go test -race -tags soak -run Soak ./...
//	AVSHUB_SOAK_DURATION=1m go test -race -tags soak -run Soak ./gateway/hub/
func TestSoak(t *testing.T) {
	dur := time.Hour
	if v := os.Getenv("AVSHUB_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("AVSHUB_SOAK_DURATION: %v", err)
		}
		dur = d
	}
	// The emulator keeps a bounded record so that its memory levels off early.
	e := newEnv(t, envOptions{Emulator: func(o *avstest.Options) { o.MaxEvents = 1000 }})
	e.start()
	e.waitConnected()
	e.waitKnown()

	seed := uint64(time.Now().UnixNano())
	t.Logf("soak for %v, seed %d", dur, seed)
	r := rand.New(rand.NewPCG(seed, 0))
	ctx, cancel := context.WithTimeout(context.Background(), dur+5*time.Minute)
	defer cancel()
	end := time.Now().Add(dur)
	warm := time.Now().Add(dur / 4)
	var base *usage
	counts := map[string]int{}
	for time.Now().Before(end) {
		if base == nil && time.Now().After(warm) {
			u := measure()
			base = &u
			t.Logf("baseline after warm-up: %+v", u)
		}
		switch k := r.IntN(20); {
		case k < 12:
			counts["traffic"]++
			answered, errs := e.traffic(ctx, 20, 4, r.Uint64())
			for _, err := range errs {
				t.Error(err)
			}
			if answered != 20 {
				t.Errorf("%d of 20 directives answered", answered)
			}
		case k < 16:
			if e.manualChange(ctx) {
				counts["manual"]++
			}
		case k < 17:
			counts["goaway"]++
			e.inject(ctx, avstest.Fault{Kind: avstest.FaultGoAway})
		case k < 18:
			// One burst at a time: bursts armed back to back (nothing used
			// them up yet) would add up to one long one, more than any
			// client can answer a directive through within Alexa's 8 s.
			if e.emu.State().PendingFaults > 0 {
				counts["status-skipped"]++
				break
			}
			counts["status"]++
			e.inject(ctx, avstest.Fault{Kind: avstest.FaultStatus, Status: []int{429, 503}[r.IntN(2)], Count: 2, Target: avstest.TargetEvents})
		case k < 19:
			counts["drop"]++
			e.inject(ctx, avstest.Fault{Kind: avstest.FaultDropDownchannel})
		default:
			if e.killVirtualBridge(ctx) {
				counts["bridge-kill"]++
			}
		}
		if t.Failed() {
			break
		}
	}
	t.Logf("actions: %v", counts)
	e.waitConnected()
	e.waitConsistent()
	e.noRefusedEvents(429, 503)
	if base == nil {
		t.Fatal("the soak ended before its warm-up")
	}
	// Let what the last actions started settle before comparing.
	var last usage
	err := pollErr(ctx, func() error {
		last = measure()
		return base.grew(last)
	})
	if err != nil {
		t.Errorf("resources grew during the soak: %v (baseline %+v, end %+v)", err, *base, last)
	}
	t.Logf("end: %+v", last)
}

// inject applies a fault and waits for the hub to be connected again.
func (e *testEnv) inject(ctx context.Context, f avstest.Fault) {
	e.t.Helper()
	before := e.emu.State().Connections
	if err := e.emu.Inject(f); err != nil {
		e.t.Errorf("inject %+v: %v", f, err)
		return
	}
	if _, err := e.emu.WaitForState(ctx, func(s avstest.State) bool {
		return (f.Kind == avstest.FaultStatus || s.Connections > before) && s.Connected && s.PostConnectDone
	}); err != nil {
		e.t.Errorf("after %+v: %v", f, err)
	}
}

// killVirtualBridge SIGKILLs the virtual bridge and waits until its endpoints are reachable
// again. A bridge up for less than the supervisor's fast-crash window (10 s)
// is left alone: five such kills in a row rightly park it as failed, which is
// plugins/host's tested behaviour, not what the soak is after.
func (e *testEnv) killVirtualBridge(ctx context.Context) bool {
	e.t.Helper()
	pid := e.bridgePID()
	if pid == 0 {
		return false
	}
	for _, st := range e.hub.bridges.statuses() {
		if st.Name == "virtual" && time.Since(st.Since) < 11*time.Second {
			return false
		}
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if err := pollErr(ctx, func() error {
		if p := e.bridgePID(); p == 0 || p == pid {
			return fmt.Errorf("bridge not restarted")
		}
		for _, ent := range e.hub.reg.List() {
			if ent.Endpoint.Bridge == "virtual" && !ent.Reachable {
				return fmt.Errorf("%s unreachable", ent.Endpoint.ID)
			}
		}
		return nil
	}); err != nil {
		e.t.Errorf("bridge restart: %v", err)
	}
	return true
}

// usage is what must not grow in a long run.
type usage struct {
	Goroutines int
	HeapMB     float64
	FDs        int
}

func measure() usage {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fds, _ := os.ReadDir("/proc/self/fd")
	return usage{Goroutines: runtime.NumGoroutine(), HeapMB: float64(m.HeapInuse) / (1 << 20), FDs: len(fds)}
}

// grew allows for what is in flight at any moment, not for a trend.
func (b usage) grew(now usage) error {
	switch {
	case now.Goroutines > b.Goroutines+25:
		return fmt.Errorf("goroutines %d → %d", b.Goroutines, now.Goroutines)
	case now.HeapMB > b.HeapMB*1.3+4:
		return fmt.Errorf("heap %.1f MB → %.1f MB", b.HeapMB, now.HeapMB)
	case now.FDs > b.FDs+10:
		return fmt.Errorf("file descriptors %d → %d", b.FDs, now.FDs)
	}
	return nil
}
