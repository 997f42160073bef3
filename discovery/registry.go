package discovery

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"github.com/avshub/avshub/discovery/model"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"time"
)

// Store is the persistence the Registry and the Manager need: buckets of keys
// and values with atomic multi-key writes. gateway/store.Store satisfies it
// (discovery does not import it, so bridges never link the hub's store).
type Store interface {
	// List returns every key and value of bucket (empty for a missing bucket).
	List(bucket string) (map[string][]byte, error)
	// Update applies puts and deletes to one bucket in a single atomic write.
	Update(bucket string, put map[string][]byte, del []string) error
}

// EndpointsBucket is the store bucket holding the last known endpoints (id →
// persisted JSON), so a restart knows them before the bridges report.
const EndpointsBucket = "discovery.endpoints"

// DefaultSubscriberBuffer is how many changes may wait for a subscriber (see Subscribe).
const DefaultSubscriberBuffer = 1024

// Entry is the registry's view of one endpoint.
type Entry struct {
	Endpoint  model.Endpoint
	State     model.State
	Reachable bool
	Updated   time.Time
	// Link is the device's radio link as its bridge last reported it (nil:
	// the bridge does not say). It changes without a Change: the page and the
	// CLI read it when they show the endpoint.
	Link *model.Link
	// Settings are what a person set on the hub for this endpoint (name, area,
	// hidden); the Endpoint's FriendlyName already carries the name.
	Settings Settings
}

// ChangeKind says what a Change is about.
type ChangeKind string

// Change kinds.
const (
	ChangeAdded        ChangeKind = "added"
	ChangeUpdated      ChangeKind = "updated" // the endpoint's description or traits changed (also a hub rename)
	ChangeRemoved      ChangeKind = "removed"
	ChangeState        ChangeKind = "state"
	ChangeReachability ChangeKind = "reachability"
)

// Change is one change of the registry, with the entry after it (before it for
// ChangeRemoved). Changed holds the changed state fields for ChangeState, and
// Cause the bridge's cause for it.
type Change struct {
	Kind    ChangeKind
	Entry   Entry
	Changed model.State
	Cause   model.Cause
}

// RegistryOption configures a Registry.
type RegistryOption func(*Registry)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) RegistryOption { return func(r *Registry) { r.log = l } }

// WithStore persists the endpoints (not their state) in s and loads the last
// known ones at NewRegistry: they start unreachable until their bridge reports.
func WithStore(s Store) RegistryOption { return func(r *Registry) { r.store = s } }

// WithClock sets the clock used for Entry.Updated (tests).
func WithClock(now func() time.Time) RegistryOption { return func(r *Registry) { r.now = now } }

// DefaultBridgeLimit is the most endpoints one bridge may register (see WithBridgeLimit).
const DefaultBridgeLimit = 10000

// WithBridgeLimit sets the most endpoints one bridge may register (default
// DefaultBridgeLimit; n <= 0 keeps the default). Devices past it are refused
// and logged: a bridge cannot take the hub's memory, store and status page with
// an unbounded device list.
func WithBridgeLimit(n int) RegistryOption {
	return func(r *Registry) {
		if n > 0 {
			r.limit = n
		}
	}
}

// WithBridgeLimits sets the limit of each named bridge (bridges[].maxEndpoints);
// a bridge not named, or with n <= 0, has the registry's limit (WithBridgeLimit).
func WithBridgeLimits(limits map[string]int) RegistryOption {
	return func(r *Registry) {
		for b, n := range limits {
			if n > 0 {
				r.limits[b] = n
			}
		}
	}
}

// SetBridgeLimit changes bridge's limit (n <= 0: the registry's limit), as a
// reload does. It applies to the devices the bridge adds from then on; those
// it holds stay until its next snapshot.
func (r *Registry) SetBridgeLimit(bridge string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n > 0 {
		r.limits[bridge] = n
	} else {
		delete(r.limits, bridge)
	}
}

// limitOf is bridge's limit. r.mu is held.
func (r *Registry) limitOf(bridge string) int {
	if n, ok := r.limits[bridge]; ok {
		return n
	}
	return r.limit
}

// WithSubscriberBuffer sets how many changes may wait for each subscriber.
func WithSubscriberBuffer(n int) RegistryOption { return func(r *Registry) { r.subBuf = max(n, 1) } }

// Registry is the in-memory view of every bridge's devices under their global
// endpoint ids. Bridges report a Snapshot first (it replaces that bridge's whole
// set), then changes. Friendly names are made unique across all bridges with
// DedupeFriendlyNames. It is safe for concurrent use.
type Registry struct {
	serial string
	log    *slog.Logger
	store  Store
	now    func() time.Time
	subBuf int
	limit  int
	limits map[string]int // per bridge, overriding limit

	mu      sync.RWMutex
	entries map[string]*entry
	ids     idIndex // the ids of entries, sorted
	names   nameIndex
	// namesDirty: a change the name index cannot follow was made; fixNames runs
	// the full de-duplication pass.
	namesDirty bool
	counts     map[countKey]int
	perBridge  map[string]int
	refused    map[string]int  // devices refused by the limit since the bridge was last under it
	logged     map[string]bool // a refusal was logged since the bridge was last under the limit
	health     map[string]model.Health
	synced     map[string]bool
	// syncedNow is closed (and replaced) when a bridge is first synced
	// (SyncedChanged).
	syncedNow chan struct{}
	subs      map[*subscriber]struct{}
	seq       uint64 // changes published so far (Seq)
	// settings by endpoint id, kept (and persisted) even while the endpoint is gone.
	settings map[string]Settings
}

type entry struct {
	Entry
	reported model.Endpoint // as the bridge reported it (before de-duplication)
	// stateAt is when the bridge knew State (zero for an endpoint loaded from
	// the store): a device whose Device.StateAt is older does not replace it.
	stateAt time.Time
}

// subscriber is one subscription: the changes not yet taken by its
// reader wait in queue (at most the registry's subBuf, the one being handed
// over included), and its forwarder goroutine hands them to ch one at a
// time. The queue takes memory only while changes wait: a channel buffered
// for subBuf changes (936 bytes each) held about 1 MB per subscription for
// as long as it lived, and the collector scanned it on every cycle.
type subscriber struct {
	ch   chan Change   // unbuffered; closed by the forwarder
	wake chan struct{} // a change was queued, or the subscriber was dropped

	mu      sync.Mutex
	queue   []Change // queue[0] is being handed over
	dropped bool     // too slow: hand over what is queued, then close ch
}

// push queues c unless max changes already wait; it reports whether it did.
func (s *subscriber) push(c Change, max int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) >= max {
		return false
	}
	s.queue = append(s.queue, c)
	s.signal()
	return true
}

// drop makes the forwarder close ch once what is queued is handed over.
func (s *subscriber) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropped = true
	s.signal()
}

func (s *subscriber) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// forward hands the queued changes to ch, in order, until the subscriber is
// dropped (then once the queue is empty) or ctx ends; then it closes ch.
func (s *subscriber) forward(ctx context.Context) {
	defer close(s.ch)
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.queue = nil // the memory goes with the backlog
			dropped := s.dropped
			s.mu.Unlock()
			if dropped {
				return
			}
			select {
			case <-s.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		c := s.queue[0]
		s.mu.Unlock()
		select {
		case s.ch <- c:
		case <-ctx.Done():
			return
		}
		s.mu.Lock()
		s.queue[0] = Change{}
		s.queue = s.queue[1:]
		s.mu.Unlock()
	}
}

// persisted is the stored form of an endpoint.
type persisted struct {
	Endpoint model.Endpoint `json:"endpoint"`
	State    model.State    `json:"state"`
}

// NewRegistry returns an empty registry for the hub with that serial number
// (or, WithStore, one holding the last known endpoints).
func NewRegistry(serial string, opts ...RegistryOption) *Registry {
	r := &Registry{serial: serial, log: slog.Default(), now: time.Now, subBuf: DefaultSubscriberBuffer, limit: DefaultBridgeLimit, limits: map[string]int{},
		entries: map[string]*entry{}, health: map[string]model.Health{}, synced: map[string]bool{}, syncedNow: make(chan struct{}), subs: map[*subscriber]struct{}{},
		names: newNameIndex(), counts: map[countKey]int{}, perBridge: map[string]int{}, refused: map[string]int{}, logged: map[string]bool{},
		settings: map[string]Settings{}}
	for _, o := range opts {
		o(r)
	}
	if r.store != nil {
		r.load()
	}
	return r
}

func (r *Registry) load() {
	r.loadSettings()
	all, err := r.store.List(EndpointsBucket)
	if err != nil {
		r.log.Warn("discovery: cannot load the last known endpoints; starting empty", "err", err)
		return
	}
	for id, raw := range all {
		var p persisted
		if err := json.Unmarshal(raw, &p); err != nil || p.Endpoint.Bridge == "" ||
			model.EndpointID(r.serial, p.Endpoint.Bridge, p.Endpoint.DeviceID) != id {
			r.log.Warn("discovery: skipping a stored endpoint that does not parse", "id", id, "err", err)
			continue
		}
		r.entries[id] = &entry{Entry: Entry{Endpoint: p.Endpoint, State: p.State, Updated: r.now(), Settings: r.settings[id]}, reported: p.Endpoint}
		r.indexAdd(id, p.Endpoint)
	}
	r.dedupe(nil)
}

// ID returns the global endpoint id of a bridge's device.
func (r *Registry) ID(bridge, deviceID string) string {
	return model.EndpointID(r.serial, bridge, deviceID)
}

// Get returns the entry of one endpoint.
func (r *Registry) Get(endpointID string) (Entry, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.entries[endpointID]
	if !ok {
		return Entry{}, false
	}
	return e.copy(), true
}

// Has reports whether the registry holds endpointID (Get without the copy).
func (r *Registry) Has(endpointID string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.entries[endpointID]
	return ok
}

// List returns every entry, sorted by Endpoint.ID.
func (r *Registry) List() []Entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Entry, 0, len(r.ids.ids))
	for _, id := range r.ids.ids {
		out = append(out, r.entries[id].copy())
	}
	return out
}

// Len returns how many endpoints the registry holds.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.entries)
}

// Page returns at most limit entries (limit <= 0: all) whose ids sort after
// after ("" = from the first), in id order, and the id to pass as after for the
// next page ("" when this page reaches the end). Each page costs O(log n + limit).
func (r *Registry) Page(after string, limit int) (entries []Entry, next string) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	i := r.ids.after(after)
	end := len(r.ids.ids)
	if limit > 0 && i+limit < end {
		end = i + limit
	}
	entries = make([]Entry, 0, end-i)
	for _, id := range r.ids.ids[i:end] {
		entries = append(entries, r.entries[id].copy())
	}
	if end < len(r.ids.ids) && len(entries) > 0 {
		next = entries[len(entries)-1].Endpoint.ID
	}
	return entries, next
}

// Counts returns how many endpoints each bridge has per category (kept as the
// registry changes: no pass over the endpoints), sorted by bridge and category.
func (r *Registry) Counts() []EndpointCount {
	r.mu.RLock()
	out := make([]EndpointCount, 0, len(r.counts))
	for k, n := range r.counts {
		out = append(out, EndpointCount{Bridge: k.bridge, Category: k.category, N: n})
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bridge != out[j].Bridge {
			return out[i].Bridge < out[j].Bridge
		}
		return out[i].Category < out[j].Category
	})
	return out
}

// Refused returns how many devices of bridge the limit refused (its last
// snapshot's, plus those added past the limit since), 0 when it is under it.
func (r *Registry) Refused(bridge string) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.refused[bridge]
}

// BridgeHealth returns the last health a bridge reported.
func (r *Registry) BridgeHealth(bridge string) (model.Health, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	h, ok := r.health[bridge]
	return h, ok
}

// Synced reports whether a bridge has sent its snapshot since the registry started.
func (r *Registry) Synced(bridge string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.synced[bridge]
}

// SyncedChanged returns a channel closed the next time a bridge is first
// synced. A first snapshot need not change anything (after a restart the
// registry holds the endpoints it had), yet what waited for it may now
// proceed: the discovery manager deletes a bridge's departed or hidden
// endpoints from Alexa only once the bridge has said what it has.
func (r *Registry) SyncedChanged() <-chan struct{} {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.syncedNow
}

// Retain forgets every endpoint of a bridge not in bridges (e.g. one removed
// from the configuration), returning the removals.
func (r *Registry) Retain(bridges ...string) []Change {
	keep := map[string]bool{}
	for _, b := range bridges {
		keep[b] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for id, e := range r.entries {
		if !keep[e.Endpoint.Bridge] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var changes []Change
	for _, id := range ids {
		changes = append(changes, r.remove(id))
	}
	changes = r.fixNames(changes)
	r.persist(changes)
	r.publish(changes)
	return changes
}

// Subscribe returns a channel receiving every Change from now on, closed when
// ctx ends. Apply never blocks on a subscriber: up to DefaultSubscriberBuffer
// changes (see WithSubscriberBuffer) wait for it, and a subscriber that lets
// more pile up is dropped: it gets those that waited, then its channel is
// closed while its ctx is still live, and a warning is logged. A dropped
// subscriber resynchronises with List and Subscribe again. The waiting
// changes take memory only while they wait.
func (r *Registry) Subscribe(ctx context.Context) <-chan Change {
	s := &subscriber{ch: make(chan Change), wake: make(chan struct{}, 1)}
	r.mu.Lock()
	r.subs[s] = struct{}{}
	r.mu.Unlock()
	context.AfterFunc(ctx, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.subs, s)
	})
	go s.forward(ctx)
	return s.ch
}

// Seq counts the changes published so far: equal numbers mean no Change in
// between (the status page's revision).
func (r *Registry) Seq() uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.seq
}

// publish sends changes to the subscribers; r.mu is held.
func (r *Registry) publish(changes []Change) {
	r.seq += uint64(len(changes))
	for s := range r.subs {
		for _, c := range changes {
			if !s.push(c, r.subBuf) {
				r.log.Warn("discovery: a registry subscriber is too slow; dropping it (it must resubscribe)",
					"buffer", r.subBuf)
				delete(r.subs, s)
				s.drop()
				break
			}
		}
	}
}

// Apply applies one event of a bridge and returns what changed. Health events
// are recorded (BridgeHealth); completions change nothing here (the router
// handles them). Bad input is logged and skipped.
func (r *Registry) Apply(bridge string, ev model.Event) []Change {
	if bridge == "" {
		r.log.Warn("discovery: event without a bridge name; skipped", "kind", ev.Kind)
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	at := ev.At
	if at.IsZero() {
		at = r.now()
	}
	var changes []Change
	switch ev.Kind {
	case model.EventHealth:
		if ev.Health != nil {
			r.health[bridge] = *ev.Health
		}
		return nil
	case model.EventSnapshot:
		seen := make(map[string]bool, len(ev.Devices))
		refused := 0
		for _, d := range ev.Devices {
			id, ok := r.checkDevice(bridge, d)
			if !ok || seen[id] {
				if seen[id] {
					r.log.Warn("discovery: snapshot lists a device twice; keeping the first", "bridge", bridge, "device", d.Endpoint.DeviceID)
				}
				continue
			}
			if len(seen) >= r.limitOf(bridge) {
				refused++ // the snapshot's first devices up to the limit are kept
				continue
			}
			seen[id] = true
			changes = append(changes, r.upsert(id, bridge, d, at, false)...)
		}
		var gone []string
		for id, e := range r.entries {
			if e.Endpoint.Bridge == bridge && !seen[id] {
				gone = append(gone, id)
			}
		}
		sort.Strings(gone)
		for _, id := range gone {
			changes = append(changes, r.remove(id))
		}
		if !r.synced[bridge] {
			r.synced[bridge] = true
			close(r.syncedNow)
			r.syncedNow = make(chan struct{})
		}
		changes = r.fixNames(changes)
		if refused > 0 {
			r.log.Warn("discovery: a bridge's snapshot lists more devices than its limit; the devices past the limit are refused (raise bridges[].maxEndpoints to accept them)",
				"bridge", bridge, "limit", r.limitOf(bridge), "devices", len(ev.Devices), "refused", refused)
			r.refused[bridge], r.logged[bridge] = refused, true
		} else {
			delete(r.refused, bridge)
			delete(r.logged, bridge)
		}
	case model.EventUpsert:
		if ev.Device == nil {
			r.log.Warn("discovery: upsert without a device; skipped", "bridge", bridge)
			return nil
		}
		id, ok := r.checkDevice(bridge, *ev.Device)
		if !ok {
			return nil
		}
		changes = r.fixNames(r.upsert(id, bridge, *ev.Device, at, true))
		if r.refused[bridge] > 0 && !r.logged[bridge] {
			r.log.Warn("discovery: a bridge added more devices than its limit; the devices past the limit are refused (raise bridges[].maxEndpoints to accept them)",
				"bridge", bridge, "limit", r.limitOf(bridge), "device", ev.Device.Endpoint.DeviceID)
			r.logged[bridge] = true
		}
	case model.EventRemove:
		id := r.ID(bridge, ev.DeviceID)
		if _, ok := r.entries[id]; !ok {
			r.log.Debug("discovery: remove of an unknown device; ignored", "bridge", bridge, "device", ev.DeviceID)
			return nil
		}
		changes = r.fixNames([]Change{r.remove(id)})
	case model.EventState:
		e, ok := r.entries[r.ID(bridge, ev.DeviceID)]
		if !ok {
			r.log.Debug("discovery: state of an unknown device; ignored", "bridge", bridge, "device", ev.DeviceID)
			return nil
		}
		merged := e.State.Merge(ev.State)
		diff := model.DiffState(e.State, merged)
		if diff.IsZero() {
			return nil
		}
		e.State, e.Updated, e.stateAt = merged, at, at
		changes = []Change{{Kind: ChangeState, Entry: e.copy(), Changed: diff, Cause: ev.Cause}}
	case model.EventReachability:
		e, ok := r.entries[r.ID(bridge, ev.DeviceID)]
		if !ok {
			r.log.Debug("discovery: reachability of an unknown device; ignored", "bridge", bridge, "device", ev.DeviceID)
			return nil
		}
		if e.Reachable == ev.Reachable {
			return nil
		}
		e.Reachable, e.Updated = ev.Reachable, at
		changes = []Change{{Kind: ChangeReachability, Entry: e.copy()}}
	case model.EventLink:
		// Diagnostics for people: kept, not persisted nor published as a change.
		if e, ok := r.entries[r.ID(bridge, ev.DeviceID)]; ok && ev.Link != nil {
			e.Link = ev.Link.Clone()
		}
		return nil
	case model.EventCompletion:
		return nil
	default:
		r.log.Warn("discovery: unknown event kind; skipped", "bridge", bridge, "kind", ev.Kind)
		return nil
	}
	r.persist(changes)
	r.publish(changes)
	return changes
}

// checkDevice validates a device a bridge reported; r.mu is held.
func (r *Registry) checkDevice(bridge string, d model.Device) (string, bool) {
	if d.Endpoint.DeviceID == "" {
		r.log.Warn("discovery: device without an id; skipped", "bridge", bridge)
		return "", false
	}
	id := r.ID(bridge, d.Endpoint.DeviceID)
	if !model.ValidEndpointID(id) {
		r.log.Warn("discovery: device id gives an invalid endpoint id; skipped", "bridge", bridge, "device", d.Endpoint.DeviceID)
		return "", false
	}
	if err := model.ValidateFriendlyName(d.Endpoint.FriendlyName); err != nil {
		r.log.Warn("discovery: bad friendly name; the hub repairs it", "bridge", bridge, "device", d.Endpoint.DeviceID, "err", err)
	}
	return id, true
}

// upsert adds or replaces one device; r.mu is held. The device's state is the
// full state (it replaces the cached one).
//
// With checkLimit, a new device past the bridge's limit is refused (counted in
// r.refused); a snapshot applies the limit itself.
func (r *Registry) upsert(id, bridge string, d model.Device, at time.Time, checkLimit bool) []Change {
	ep := d.Endpoint.Clone()
	ep.ID, ep.Bridge = id, bridge
	if ep.Category == "" {
		ep.Category = model.CategoryOther
	}
	st, stateAt := d.State.Clone(), at
	if !d.StateAt.IsZero() && d.StateAt.Before(at) { // a time after the event's is the bridge's mistake: now
		stateAt = d.StateAt
	}
	e, ok := r.entries[id]
	if !ok {
		if checkLimit && r.perBridge[bridge] >= r.limitOf(bridge) {
			r.refused[bridge]++
			return nil
		}
		e = &entry{Entry: Entry{Endpoint: ep, State: st, Reachable: d.Reachable, Updated: at, Link: d.Link.Clone(), Settings: r.settings[id]},
			reported: ep, stateAt: stateAt}
		r.entries[id] = e
		r.indexAdd(id, ep)
		r.publishName(e)
		return []Change{{Kind: ChangeAdded, Entry: e.copy()}}
	}
	if d.Link != nil {
		e.Link = d.Link.Clone()
	}
	var changes []Change
	if !reflect.DeepEqual(e.reported, ep) {
		old := e.reported
		published := e.Endpoint.FriendlyName
		if old.Category != ep.Category { // same id, same bridge: only the category count moves
			if k := (countKey{bridge, old.Category}); r.counts[k] <= 1 {
				delete(r.counts, k)
			} else {
				r.counts[k]--
			}
			r.counts[countKey{bridge, ep.Category}]++
		}
		e.reported, e.Endpoint, e.Updated = ep, ep, at
		if model.FriendlyNameBase(r.named(id, old)) == model.FriendlyNameBase(r.named(id, ep)) {
			e.Endpoint.FriendlyName = published // the published name depends on the base name only
		} else {
			if !r.namesDirty && !r.names.tryRemove(r.named(id, old), published) {
				r.namesDirty = true
			}
			r.publishName(e)
		}
		changes = append(changes, Change{Kind: ChangeUpdated, Entry: e.copy()})
	}
	if stateAt.Before(e.stateAt) {
		// The bridge's state is older than what it reported since (a bridge
		// starting from its storage after a crash): the newer values stay, the
		// older state fills in only what the hub does not know.
		st, stateAt = st.Merge(e.State), e.stateAt
	}
	e.stateAt = stateAt
	if diff := model.DiffState(e.State, st); !diff.IsZero() || !reflect.DeepEqual(e.State, st) {
		e.State, e.Updated = st, at
		if !diff.IsZero() {
			changes = append(changes, Change{Kind: ChangeState, Entry: e.copy(), Changed: diff})
		}
	}
	if e.Reachable != d.Reachable {
		e.Reachable, e.Updated = d.Reachable, at
		changes = append(changes, Change{Kind: ChangeReachability, Entry: e.copy()})
	}
	return changes
}

// remove deletes one entry; r.mu is held.
func (r *Registry) remove(id string) Change {
	e := r.entries[id]
	delete(r.entries, id)
	r.indexRemove(id, e.reported)
	if !r.namesDirty && !r.names.tryRemove(r.named(id, e.reported), e.Endpoint.FriendlyName) {
		r.namesDirty = true
	}
	return Change{Kind: ChangeRemoved, Entry: e.copy()}
}

// named returns ep with the name it is published under before
// de-duplication: a person's name (Settings.Name) wins over the bridge's; r.mu
// is held.
func (r *Registry) named(id string, ep model.Endpoint) model.Endpoint {
	if n := r.settings[id].Name; n != "" {
		ep.FriendlyName = n
	}
	return ep
}

// indexAdd and indexRemove keep the id index and the counts; r.mu is held.
func (r *Registry) indexAdd(id string, ep model.Endpoint) {
	r.ids.insert(id)
	r.counts[countKey{ep.Bridge, ep.Category}]++
	r.perBridge[ep.Bridge]++
}

func (r *Registry) indexRemove(id string, ep model.Endpoint) {
	r.ids.remove(id)
	k := countKey{ep.Bridge, ep.Category}
	if r.counts[k]--; r.counts[k] <= 0 {
		delete(r.counts, k)
	}
	if r.perBridge[ep.Bridge]--; r.perBridge[ep.Bridge] <= 0 {
		delete(r.perBridge, ep.Bridge)
	}
	if r.perBridge[ep.Bridge] < r.limitOf(ep.Bridge) {
		delete(r.refused, ep.Bridge) // under the limit again: a later refusal is logged anew
		delete(r.logged, ep.Bridge)
	}
}

// publishName gives a new or renamed entry its published friendly name when no
// other endpoint holds it (the common case), or leaves it to the full pass; r.mu
// is held.
func (r *Registry) publishName(e *entry) {
	if r.namesDirty {
		return
	}
	named := r.named(e.Endpoint.ID, e.reported)
	name, ok := r.names.tryAdd(named)
	if !ok {
		r.namesDirty = true
		return
	}
	if name != named.FriendlyName {
		r.log.Warn("discovery: friendly name changed to keep names unique and valid (rename the device to fix)",
			"endpoint", e.Endpoint.ID, "name", e.reported.FriendlyName, "published", name)
	}
	e.Endpoint.FriendlyName = name
}

// fixNames re-runs the friendly-name de-duplication after endpoints were added,
// changed or removed, and folds the resulting renames into changes.
func (r *Registry) fixNames(changes []Change) []Change {
	if !r.namesDirty {
		return changes // every change was followed by the name index
	}
	return r.dedupe(changes)
}

// dedupe recomputes every endpoint's published name from the reported ones
// (deterministic: DedupeFriendlyNames over all bridges); r.mu is held. An entry
// whose published name changes gets a ChangeUpdated unless changes has one.
func (r *Registry) dedupe(changes []Change) []Change {
	ids := r.ids.ids // sorted
	eps := make([]model.Endpoint, len(ids))
	for i, id := range ids {
		eps[i] = r.named(id, r.entries[id].reported)
	}
	model.DedupeFriendlyNames(eps)
	published := make([]string, len(ids))
	for i := range eps {
		published[i] = eps[i].FriendlyName
		eps[i] = r.named(ids[i], r.entries[ids[i]].reported)
	}
	r.names.rebuild(eps, published)
	r.namesDirty = false
	at := make(map[string][]int, len(changes)) // endpoint id → its changes
	for j, c := range changes {
		at[c.Entry.Endpoint.ID] = append(at[c.Entry.Endpoint.ID], j)
	}
	for i, id := range ids {
		eps[i].FriendlyName = published[i]
		e := r.entries[id]
		if e.Endpoint.FriendlyName == eps[i].FriendlyName {
			continue
		}
		// Logged when the published name changes, not on every pass.
		if want := cmp.Or(r.settings[id].Name, e.reported.FriendlyName); eps[i].FriendlyName != want {
			r.log.Warn("discovery: friendly name changed to keep names unique and valid (rename the device to fix)",
				"endpoint", id, "name", e.reported.FriendlyName, "published", eps[i].FriendlyName)
		} else {
			if r.settings[id].Name != "" && eps[i].FriendlyName == r.settings[id].Name {
				r.log.Info("discovery: friendly name set on the hub", "endpoint", id, "name", eps[i].FriendlyName)
			} else {
				r.log.Info("discovery: friendly name is unique again", "endpoint", id, "name", eps[i].FriendlyName)
			}
		}
		e.Endpoint.FriendlyName = eps[i].FriendlyName
		found := false
		for _, j := range at[id] {
			if changes[j].Kind != ChangeRemoved {
				changes[j].Entry.Endpoint.FriendlyName = e.Endpoint.FriendlyName
				found = found || changes[j].Kind == ChangeAdded || changes[j].Kind == ChangeUpdated
			}
		}
		if !found {
			changes = append(changes, Change{Kind: ChangeUpdated, Entry: e.copy()})
		}
	}
	return changes
}

// persist writes added, updated and removed endpoints to the store; r.mu is held.
// A failed write is logged: the registry stays correct in memory.
func (r *Registry) persist(changes []Change) {
	if r.store == nil {
		return
	}
	put := map[string][]byte{}
	var del []string
	for _, c := range changes {
		id := c.Entry.Endpoint.ID
		switch c.Kind {
		case ChangeAdded, ChangeUpdated:
			e := r.entries[id]
			if e == nil {
				continue
			}
			raw, err := json.Marshal(persisted{Endpoint: e.reported, State: e.State})
			if err != nil {
				r.log.Error("discovery: cannot encode endpoint for the store", "endpoint", id, "err", err)
				continue
			}
			put[id] = raw
		case ChangeRemoved:
			if _, back := r.entries[id]; !back {
				delete(put, id)
				del = append(del, id)
			}
		}
	}
	if len(put) == 0 && len(del) == 0 {
		return
	}
	if err := r.store.Update(EndpointsBucket, put, del); err != nil {
		r.log.Error("discovery: cannot persist endpoints", "err", fmt.Errorf("discovery: %w", err))
	}
}

func (e *entry) copy() Entry {
	c := e.Entry
	c.State = c.State.Clone()
	c.Endpoint = c.Endpoint.Clone()
	c.Link = c.Link.Clone()
	return c
}
