package hub

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/web"
)

// maxSessionDevices bounds the devices one pairing session remembers, and
// maxSteps the interview steps of one device.
const (
	maxSessionDevices = 100
	maxSteps          = 40
)

// pairings keeps the current pairing session of each bridge and fans its
// events out to the page, the CLI and MQTT.
type pairings struct {
	mu       sync.Mutex
	sessions map[string]*web.PairingSession
	timers   map[string]*time.Timer
	subs     map[chan web.PairingEvent]struct{}
	seq      uint64 // events sent so far (revision)
	// publish, if set, sends each event to the dashboards (MQTT).
	publish func(web.PairingEvent)
}

func newPairings() *pairings {
	return &pairings{sessions: map[string]*web.PairingSession{}, timers: map[string]*time.Timer{},
		subs: map[chan web.PairingEvent]struct{}{}}
}

// setPublisher sets (or, nil, clears) where events go besides the subscribers.
func (p *pairings) setPublisher(f func(web.PairingEvent)) {
	p.mu.Lock()
	p.publish = f
	p.mu.Unlock()
}

// subscribe returns every event from now on until ctx ends. A subscriber
// that falls behind by more than 64 events misses the oldest.
func (p *pairings) subscribe(ctx context.Context) <-chan web.PairingEvent {
	ch := make(chan web.PairingEvent, 64)
	p.mu.Lock()
	p.subs[ch] = struct{}{}
	p.mu.Unlock()
	context.AfterFunc(ctx, func() {
		p.mu.Lock()
		delete(p.subs, ch)
		p.mu.Unlock()
		close(ch)
	})
	return ch
}

// revision counts the events sent so far: equal numbers mean the sessions
// did not change in between.
func (p *pairings) revision() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seq
}

// list returns every session, sorted by bridge.
func (p *pairings) list() []web.PairingSession {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]web.PairingSession, 0, len(p.sessions))
	for _, s := range p.sessions {
		c := *s
		c.Devices = slices.Clone(s.Devices)
		for i := range c.Devices {
			c.Devices[i].Steps = slices.Clone(c.Devices[i].Steps)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b web.PairingSession) int {
		if a.Bridge < b.Bridge {
			return -1
		}
		if a.Bridge > b.Bridge {
			return 1
		}
		return 0
	})
	return out
}

// openLocked starts a new session on bridge (each window its own: the page
// shows what joined since the network was last opened) that the hub closes
// at until. Call with p.mu held.
func (p *pairings) openLocked(bridge string, now, until time.Time) {
	s := &web.PairingSession{Bridge: bridge, Started: now, Devices: []web.PairingDevice{}, Open: true, Until: until}
	p.sessions[bridge] = s
	if t := p.timers[bridge]; t != nil {
		t.Stop()
	}
	p.timers[bridge] = time.AfterFunc(until.Sub(now), func() {
		p.apply(bridge, time.Now(), model.Pairing{Stage: model.PairingClosed, Detail: "the network is closed for joining"}, nil)
	})
}

// opened reports a window the hub opened on a bridge that sends no
// pairing progress of its own.
func (p *pairings) opened(bridge string, d time.Duration) {
	p.apply(bridge, time.Now(), model.Pairing{Stage: model.PairingOpen, Remaining: d,
		Detail: fmt.Sprintf("the network is open for joining for %s", d)}, nil)
}

// isOpen reports whether bridge's network is open.
func (p *pairings) isOpen(bridge string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sessions[bridge]
	return ok && s.Open
}

// apply records one progress report of bridge and sends its event. ep, when
// known, is the endpoint as the hub publishes it (id, name, traits).
func (p *pairings) apply(bridge string, at time.Time, pr model.Pairing, ep *model.Endpoint) {
	ev := web.PairingEvent{Bridge: bridge, At: at, Stage: string(pr.Stage), DeviceID: pr.DeviceID, Detail: pr.Detail}
	if ep == nil {
		ep = pr.Endpoint
	}
	if ep != nil {
		ev.EndpointID, ev.Name, ev.Traits = ep.ID, ep.FriendlyName, ep.Traits.Names()
	}
	p.mu.Lock()
	switch pr.Stage {
	case model.PairingOpen:
		p.openLocked(bridge, at, at.Add(pr.Remaining))
	case model.PairingClosed:
		s, ok := p.sessions[bridge]
		if !ok || !s.Open {
			p.mu.Unlock()
			return // already closed (the bridge and the hub's timer both say so)
		}
		s.Open, s.Until = false, at
		if t := p.timers[bridge]; t != nil {
			t.Stop()
		}
	default:
		s, ok := p.sessions[bridge]
		if !ok || !s.Open {
			// A device finishing after the window (or a resumed interview):
			// shown in a closed session of its own.
			if !ok {
				s = &web.PairingSession{Bridge: bridge, Started: at, Until: at, Devices: []web.PairingDevice{}}
				p.sessions[bridge] = s
			}
		} else if pr.Remaining > 0 {
			s.Until = at.Add(pr.Remaining)
		}
		s.Devices = updateDevice(s.Devices, ev)
	}
	ev.Remaining = int(p.sessions[bridge].Remaining(at).Round(time.Second) / time.Second)
	p.seq++
	subs := make([]chan web.PairingEvent, 0, len(p.subs))
	for ch := range p.subs {
		subs = append(subs, ch)
	}
	publish := p.publish
	for _, ch := range subs {
		select {
		case ch <- ev:
		default: // a slow reader misses events rather than holding the bridge's stream
		}
	}
	p.mu.Unlock()
	if publish != nil {
		publish(ev)
	}
}

// updateDevice records ev in the device list (newest device last).
func updateDevice(devs []web.PairingDevice, ev web.PairingEvent) []web.PairingDevice {
	i := slices.IndexFunc(devs, func(d web.PairingDevice) bool { return d.DeviceID == ev.DeviceID })
	if i < 0 {
		if len(devs) >= maxSessionDevices {
			devs = devs[1:]
		}
		devs = append(devs, web.PairingDevice{DeviceID: ev.DeviceID})
		i = len(devs) - 1
	}
	d := &devs[i]
	d.Stage, d.Detail, d.Updated = ev.Stage, ev.Detail, ev.At
	if ev.Stage == string(model.PairingInterviewing) && ev.Detail != "" && len(d.Steps) < maxSteps {
		d.Steps = append(d.Steps, ev.Detail)
	}
	if ev.EndpointID != "" {
		d.EndpointID, d.Name, d.Traits = ev.EndpointID, ev.Name, ev.Traits
	} else if ev.Name != "" && d.Name == "" {
		d.Name = ev.Name
	}
	return devs
}

// pairingSink is the Sink the bridges' supervisors feed: pairing progress
// goes to the sessions, everything else to the router; a device that appears
// while its bridge's network is open is reported as published for a bridge
// that sends no progress of its own.
type pairingSink struct{ h *Hub }

// BridgeEvent implements model.Sink.
func (s pairingSink) BridgeEvent(bridge string, ev model.Event) {
	h := s.h
	switch ev.Kind {
	case model.EventPairing:
		if ev.Pairing == nil {
			return
		}
		var ep *model.Endpoint
		if ev.Pairing.DeviceID != "" {
			if e, ok := h.reg.Get(h.reg.ID(bridge, ev.Pairing.DeviceID)); ok {
				ep = &e.Endpoint
			}
		}
		h.pairing.apply(bridge, ev.At, *ev.Pairing, ep)
		return
	case model.EventUpsert:
		if ev.Device == nil || !h.pairing.isOpen(bridge) || h.bridges.pairingProgress(bridge) {
			break
		}
		id := h.reg.ID(bridge, ev.Device.Endpoint.DeviceID)
		if _, known := h.reg.Get(id); known {
			break
		}
		h.router.BridgeEvent(bridge, ev)
		if e, ok := h.reg.Get(id); ok {
			h.pairing.apply(bridge, ev.At, model.Pairing{Stage: model.PairingPublished, DeviceID: ev.Device.Endpoint.DeviceID,
				Detail: "published"}, &e.Endpoint)
		}
		return
	}
	h.router.BridgeEvent(bridge, ev)
}

// Pairing returns every bridge's pairing session (web.PairingSource).
func (h *Hub) Pairing() []web.PairingSession { return h.pairing.list() }

// PairingEvents streams pairing events until ctx ends (web.PairingSource).
func (h *Hub) PairingEvents(ctx context.Context) <-chan web.PairingEvent {
	return h.pairing.subscribe(ctx)
}

// Remove makes an endpoint's device leave its bridge and forgets it; it
// returns once the endpoint is gone from the hub (Alexa gets a DeleteReport,
// the dashboards an empty retained discovery config).
func (h *Hub) Remove(ctx context.Context, endpointID string) error {
	e, ok := h.reg.Get(endpointID)
	if !ok {
		return model.Errorf(model.ErrInvalidValue, "no endpoint %q", endpointID)
	}
	br, ok := h.bridges.Bridge(e.Endpoint.Bridge)
	if !ok {
		return model.Errorf(model.ErrNotSupported, "endpoint %s belongs to bridge %s, which is not running", endpointID, e.Endpoint.Bridge)
	}
	sub, stop := context.WithCancel(ctx)
	defer stop()
	changes := h.reg.Subscribe(sub)
	if err := br.RemoveDevice(ctx, e.Endpoint.DeviceID); err != nil {
		return err
	}
	h.log.Info("device removed by hand", "endpoint", endpointID, "name", e.Endpoint.FriendlyName, "bridge", e.Endpoint.Bridge)
	wait := time.NewTimer(10 * time.Second)
	defer wait.Stop()
	for {
		if _, still := h.reg.Get(endpointID); !still {
			return nil
		}
		select {
		case _, ok := <-changes:
			if !ok {
				changes = h.reg.Subscribe(sub)
			}
		case <-wait.C:
			return model.Errorf(model.ErrUnreachable, "bridge %s removed the device but did not report it gone within 10 s", e.Endpoint.Bridge)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
