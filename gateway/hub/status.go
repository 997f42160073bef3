package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/skill"
	"github.com/avshub/avshub/gateway/web"
)

// Status returns the hub's state for the status page, the API and the CLI.
func (h *Hub) Status() web.Status {
	st := web.Status{
		Version:   h.opts.Version,
		StartedAt: h.started,
		AVS:       h.conn.avsStatus(),
		Link:      h.conn.linkStatus(),
		MQTT:      web.MQTTStatus{Broker: config.RedactURL(h.cfg.BrokerURL())},
		LeftOut:   h.manager.OmittedFirst(web.MaxLeftOut),
	}
	h.mu.Lock()
	st.MQTT.Embedded = h.brokerOn
	st.MQTT.Anonymous = h.brokerOn && len(h.cfg.MQTT.Embedded.Users) == 0
	st.LeftOutCount = h.manager.OmittedCount()
	h.mu.Unlock()
	perBridge := map[string]int{}
	for _, c := range h.reg.Counts() { // no pass over the endpoints: the page asks on every change
		perBridge[c.Bridge] += c.N
		st.Endpoints += c.N
	}
	for _, b := range h.bridges.statuses() {
		st.Bridges = append(st.Bridges, web.BridgeStatus{
			Name: b.Name, State: string(b.State), Health: string(b.Health.State), Description: b.Health.Description,
			Restarts: b.Restarts, LastError: b.LastError, Pairing: h.bridges.pairing(b.Name), Endpoints: perBridge[b.Name], PID: b.PID,
		})
	}
	// Ready: connected to AVS, or (skill road) holding event gateway tokens.
	st.Ready = st.AVS.State == "CONNECTED" || st.AVS.State == skill.StateLinked
	return st
}

// EndpointPage returns one page of endpoints in id order (web.Pager).
func (h *Hub) EndpointPage(after string, limit int) web.Page {
	list, next := h.reg.Page(after, limit)
	out := make([]web.Endpoint, len(list))
	for i, e := range list {
		out[i] = web.EndpointOf(e, h.recent.get(e.Endpoint.ID))
	}
	return web.Page{Endpoints: out, Next: next, Total: h.reg.Len()}
}

// Endpoints returns every endpoint with its state and recent events.
func (h *Hub) Endpoints() []web.Endpoint {
	list := h.reg.List()
	out := make([]web.Endpoint, len(list))
	for i, e := range list {
		out[i] = web.EndpointOf(e, h.recent.get(e.Endpoint.ID))
	}
	return out
}

// Changes signals, coalesced, every change the status page shows. It is
// subscribed when it returns: a Revision read after it is followed by a signal
// for any later change.
func (h *Hub) Changes(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	signal := func() {
		select {
		case out <- struct{}{}:
		default:
		}
	}
	pairing := h.pairing.subscribe(ctx)
	ch := h.reg.Subscribe(ctx)
	last := h.fingerprint()
	go func() {
		defer close(out)
		t := time.NewTicker(2 * time.Second) // connection and bridge state have no feed of their own
		defer t.Stop()
		for {
		loop:
			for {
				select {
				case <-ctx.Done():
					return
				case <-pairing:
					signal()
				case _, ok := <-ch:
					if !ok {
						break loop
					}
					signal()
				case <-t.C:
					if f := h.fingerprint(); f != last {
						last = f
						signal()
					}
				}
			}
			ch = h.reg.Subscribe(ctx)
			signal() // resubscribed after falling behind: refresh
		}
	}()
	return out
}

// Revision names the state the status page shows (web.Revisioner): it
// changes with every change Changes signals (endpoints, pairing, connection,
// link and bridges), so a page that opens its live stream knows whether
// it missed one since it was rendered.
func (h *Hub) Revision() string {
	f := fnv.New64a()
	io.WriteString(f, h.fingerprint())
	return fmt.Sprintf("%d.%d.%016x", h.reg.Seq(), h.pairing.revision(), f.Sum64())
}

// fingerprint summarises connection, link and bridge state for change detection.
func (h *Hub) fingerprint() string {
	st := h.Status()
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%t|%t|%d", st.AVS.State, st.Link.Linked, st.Link.NeedsRelink, st.AVS.Queued)
	for _, x := range st.Bridges {
		fmt.Fprintf(&b, "|%s:%s:%s:%d", x.Name, x.State, x.Health, x.Restarts)
	}
	return b.String()
}

// recentEvents keeps the last few changes of each endpoint for the status page.
type recentEvents struct {
	n  int
	mu sync.Mutex
	by map[string][]web.EventLine
}

func newRecentEvents(n int) *recentEvents {
	return &recentEvents{n: n, by: map[string][]web.EventLine{}}
}

func (r *recentEvents) add(c discovery.Change) {
	id := c.Entry.Endpoint.ID
	var text string
	switch c.Kind {
	case discovery.ChangeState:
		text = web.StateText(c.Changed)
		if c.Cause != "" {
			text += " (" + strings.ToLower(strings.TrimSuffix(string(c.Cause), "_INTERACTION")) + ")"
		}
	case discovery.ChangeReachability:
		text = map[bool]string{true: "reachable", false: "unreachable"}[c.Entry.Reachable]
	case discovery.ChangeAdded:
		text = "added"
	case discovery.ChangeUpdated:
		text = "updated"
	case discovery.ChangeRemoved:
		r.mu.Lock()
		delete(r.by, id)
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	l := append(r.by[id], web.EventLine{At: time.Now(), Text: text})
	if len(l) > r.n {
		l = l[len(l)-r.n:]
	}
	r.by[id] = l
}

func (r *recentEvents) get(id string) []web.EventLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.by[id]
	out := make([]web.EventLine, len(l))
	for i := range l {
		out[len(l)-1-i] = l[i] // newest first
	}
	return out
}

// SnapshotDB writes a consistent copy of the hub's database (a bbolt read
// transaction) to w, for `avshub backup` while the hub runs.
func (h *Hub) SnapshotDB(w io.Writer) (int64, error) { return h.store.WriteTo(w) }

// DBName is the database's file name inside the data directory.
func (h *Hub) DBName() string { return filepath.Base(h.store.Path()) }

// Configure changes what a person set on an endpoint (name, area, hidden): the
// registry persists it and tells Alexa (one AddOrUpdateReport, or a
// DeleteReport when hidden) and the dashboards (in place).
func (h *Hub) Configure(id string, p discovery.SettingsPatch) error {
	before := h.reg.Settings(id)
	if _, err := h.reg.Configure(id, p); err != nil {
		return err
	}
	after := h.reg.Settings(id)
	h.log.Info("endpoint settings changed by hand", "endpoint", id, "name", after.Name, "area", after.Area,
		"hiddenFromAlexa", after.HiddenFromAlexa, "hiddenFromDashboards", after.HiddenFromDashboards, "before", fmt.Sprintf("%+v", before))
	return nil
}

// Command carries out a command from the status page through the router: the
// same checks and errors as an Alexa directive, cause APP_INTERACTION.
func (h *Hub) Command(ctx context.Context, id string, cmd model.Command) (model.State, error) {
	return h.router.Execute(ctx, id, cmd, model.CauseApp)
}

// AlexaInterfaces lists the Alexa interfaces (with instances) the endpoint has
// in the active profile.
func (h *Hub) AlexaInterfaces(ep model.Endpoint) []string {
	raw, err := h.profile.Endpoint(ep)
	if err != nil {
		return nil
	}
	var doc struct {
		Capabilities []struct {
			Interface string `json:"interface"`
			Instance  string `json:"instance"`
		} `json:"capabilities"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return nil
	}
	var out []string
	for _, c := range doc.Capabilities {
		if c.Instance != "" {
			out = append(out, c.Interface+" "+c.Instance)
		} else {
			out = append(out, c.Interface)
		}
	}
	return out
}
