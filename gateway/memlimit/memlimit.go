// Package memlimit keeps the hub process's Go memory near a target: a soft
// memory limit (runtime/debug.SetMemoryLimit) that follows the live heap. Go's
// collector lets the heap grow to twice what was live after the last
// collection, so a burst of garbage (a flood of messages a peer sends, each
// copied and dropped) doubles a small hub's memory; with the limit the
// collector runs earlier instead. The limit never goes below one and a half
// times the live heap plus a margin, so a big hub (thousands of endpoints) is
// never held below what it needs: its collector runs as with GOGC=50, not
// continuously.
//
// The live heap the limit follows is the smallest read over the last window
// (10 s): a burst that keeps memory live for a few seconds (a flood of
// messages, each held while it is fanned out, and everything allocated while
// the collector marks, which it counts as live) does not raise the limit,
// so the heap does not grow into the room it would make; a heap that stays
// bigger (a hub that has grown) raises it within the window. While a burst
// lasts the collector runs more often (at most half the CPU: the runtime's
// limiter for a soft limit).
package memlimit

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"time"
)

// DefaultFloor is the limit while the live heap is small (hub.memoryLimit's
// default). The hub's resident memory is this limit (the Go heap and
// runtime; the heap stays at it while the collector keeps up with a flood)
// plus the executable's pages, about 23 MiB: with 40 MiB, a hub under the
// broker attacks (TestSoakAttackMemory) sat at 62–63 MiB and went past 64
// on a loaded machine (67.7 MiB); with 34 MiB (and the broker's wait for a
// collection after a large publication near the limit) its peaks are
// 55–57 MiB, for about twice the collections during the attacks (223–249
// instead of 113 in 27 s, 4–5 % of its CPU; BENCHMARKS.md).
const DefaultFloor = 34 << 20

// margin is added to the live heap and half of it: goroutine stacks, the runtime's own.
const margin = 4 << 20

// interval is how often the limit follows the live heap.
const interval = time.Second

// window is how many reads of the live heap (one per interval) the limit
// follows the smallest of.
const window = 10

// follower is the smallest of the last window reads of the live heap.
type follower struct {
	reads []int64
}

// next adds a read of the live heap and returns the smallest of the last window.
func (f *follower) next(live int64) int64 {
	if len(f.reads) == window {
		f.reads = f.reads[1:]
	}
	f.reads = append(f.reads, live)
	return slices.Min(f.reads)
}

// Limit is the soft limit for a live heap of live bytes: floor, or one and a
// half times the live heap plus a margin when that is more.
func Limit(floor, live int64) int64 {
	return max(floor, live+live/2+margin)
}

// Run sets the limit for floor now and then every second until ctx ends. It
// does nothing when GOMEMLIMIT is set in the environment (the operator's
// choice wins) or floor is negative (turned off).
func Run(ctx context.Context, floor int64, log *slog.Logger) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" || floor < 0 {
		log.Debug("memory limit left to the Go runtime", "GOMEMLIMIT", v, "floor", floor)
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var f follower
	set := func() {
		metrics.Read(sample)
		var live int64
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live = int64(sample[0].Value.Uint64())
		}
		debug.SetMemoryLimit(Limit(floor, f.next(live)))
	}
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	set()
	log.Debug("soft memory limit set", "floor", floor)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			set()
		}
	}
}
