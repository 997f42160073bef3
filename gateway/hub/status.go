package hub

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/gateway/web"
)

// Status returns the hub's state for the status page, the API and the CLI.
func (h *Hub) Status() web.Status {
	st := web.Status{
		Version:   h.opts.Version,
		StartedAt: h.started,
		AVS:       h.conn.avsStatus(),
		Link:      h.conn.linkStatus(),
		MQTT:      web.MQTTStatus{Broker: h.cfg.BrokerURL()},
		LeftOut:   h.disc.current().Omitted(),
	}
	h.mu.Lock()
	st.MQTT.Embedded = h.brokerOn
	h.mu.Unlock()
	perBridge := map[string]int{}
	for _, e := range h.reg.List() {
		perBridge[e.Endpoint.Bridge]++
		st.Endpoints++
	}
	for _, b := range h.bridges.statuses() {
		st.Bridges = append(st.Bridges, web.BridgeStatus{
			Name: b.Name, State: string(b.State), Health: string(b.Health.State), Description: b.Health.Description,
			Restarts: b.Restarts, LastError: b.LastError, Pairing: h.bridges.pairing(b.Name), Endpoints: perBridge[b.Name], PID: b.PID,
		})
	}
	st.Ready = st.AVS.State == "CONNECTED"
	return st
}

// Endpoints returns every endpoint with its state and recent events.
func (h *Hub) Endpoints() []web.Endpoint {
	list := h.reg.List()
	out := make([]web.Endpoint, len(list))
	for i, e := range list {
		out[i] = web.Endpoint{Entry: e, Recent: h.recent.get(e.Endpoint.ID)}
	}
	return out
}

// Changes signals, coalesced, every change the status page shows.
func (h *Hub) Changes(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	signal := func() {
		select {
		case out <- struct{}{}:
		default:
		}
	}
	go func() {
		defer close(out)
		t := time.NewTicker(2 * time.Second) // connection and bridge state have no feed of their own
		defer t.Stop()
		last := h.fingerprint()
		for {
			ch := h.reg.Subscribe(ctx)
		loop:
			for {
				select {
				case <-ctx.Done():
					return
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
			signal() // resubscribed after falling behind: refresh
		}
	}()
	return out
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
		text = describeState(c.Changed)
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

// describeState renders changed state fields for people.
func describeState(s discovery.State) string {
	var p []string
	if s.On != nil {
		p = append(p, map[bool]string{true: "on", false: "off"}[*s.On])
	}
	if s.Brightness != nil {
		p = append(p, fmt.Sprintf("brightness %d%%", *s.Brightness))
	}
	if s.Color != nil {
		p = append(p, fmt.Sprintf("colour h%.0f s%.2f", s.Color.Hue, s.Color.Saturation))
	}
	if s.ColorTemperature != nil {
		p = append(p, fmt.Sprintf("%d K", *s.ColorTemperature))
	}
	if s.Lock != "" {
		p = append(p, strings.ToLower(string(s.Lock)))
	}
	if t := s.Thermostat; t != nil {
		if t.Mode != "" {
			p = append(p, "mode "+strings.ToLower(string(t.Mode)))
		}
		if t.Target != nil {
			p = append(p, fmt.Sprintf("target %.1f °C", *t.Target))
		}
		if t.Lower != nil {
			p = append(p, fmt.Sprintf("lower %.1f °C", *t.Lower))
		}
		if t.Upper != nil {
			p = append(p, fmt.Sprintf("upper %.1f °C", *t.Upper))
		}
	}
	if s.Temperature != nil {
		p = append(p, fmt.Sprintf("%.1f °C", *s.Temperature))
	}
	for k, v := range s.Toggles {
		p = append(p, fmt.Sprintf("%s %t", k, v))
	}
	for k, v := range s.Ranges {
		p = append(p, fmt.Sprintf("%s %g", k, v))
	}
	for k, v := range s.Modes {
		p = append(p, fmt.Sprintf("%s %s", k, v))
	}
	if len(p) == 0 {
		return "state"
	}
	return strings.Join(p, ", ")
}
