package router

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// StoreBucket is the store bucket in which the router keeps what Alexa was
// last told of each endpoint: endpoint id → a JSON object mapping
// "namespace|instance|name" to the property's value as sent (compact JSON).
// It is the encoding of the hub's former "alexa-view" bucket, so that one can
// be adopted as it is.
const StoreBucket = "router.alexa-view"

// saveEvery bounds how often the record is written under load: each write is
// one store transaction (with bbolt, an fsync), and the changes of every
// endpoint told meanwhile go into the next one. An idle router writes at once.
// A crash loses at most the changes of this interval (at worst one needless
// or one missed re-sync ChangeReport after the restart).
const saveEvery = 100 * time.Millisecond

// load seeds what Alexa knows of each endpoint from the store (at New).
// Seeded endpoints are compared with their state when the registry first
// reports them in this run (see firstSight).
func (r *Router) load() {
	if r.opts.Store == nil {
		return
	}
	all, err := r.opts.Store.List(StoreBucket)
	if err != nil {
		r.log.Warn("router: cannot load what Alexa was last told; endpoints changed while the hub was down are not re-synced",
			"err", fmt.Errorf("router: %w", err))
		return
	}
	var buf bytes.Buffer
	for id, raw := range all {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
			r.log.Warn("router: skipping a stored record of what Alexa was told that does not parse", "endpoint", id, "err", err)
			continue
		}
		known := make(map[string]string, len(m))
		for k, v := range m {
			buf.Reset()
			if json.Compact(&buf, v) == nil {
				known[k] = buf.String()
			}
		}
		s := r.ep(id)
		s.known, s.seeded = known, true
	}
	if len(all) > 0 {
		r.log.Debug("router: loaded what Alexa was last told", "endpoints", len(all))
	}
}

// firstSight reports whether id was seeded from the store and is seen for the
// first time in this run; it then marks its next ChangeReport as a re-sync.
func (r *Router) firstSight(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.eps[id]
	if s == nil || !s.seeded {
		return false
	}
	s.seeded, s.resync = false, true
	return true
}

// unsave records that id's record must be written (known nil: deleted); r.mu
// is held. The writer is woken.
func (r *Router) unsave(id string, known map[string]string) {
	if r.opts.Store == nil {
		return
	}
	r.unsaved[id] = known
	select {
	case r.saveKick <- struct{}{}:
	default:
	}
}

// runStore writes the record until ctx ends, then once more. It never holds
// r.mu while writing, so directives never wait for the disk.
func (r *Router) runStore(ctx context.Context) {
	if r.opts.Store == nil {
		return
	}
	failing := false
	for {
		select {
		case <-ctx.Done():
			r.save(&failing)
			return
		case <-r.saveKick:
		}
		r.save(&failing)
		t := time.NewTimer(saveEvery) // changes meanwhile wait in unsaved
		select {
		case <-ctx.Done():
			t.Stop()
			r.save(&failing)
			return
		case <-t.C:
		}
	}
}

// save writes every unsaved record in one transaction. A failure is logged
// once per streak of failures; the records stay unsaved for the next write.
func (r *Router) save(failing *bool) {
	r.mu.Lock()
	batch := r.unsaved
	if len(batch) == 0 {
		r.mu.Unlock()
		return
	}
	r.unsaved = map[string]map[string]string{}
	r.mu.Unlock()

	put := map[string][]byte{}
	var del []string
	for id, known := range batch {
		if known == nil {
			del = append(del, id)
			continue
		}
		m := make(map[string]json.RawMessage, len(known))
		for k, v := range known {
			m[k] = json.RawMessage(v)
		}
		b, err := json.Marshal(m)
		if err != nil {
			r.log.Error("router: cannot encode what Alexa was told", "endpoint", id, "err", err)
			continue
		}
		put[id] = b
	}
	err := r.opts.Store.Update(StoreBucket, put, del)
	if err != nil {
		r.mu.Lock()
		for id, known := range batch {
			if _, newer := r.unsaved[id]; !newer {
				r.unsaved[id] = known
			}
		}
		r.mu.Unlock()
		if !*failing {
			r.log.Warn("router: cannot persist what Alexa was told (it is kept in memory; a restart may not re-sync state)",
				"err", fmt.Errorf("router: %w", err))
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
