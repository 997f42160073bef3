package zigbee

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/discovery/model"
)

// refreshParallel bounds how many devices the refresh reads at once, so that
// a large network does not fill the coordinator's buffers (BUFFER_FULL).
const refreshParallel = 4

// macTransactionPersistence is how long a parent holds a frame for a sleepy
// child (Zigbee's default macTransactionPersistenceTime, 7.68 s): a sleepy
// device gets that much more time to poll for a read.
const macTransactionPersistence = 7680 * time.Millisecond

// stateRead is one Read Attributes of the refresh.
type stateRead struct {
	cluster uint16
	ids     []uint16
}

// stateReads lists the reads that fetch a device's state. Call with b.mu held.
func (r *record) stateReads() []stateRead {
	var out []stateRead
	for _, c := range append(stateClusters[:len(stateClusters):len(stateClusters)], zcl.ClusterIASZone) {
		if !r.stateCluster(c) {
			continue
		}
		if ids := r.stateIDs(c); len(ids) > 0 {
			out = append(out, stateRead{cluster: c, ids: ids})
		}
	}
	return out
}

// refreshAll re-reads the state of every known (interviewed) device once the
// coordinator is up: reports a device sent while the bridge, the hub or the
// stick was down are lost, and a device may have been switched by hand
// meanwhile. Run already sent the snapshot from the database; what differs
// follows as state changes (PERIODIC_POLL). It returns when every device has
// answered or failed, or ctx (the coordinator session) ends.
func (b *Bridge) refreshAll(ctx context.Context) {
	b.mu.Lock()
	var ids []string
	now := time.Now()
	for id, r := range b.devices {
		if r.Interviewed && !b.interviewing[id] && len(r.stateReads()) > 0 {
			ids = append(ids, id)
			b.lastSeen[id] = now // this is the interval's availability check too
		}
	}
	b.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	sort.Strings(ids)
	b.log.Info("zigbee: reading the current state of the known devices", "devices", len(ids))
	work := make(chan string)
	var wg sync.WaitGroup
	for i := 0; i < min(refreshParallel, len(ids)); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				b.refresh(ctx, id)
			}
		}()
	}
	for _, id := range ids {
		select {
		case work <- id:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
}

// refresh reads one device's state attributes and applies what changed
// (PERIODIC_POLL). An answer makes the device reachable. A mains-powered
// device (a router, always listening) that does not answer within the
// response timeout is unreachable; a sleepy battery device that does not
// answer keeps its reachability (it may simply not have polled its parent in
// time: its next frame, or a failed command, decides).
func (b *Bridge) refresh(ctx context.Context, ieee string) {
	b.mu.Lock()
	r := b.devices[ieee]
	if r == nil || !r.Interviewed {
		b.mu.Unlock()
		return
	}
	reads, mains := r.stateReads(), r.mains()
	// A command started or a report received after this point carries newer
	// state than the reads: their values are then dropped (the command's
	// result and the device's reports tell the truth).
	gen := b.news[ieee]
	hook := b.testHookRefreshRead
	budget := b.cfg.responseTimeout() + time.Second
	if !mains {
		budget += macTransactionPersistence
	}
	b.mu.Unlock()
	answered, whole := false, false
	var sets []attrSet
	// What was read is applied (as one state change) even if a later read fails.
	defer func() {
		if hook != nil {
			hook(ieee)
		}
		b.applyAttributeSetsIf(ieee, sets, model.CausePoll, whole, func() bool { return b.news[ieee] == gen })
	}()
	for _, rd := range reads {
		rctx, cancel := context.WithTimeout(ctx, budget)
		v, err := b.readAttrs(rctx, ieee, rd.cluster, false, rd.ids)
		cancel()
		if ctx.Err() != nil {
			return // the session ended: nothing is known about the device
		}
		if errors.Is(err, errReadRefused) {
			// The device answered, but refused this read: it is there.
			b.log.Info("zigbee: device refused a state read", "ieee", ieee, "cluster", fmt.Sprintf("0x%04x", rd.cluster), "err", err)
			answered = true
			continue
		}
		if err != nil {
			var de *model.Error
			if errors.As(err, &de) && de.Kind == model.ErrUnreachable && mains {
				b.log.Info("zigbee: device does not answer a state read; unreachable", "ieee", ieee, "err", err)
				b.setReachable(ieee, false)
			} else {
				b.log.Info("zigbee: could not read the device's state", "ieee", ieee, "mains", mains, "err", err)
			}
			return
		}
		answered = true
		b.mu.Lock()
		b.lastSeen[ieee] = time.Now()
		b.mu.Unlock()
		b.setReachable(ieee, true)
		var attrs []zcl.Attribute
		for _, id := range rd.ids {
			if x, ok := v[id]; ok {
				attrs = append(attrs, zcl.Attribute{ID: id, Value: x})
			}
		}
		sets = append(sets, attrSet{cluster: rd.cluster, attrs: attrs})
	}
	whole = len(sets) == len(reads)
	if answered {
		b.setReachable(ieee, true)
	}
}
