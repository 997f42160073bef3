package router

import (
	"context"
	"encoding/json"
	"time"
)

// ViewStore keeps what Alexa was last told of each endpoint across restarts
// (*store.Bolt and *store.Mem satisfy it).
type ViewStore interface {
	List(bucket string) (map[string][]byte, error)
	Update(bucket string, put map[string][]byte, del []string) error
}

// ViewBucket holds endpoint id → {property key: JSON value Alexa accepted}.
const ViewBucket = "router.alexa-view"

// viewFlushEvery batches view writes: the directive path never waits for the
// disk, and a crash loses at most this much of the view (at worst one
// needless or one missed re-sync ChangeReport).
const viewFlushEvery = 100 * time.Millisecond

// loadView seeds what Alexa knows of each endpoint from the store. An endpoint
// seeded this way is compared, when its bridge first reports it, with its
// state then: what differs (changed while the hub was down, or lost with a
// bridge's memory) goes to Alexa as a ChangeReport with cause PERIODIC_POLL.
func (r *Router) loadView() {
	if r.opts.View == nil {
		return
	}
	all, err := r.opts.View.List(ViewBucket)
	if err != nil {
		r.log.Warn("router: cannot load what Alexa was last told; a restart will not re-sync state", "err", err)
		return
	}
	for id, raw := range all {
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil || m == nil {
			r.log.Warn("router: skipping a stored Alexa view that does not parse", "endpoint", id, "err", err)
			continue
		}
		s := r.ep(id)
		s.known, s.seeded = m, true
	}
}

// viewChanged marks id's view for the next write.
func (r *Router) viewChanged(id string) {
	if r.opts.View != nil {
		r.viewDirty[id] = true
	}
}

// runView writes changed views every viewFlushEvery until ctx ends, then once more.
func (r *Router) runView(ctx context.Context) {
	if r.opts.View == nil {
		return
	}
	t := time.NewTicker(viewFlushEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			r.flushView(&failing)
			return
		case <-t.C:
			r.flushView(&failing)
		}
	}
}

func (r *Router) flushView(failing *bool) {
	r.mu.Lock()
	if len(r.viewDirty) == 0 {
		r.mu.Unlock()
		return
	}
	put := map[string][]byte{}
	var del []string
	for id := range r.viewDirty {
		s := r.eps[id]
		if s == nil || s.known == nil {
			del = append(del, id)
			continue
		}
		b, err := json.Marshal(s.known)
		if err != nil {
			continue
		}
		put[id] = b
	}
	dirty := r.viewDirty
	r.viewDirty = map[string]bool{}
	r.mu.Unlock()
	if err := r.opts.View.Update(ViewBucket, put, del); err != nil {
		r.mu.Lock()
		for id := range dirty { // try again next time
			r.viewDirty[id] = true
		}
		r.mu.Unlock()
		if !*failing {
			r.log.Warn("router: cannot persist what Alexa was told (a restart may not re-sync state)", "err", err)
		}
		*failing = true
		return
	}
	if *failing {
		r.log.Info("router: persisting what Alexa was told works again")
	}
	*failing = false
	r.log.Debug("router: saved what Alexa was told", "endpoints", len(put), "deleted", len(del))
}
