package discovery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/avshub/avshub/discovery/model"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"
)

// Alexa.Discovery limits the Manager applies.
const (
	// MaxEndpoints is the most endpoints Alexa keeps per customer (and per report).
	MaxEndpoints = 300
	// MaxReportBytes is the budget for a report's endpoint JSON: 256 KB minus 10 KB
	// for the header and scope, as the AVS Device SDK budgets it.
	MaxReportBytes = 246 * 1024
)

// PublishedBucket is the store bucket of what Alexa was last told: endpoint id
// → JSON {"sha256": hash of the endpoint JSON it acknowledged, "bridge": name}.
const PublishedBucket = "discovery.published"

// Report names.
const (
	AddOrUpdateReport = "AddOrUpdateReport"
	DeleteReport      = "DeleteReport"
)

// Report is one Alexa.Discovery report to send: endpoint objects for
// AddOrUpdateReport, {"endpointId":…} objects for DeleteReport.
type Report struct {
	Name      string
	Endpoints []json.RawMessage
}

// StaticEndpoint is an endpoint the hub publishes besides the registry's (the
// hub's own, ALEXA_VOICE_ENABLED), already rendered.
type StaticEndpoint struct {
	ID   string
	JSON json.RawMessage
}

// Renderer renders one endpoint as an Alexa.Discovery endpoint object (the hub
// passes its alexa.Profile's Endpoint method).
type Renderer func(model.Endpoint) (json.RawMessage, error)

// ManagerOptions configures a Manager.
type ManagerOptions struct {
	// Store keeps what Alexa was last told (required).
	Store Store
	// Render renders registry endpoints (required).
	Render Renderer
	// Static endpoints are published first, in this order (the hub's own).
	Static []StaticEndpoint
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Bridges, when set, are the configured bridge names: endpoints of any other
	// bridge (e.g. remembered by the registry's store) are not published, and
	// deleted from Alexa at once. An endpoint of a configured
	// bridge is only deleted once that bridge has sent its snapshot
	// (Registry.Synced), so a restart never deletes devices before their bridge
	// reports.
	Bridges []string
	// MaxEndpoints and MaxReportBytes override the Alexa limits (tests).
	MaxEndpoints   int
	MaxReportBytes int
}

// Manager diffs what should be published (static endpoints plus the registry)
// against what Alexa acknowledged last, which it persists: AddOrUpdateReport for
// new or changed endpoints, DeleteReport for removed ones, nothing when nothing
// changed (after a restart or a reconnect too).
//
// More than MaxEndpoints: the static endpoints are published first, then the
// registry's in endpoint-id order, up to MaxEndpoints; the rest are left out
// (logged once per change of the set; see Omitted).
type Manager struct {
	reg     *Registry
	opts    ManagerOptions
	log     *slog.Logger
	changed chan struct{}

	bmu     sync.RWMutex
	bridges []string // the configured bridges (nil: every bridge); see SetBridges

	mu            sync.Mutex
	omitted       int       // endpoints left out by MaxEndpoints at the last Pending
	omittedLogged time.Time // when that was last logged
	cut           string    // the last registry id the last Pending looked at
	full          bool      // the last Pending reached MaxEndpoints
	unrenderabe   map[string]string
	bridgeOf      map[string]string // endpoint id → bridge, for Delivered
}

// NewManager returns a Manager over reg. Changed is signalled once at start so
// the first connection publishes whatever differs.
func NewManager(reg *Registry, opts ManagerOptions) (*Manager, error) {
	if reg == nil || opts.Store == nil || opts.Render == nil {
		return nil, errors.New("discovery: NewManager needs a registry, a store and a renderer")
	}
	if opts.MaxEndpoints <= 0 {
		opts.MaxEndpoints = MaxEndpoints
	}
	if opts.MaxReportBytes <= 0 {
		opts.MaxReportBytes = MaxReportBytes
	}
	seen := map[string]bool{}
	for _, s := range opts.Static {
		if !model.ValidEndpointID(s.ID) || seen[s.ID] || !json.Valid(s.JSON) {
			return nil, fmt.Errorf("discovery: static endpoint %q: invalid or duplicate id, or invalid JSON", s.ID)
		}
		seen[s.ID] = true
	}
	l := opts.Logger
	if l == nil {
		l = slog.Default()
	}
	m := &Manager{reg: reg, opts: opts, log: l, changed: make(chan struct{}, 1), unrenderabe: map[string]string{}, bridgeOf: map[string]string{},
		bridges: slices.Clone(opts.Bridges)}
	m.signal()
	return m, nil
}

// SetBridges replaces the configured bridge names (a configuration reload):
// endpoints of bridges no longer configured are deleted from Alexa by the
// next Pending, those of new ones published once they report.
func (m *Manager) SetBridges(names []string) {
	m.bmu.Lock()
	m.bridges = slices.Clone(names)
	if m.bridges == nil {
		m.bridges = []string{}
	}
	m.bmu.Unlock()
	m.signal()
}

// configured reports whether bridge is one of the configured bridges.
func (m *Manager) configured(bridge string) bool {
	m.bmu.RLock()
	defer m.bmu.RUnlock()
	return m.bridges == nil || slices.Contains(m.bridges, bridge)
}

// Changed is signalled when Pending may be non-empty.
func (m *Manager) Changed() <-chan struct{} { return m.changed }

func (m *Manager) signal() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// Run watches the registry and signals Changed when endpoints are added,
// updated or removed, and when a bridge is first synced (its departed or
// hidden endpoints may be deleted from then on), until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	for {
		ch := m.reg.Subscribe(ctx)
		synced := m.reg.SyncedChanged()
		m.signal() // anything may have changed while (re)subscribing
		for open := true; open; {
			select {
			case c, ok := <-ch:
				open = ok
				if ok && (c.Kind == ChangeAdded || c.Kind == ChangeUpdated || c.Kind == ChangeRemoved) {
					m.signal()
				}
			case <-synced:
				synced = m.reg.SyncedChanged()
				m.signal()
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		m.log.Warn("discovery: manager fell behind the registry; resubscribing")
	}
}

// Omitted returns the ids of endpoints left out because of the MaxEndpoints
// limit at the last Pending, sorted (computed on demand: a pass over the
// registry's ids after the last published one).
func (m *Manager) Omitted() []string { return m.OmittedFirst(0) }

// OmittedFirst returns the first n (n <= 0: all) of Omitted.
func (m *Manager) OmittedFirst(n int) []string {
	m.mu.Lock()
	cut, full := m.cut, m.full
	m.mu.Unlock()
	if !full {
		return nil
	}
	var out []string
	after := cut
	for {
		page, next := m.reg.Page(after, 1000)
		for _, e := range page {
			if m.configured(e.Endpoint.Bridge) {
				if out = append(out, e.Endpoint.ID); n > 0 && len(out) == n {
					return out
				}
			}
		}
		if next == "" {
			return out
		}
		after = next
	}
}

// OmittedCount returns how many endpoints the MaxEndpoints limit left out at
// the last Pending.
func (m *Manager) OmittedCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.omitted
}

type rendered struct {
	id     string
	bridge string
	json   json.RawMessage
}

// publishedRecord is the stored value of PublishedBucket.
type publishedRecord struct {
	SHA256 string `json:"sha256"`
	Bridge string `json:"bridge,omitempty"`
}

// desired renders what should be published, applying the endpoint limit. Only
// the registry's first endpoints in id order are rendered, a page at a time,
// until the limit is reached: the cost does not grow with the endpoints left
// out (10,000 devices of a big zigbee2mqtt network are not rendered on every
// change).
func (m *Manager) desired() []rendered {
	var out []rendered
	for _, s := range m.opts.Static {
		out = append(out, rendered{s.ID, "", compact(s.JSON)})
	}
	bad := map[string]string{}
	cut, after := "", ""
	full := false
	for !full {
		page, next := m.reg.Page(after, m.opts.MaxEndpoints)
		for _, e := range page {
			if len(out) >= m.opts.MaxEndpoints {
				full = true
				break
			}
			cut = e.Endpoint.ID
			if !m.configured(e.Endpoint.Bridge) {
				continue // remembered from a bridge no longer configured
			}
			if e.Settings.HiddenFromAlexa {
				continue // hidden by a person: deleted from Alexa, kept on the hub
			}
			raw, err := m.opts.Render(e.Endpoint)
			var c bytes.Buffer
			if err == nil && json.Compact(&c, raw) != nil { // one pass: checks and compacts
				err = errors.New("renderer returned invalid JSON")
			}
			if err == nil && c.Len() > m.opts.MaxReportBytes {
				err = fmt.Errorf("rendered endpoint is %d bytes, more than a report may hold", c.Len())
			}
			if err != nil {
				bad[e.Endpoint.ID] = err.Error()
				continue
			}
			out = append(out, rendered{e.Endpoint.ID, e.Endpoint.Bridge, c.Bytes()})
		}
		if next == "" {
			break
		}
		after = next
	}
	omitted := 0
	if full {
		for _, c := range m.reg.Counts() {
			if m.configured(c.Bridge) {
				omitted += c.N
			}
		}
		omitted -= len(out) - len(m.opts.Static) + len(bad) // the configured endpoints up to the cut were published or bad
	}
	var first []string // the first omitted ids, for the log
	if omitted > 0 {
		page, _ := m.reg.Page(cut, 20)
		for _, e := range page {
			if m.configured(e.Endpoint.Bridge) {
				first = append(first, e.Endpoint.ID)
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cut, m.full = cut, full
	if omitted != m.omitted {
		switch {
		case omitted > 0 && (m.omitted == 0 || time.Since(m.omittedLogged) >= time.Minute):
			m.log.Warn("discovery: more endpoints than Alexa accepts; the rest are NOT published (static endpoints first, then by endpoint id; the status page lists them)",
				"limit", m.opts.MaxEndpoints, "omitted", omitted, "first", first)
			m.omittedLogged = time.Now()
		case omitted == 0 && m.omitted > 0:
			m.log.Info("discovery: every endpoint fits the Alexa limit again")
		}
		m.omitted = omitted
	}
	for id, why := range bad {
		if m.unrenderabe[id] != why {
			m.log.Error("discovery: endpoint cannot be rendered; not published", "endpoint", id, "err", why)
		}
	}
	m.unrenderabe = bad
	for _, r := range out {
		m.bridgeOf[r.id] = r.bridge
	}
	return out
}

func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// Hash returns the hash the Manager stores for an endpoint JSON.
func Hash(raw json.RawMessage) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// Pending returns the reports that would bring Alexa up to date: DeleteReports
// first (to make room), then AddOrUpdateReports, each split at MaxEndpoints
// endpoints and MaxReportBytes of endpoint JSON. Empty when nothing changed.
func (m *Manager) Pending(ctx context.Context) ([]Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	published, err := m.published()
	if err != nil {
		return nil, err
	}
	want := m.desired()
	inWant := map[string]bool{}
	var adds []json.RawMessage
	for _, r := range want {
		inWant[r.id] = true
		if published[r.id].SHA256 != Hash(r.json) {
			adds = append(adds, r.json)
		}
	}
	var gone []string
	for id, rec := range published {
		if !inWant[id] && !m.unpublishable(id) && m.mayDelete(rec.Bridge) {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	var dels []json.RawMessage
	for _, id := range gone {
		raw, _ := json.Marshal(struct {
			EndpointID string `json:"endpointId"`
		}{id})
		dels = append(dels, raw)
	}
	reports := split(DeleteReport, dels, m.opts.MaxEndpoints, m.opts.MaxReportBytes)
	return append(reports, split(AddOrUpdateReport, adds, m.opts.MaxEndpoints, m.opts.MaxReportBytes)...), nil
}

func (m *Manager) published() (map[string]publishedRecord, error) {
	raw, err := m.opts.Store.List(PublishedBucket)
	if err != nil {
		return nil, fmt.Errorf("discovery: read published endpoints: %w", err)
	}
	out := make(map[string]publishedRecord, len(raw))
	for id, v := range raw {
		var rec publishedRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			m.log.Warn("discovery: unreadable published record; the endpoint will be published again", "endpoint", id)
		}
		out[id] = rec
	}
	return out, nil
}

// mayDelete reports whether an endpoint of bridge that is no longer desired may
// be deleted from Alexa now.
func (m *Manager) mayDelete(bridge string) bool {
	if bridge == "" {
		return true // a static endpoint the hub no longer publishes
	}
	if !m.configured(bridge) {
		return true
	}
	return m.reg.Synced(bridge)
}

// unpublishable reports whether id failed to render: its last published version
// stays (a renderer bug is not a reason to delete a device from Alexa).
func (m *Manager) unpublishable(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, bad := m.unrenderabe[id]
	return bad
}

// split cuts eps into reports of at most maxN endpoints and maxBytes of JSON
// (the endpoints plus the commas between them).
func split(name string, eps []json.RawMessage, maxN, maxBytes int) []Report {
	var out []Report
	var cur []json.RawMessage
	size := 0
	for _, e := range eps {
		add := len(e)
		if len(cur) > 0 {
			add++ // comma
		}
		if len(cur) > 0 && (len(cur) == maxN || size+add > maxBytes) {
			out = append(out, Report{Name: name, Endpoints: cur})
			cur, size, add = nil, 0, len(e)
		}
		cur = append(cur, e)
		size += add
	}
	if len(cur) > 0 {
		out = append(out, Report{Name: name, Endpoints: cur})
	}
	return out
}

// Delivered records that Alexa acknowledged r, in one atomic store write.
// It records even when ctx has ended: the report was delivered (a hub
// stopping just after the acknowledgement must not send it again, nor call
// the record a failure).
func (m *Manager) Delivered(_ context.Context, r Report) error {
	put := map[string][]byte{}
	var del []string
	for i, raw := range r.Endpoints {
		var ref struct {
			EndpointID string `json:"endpointId"`
		}
		if err := json.Unmarshal(raw, &ref); err != nil || ref.EndpointID == "" {
			return fmt.Errorf("discovery: delivered %s endpoint %d has no endpointId", r.Name, i)
		}
		switch r.Name {
		case AddOrUpdateReport:
			m.mu.Lock()
			b := m.bridgeOf[ref.EndpointID]
			m.mu.Unlock()
			rec, _ := json.Marshal(publishedRecord{SHA256: Hash(compact(raw)), Bridge: b})
			put[ref.EndpointID] = rec
		case DeleteReport:
			del = append(del, ref.EndpointID)
		default:
			return fmt.Errorf("discovery: delivered report has unknown name %q", r.Name)
		}
	}
	if err := m.opts.Store.Update(PublishedBucket, put, del); err != nil {
		return fmt.Errorf("discovery: record delivered %s: %w", r.Name, err)
	}
	return nil
}
