package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/gateway/alexa"
	"github.com/avshub/avshub/gateway/store"
)

// The router remembers what Alexa last received of each endpoint only in
// memory: after a hub restart, an endpoint "first seen by a snapshot" reports
// nothing until it changes. But a restarted bridge (or a device changed while
// the hub was down) may now differ from what Alexa was told before. So the
// hub keeps its own, persisted copy of the property values Alexa accepted
// (every Response, StateReport and ChangeReport it sent), and when an
// endpoint is first seen in this run it sends one ChangeReport (cause
// PERIODIC_POLL) for the proactively reported properties that differ.
//
// Writes are asynchronous (batched by a writer goroutine, at most one
// transaction per viewFlushEvery) so that the directive path never waits for
// the disk; a SIGKILL can lose the last 100 ms of this memory, which at worst
// means one needless or one missed re-sync.

// viewBucket holds endpoint id → {"namespace|instance|name": value JSON}.
const viewBucket = "alexa-view"

type alexaView struct {
	st  store.Store
	log *slog.Logger

	mu      sync.Mutex
	props   map[string]map[string]json.RawMessage
	dirty   map[string]bool
	kick    chan struct{}
	failing bool // the last write failed (run goroutine only)
}

func newAlexaView(st store.Store, log *slog.Logger) *alexaView {
	v := &alexaView{st: st, log: log, props: map[string]map[string]json.RawMessage{}, dirty: map[string]bool{},
		kick: make(chan struct{}, 1)}
	all, err := st.List(viewBucket)
	if err != nil {
		log.Warn("cannot load what Alexa was last told; restarts will not re-sync state", "err", err)
		return v
	}
	for id, raw := range all {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			log.Warn("skipping a stored Alexa view that does not parse", "endpoint", id, "err", err)
			continue
		}
		v.props[id] = m
	}
	return v
}

func propKey(namespace, instance, name string) string { return namespace + "|" + instance + "|" + name }

// canonical encodes a property value as the hub sends it (encoding/json,
// compact), so that equal values compare equal as bytes.
func canonical(v any) (json.RawMessage, error) { return json.Marshal(v) }

// wireProp is a context property as sent, its value kept raw (decoding only
// what is needed keeps record cheap: it runs for every event).
type wireProp struct {
	Namespace string          `json:"namespace"`
	Instance  string          `json:"instance"`
	Name      string          `json:"name"`
	Value     json.RawMessage `json:"value"`
}

// record notes the properties of an event Alexa accepted.
func (v *alexaView) record(event []byte) {
	var ev struct {
		Context struct {
			Properties []wireProp `json:"properties"`
		} `json:"context"`
		Event struct {
			Header struct {
				Name string `json:"name"`
			} `json:"header"`
			Endpoint struct {
				EndpointID string `json:"endpointId"`
			} `json:"endpoint"`
			Payload struct {
				Change struct {
					Properties []wireProp `json:"properties"`
				} `json:"change"`
			} `json:"payload"`
		} `json:"event"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return
	}
	switch ev.Event.Header.Name {
	case "Response", "StateReport", "ChangeReport":
	default:
		return
	}
	id := ev.Event.Endpoint.EndpointID
	props := append(ev.Context.Properties, ev.Event.Payload.Change.Properties...)
	if id == "" || len(props) == 0 {
		return
	}
	v.mu.Lock()
	m := v.props[id]
	if m == nil {
		m = map[string]json.RawMessage{}
		v.props[id] = m
	}
	changed := false
	var buf bytes.Buffer
	for _, p := range props {
		buf.Reset()
		if json.Compact(&buf, p.Value) != nil {
			continue
		}
		k := propKey(p.Namespace, p.Instance, p.Name)
		if !bytes.Equal(m[k], buf.Bytes()) {
			m[k] = bytes.Clone(buf.Bytes())
			changed = true
		}
	}
	if changed {
		v.dirty[id] = true
	}
	v.mu.Unlock()
	if changed {
		select {
		case v.kick <- struct{}{}:
		default:
		}
	}
}

// known returns a copy of what Alexa was last told of an endpoint.
func (v *alexaView) known(id string) map[string]json.RawMessage {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]json.RawMessage, len(v.props[id]))
	for k, x := range v.props[id] {
		out[k] = x
	}
	return out
}

// forget drops an endpoint (deleted from Alexa).
func (v *alexaView) forget(id string) {
	v.mu.Lock()
	if _, ok := v.props[id]; ok {
		delete(v.props, id)
		v.dirty[id] = true
	}
	v.mu.Unlock()
	select {
	case v.kick <- struct{}{}:
	default:
	}
}

// viewFlushEvery bounds how often the view is written under load (each
// write is a bbolt transaction with an fsync); an idle hub writes at once.
const viewFlushEvery = 100 * time.Millisecond

// run writes dirty endpoints until ctx ends, then once more.
func (v *alexaView) run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			v.flush()
			return nil
		case <-v.kick:
			v.flush()
		}
		select { // rate limit: changes meanwhile wait in dirty
		case <-ctx.Done():
			v.flush()
			return nil
		case <-time.After(viewFlushEvery):
		}
	}
}

func (v *alexaView) flush() {
	v.mu.Lock()
	put := map[string][]byte{}
	var del []string
	for id := range v.dirty {
		if m, ok := v.props[id]; ok {
			b, err := json.Marshal(m)
			if err == nil {
				put[id] = b
			}
		} else {
			del = append(del, id)
		}
	}
	clear(v.dirty)
	v.mu.Unlock()
	if len(put) > 0 || len(del) > 0 {
		err := v.st.Update(viewBucket, put, del)
		switch {
		case err != nil:
			v.mu.Lock() // keep them dirty: written once the store works again
			for id := range put {
				v.dirty[id] = true
			}
			for _, id := range del {
				v.dirty[id] = true
			}
			v.mu.Unlock()
			if !v.failing { // once per streak of failures (a full disk fails every write)
				v.failing = true
				v.log.Warn("cannot persist what Alexa was told (a restart may not re-sync state)", "err", err)
			}
		case v.failing:
			v.failing = false
			v.log.Info("persisting what Alexa was told works again")
		default:
			v.log.Debug("saved what Alexa was told", "endpoints", len(put)+len(del))
		}
	}
}

// resyncer sends the ChangeReports that bring Alexa in line after a restart.
type resyncer struct {
	h       *Hub
	seen    map[string]bool // endpoints already checked in this run (resync goroutine only)
	pending chan string
}

func newResyncer(h *Hub) *resyncer {
	return &resyncer{h: h, seen: map[string]bool{}, pending: make(chan string, 1024)}
}

// note is called for every registry change (watchRegistry): an endpoint's
// first reachable appearance in this run is queued for a check.
func (r *resyncer) note(c discovery.Change) {
	if c.Kind == discovery.ChangeRemoved {
		r.h.view.forget(c.Entry.Endpoint.ID)
		return
	}
	if !c.Entry.Reachable {
		return
	}
	select {
	case r.pending <- c.Entry.Endpoint.ID:
	default: // a full queue: the check of a burst of 1024 endpoints catches up on the next change
	}
}

// run checks queued endpoints, after the coalescing window so that the
// router's own reports (and snapshots) settle first.
func (r *resyncer) run(ctx context.Context) error {
	window := max(r.h.cfg.Router.ChangeReportWindow, 50*time.Millisecond)
	for {
		var batch []string
		select {
		case <-ctx.Done():
			return nil
		case id := <-r.pending:
			batch = append(batch, id)
		}
		t := time.NewTimer(window)
	gather:
		for {
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case id := <-r.pending:
				batch = append(batch, id)
			case <-t.C:
				break gather
			}
		}
		for _, id := range batch {
			if r.seen[id] {
				continue
			}
			r.seen[id] = true
			r.check(ctx, id)
		}
	}
}

// check sends one ChangeReport if what Alexa last accepted differs from the
// endpoint's state in a proactively reported property.
func (r *resyncer) check(ctx context.Context, id string) {
	known := r.h.view.known(id)
	if len(known) == 0 {
		return // Alexa was never told a state: nothing to correct
	}
	e, ok := r.h.reg.Get(id)
	if !ok || !e.Reachable {
		return
	}
	var changed, unchanged []alexa.Property
	for _, p := range r.h.profile.Properties(e.Endpoint, e.State, e.Reachable, time.Now()) {
		c, err := canonical(p.Value)
		if err != nil {
			continue
		}
		old, told := known[propKey(p.Namespace, p.Instance, p.Name)]
		if told && !bytes.Equal(old, c) && r.h.profile.Proactive(e.Endpoint, p) {
			changed = append(changed, p)
		} else {
			unchanged = append(unchanged, p)
		}
	}
	if len(changed) == 0 {
		return
	}
	ev, err := alexa.NewChangeReport(id, discovery.CausePoll, changed, unchanged)
	if err != nil {
		r.h.log.Warn("re-sync ChangeReport", "endpoint", id, "err", err)
		return
	}
	r.h.log.Info("state differs from what Alexa was last told; re-syncing", "endpoint", id, "properties", len(changed))
	if err := r.h.conn.Send(ctx, ev); err != nil && ctx.Err() == nil {
		r.h.log.Warn("re-sync ChangeReport not delivered", "endpoint", id, "err", err)
	}
}
