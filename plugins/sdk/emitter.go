package sdk

import (
	"context"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery/model"
	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
	"github.com/avshub/avshub/plugins/proto/bridge/v1/convert"
)

// maxQueue bounds the events queued for one slow stream. Past it the queue is
// collapsed into a fresh Health + Snapshot (plus pending completions): the hub
// re-syncs from the snapshot instead of the bridge blocking or growing memory.
const maxQueue = 4096

// emitter implements Emitter. It keeps the bridge's current device set (with
// state merged from every change) and its health, and fans events out to the
// open streams. Each stream starts with Health and, once the bridge has sent its
// first Snapshot, a Snapshot of the current set; sequence numbers are per stream.
type emitter struct {
	mu        sync.Mutex
	health    model.Health
	devices   map[string]model.Device
	order     []string // device ids in first-seen order, for stable snapshots
	snapshot  bool     // the bridge has sent its first Snapshot
	subs      map[*subscription]struct{}
	pending   map[string]*underWay   // correlation id -> an accepted command
	underWay  map[string][]*underWay // device id -> its commands not yet answered or completed
	sentLink  map[string]model.Link  // the link last sent per device (Link's throttle)
	now       func() time.Time
	onOverrun func()
}

func newEmitter() *emitter {
	return &emitter{
		health:   model.Health{State: model.HealthStarting, Description: "starting"},
		devices:  map[string]model.Device{},
		subs:     map[*subscription]struct{}{},
		pending:  map[string]*underWay{},
		underWay: map[string][]*underWay{},
		sentLink: map[string]model.Link{},
		now:      time.Now,
	}
}

// subscription is one event stream's queue. A wire subscription (the gRPC
// server's) gets its snapshots built straight from the emitter's device set
// as bridge.v1 messages: a snapshot of a big installation (5,000 devices) is
// then one copy on its way to the hub, not a []model.Device and then its
// protobuf tree (BENCHMARKS.md, the import's peak RSS).
type subscription struct {
	mu     sync.Mutex
	queue  []queued
	signal chan struct{} // capacity 1: "queue is not empty"
	seq    uint64
	wire   bool
}

// queued is one queued event. snap, on a wire subscription only, holds the
// devices of a Snapshot event (whose Devices is then nil).
type queued struct {
	ev   model.Event
	snap *pb.Snapshot
}

func (s *subscription) push(evs ...queued) {
	s.mu.Lock()
	s.queue = append(s.queue, evs...)
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// next waits for the next event and numbers it. ok is false when ctx ends.
func (s *subscription) next(ctx context.Context) (model.Event, bool) {
	q, ok := s.nextQueued(ctx)
	return q.ev, ok
}

// nextQueued is next with a wire subscription's snapshot devices.
func (s *subscription) nextQueued(ctx context.Context) (queued, bool) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			q := s.queue[0]
			s.queue[0] = queued{}
			s.queue = s.queue[1:]
			s.seq++
			q.ev.Seq = s.seq
			s.mu.Unlock()
			return q, true
		}
		s.mu.Unlock()
		select {
		case <-s.signal:
		case <-ctx.Done():
			return queued{}, false
		}
	}
}

// subscribe opens a stream: it starts with Health and (if the bridge has sent
// one) the current Snapshot.
func (e *emitter) subscribe() *subscription { return e.open(false) }

// subscribeWire opens a wire stream (subscription).
func (e *emitter) subscribeWire() *subscription { return e.open(true) }

func (e *emitter) open(wire bool) *subscription {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &subscription{signal: make(chan struct{}, 1), wire: wire}
	s.push(e.initialLocked(wire)...)
	e.subs[s] = struct{}{}
	return s
}

func (e *emitter) unsubscribe(s *subscription) {
	e.mu.Lock()
	delete(e.subs, s)
	e.mu.Unlock()
}

func (e *emitter) initialLocked(wire bool) []queued {
	h := e.health
	evs := []queued{{ev: model.Event{Kind: model.EventHealth, At: e.now(), Health: &h}}}
	if e.snapshot {
		var snap snapshots
		evs = append(evs, e.snapshotLocked(&snap, wire, e.now()))
	}
	return evs
}

// snapshots holds the current device set as built for one broadcast, in
// either form, so that several streams share it.
type snapshots struct {
	devices []model.Device
	wire    *pb.Snapshot
}

// snapshotLocked returns a Snapshot event of the current device set for a
// stream (wire or not), building it into s once.
func (e *emitter) snapshotLocked(s *snapshots, wire bool, at time.Time) queued {
	ev := model.Event{Kind: model.EventSnapshot, At: at}
	if wire {
		if s.wire == nil {
			s.wire = &pb.Snapshot{Devices: make([]*pb.Device, 0, len(e.order))}
			for _, id := range e.order {
				s.wire.Devices = append(s.wire.Devices, convert.Device(e.devices[id]))
			}
		}
		return queued{ev: ev, snap: s.wire}
	}
	if s.devices == nil {
		s.devices = e.devicesLocked()
	}
	ev.Devices = s.devices
	return queued{ev: ev}
}

func (e *emitter) devicesLocked() []model.Device {
	out := make([]model.Device, 0, len(e.order))
	for _, id := range e.order {
		d := e.devices[id]
		d.State = d.State.Clone()
		out = append(out, d)
	}
	return out
}

// broadcastLocked queues ev on every stream; a Snapshot event's devices are
// the current set (snapshotLocked), whatever ev.Devices holds.
func (e *emitter) broadcastLocked(ev model.Event) {
	ev.At = e.now()
	var snap snapshots
	for s := range e.subs {
		s.mu.Lock()
		over := len(s.queue) >= maxQueue
		if over {
			// Keep completions (each answers a waiting command); the rest is
			// replaced by the current picture.
			var keep []queued
			for _, q := range s.queue {
				if q.ev.Kind == model.EventCompletion {
					keep = append(keep, q)
				}
			}
			s.queue = append(e.initialLocked(s.wire), keep...)
		}
		s.mu.Unlock()
		if over && e.onOverrun != nil {
			e.onOverrun()
		}
		if ev.Kind == model.EventSnapshot {
			s.push(e.snapshotLocked(&snap, s.wire, ev.At))
		} else {
			s.push(queued{ev: ev})
		}
	}
}

// device returns the current copy of one device.
func (e *emitter) device(id string) (model.Device, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, ok := e.devices[id]
	d.State = d.State.Clone()
	return d, ok
}

// list returns the current device set.
func (e *emitter) list() []model.Device {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.devicesLocked()
}

// underWay is a command sent to the bridge and not yet answered (or, once
// Accepted, completed): the changes the bridge reported for its device
// meanwhile.
type underWay struct {
	deviceID string
	cmd      model.Command
	changed  model.State
}

// begin records a command about to be sent to the bridge; end or answered
// closes it.
func (e *emitter) begin(deviceID string, cmd model.Command) *underWay {
	e.mu.Lock()
	defer e.mu.Unlock()
	u := &underWay{deviceID: deviceID, cmd: cmd}
	e.underWay[deviceID] = append(e.underWay[deviceID], u)
	return u
}

// endLocked forgets a command under way. e.mu is held.
func (e *emitter) endLocked(u *underWay) {
	us := e.underWay[u.deviceID]
	for i, x := range us {
		if x == u {
			us = append(us[:i:i], us[i+1:]...)
			break
		}
	}
	if len(us) == 0 {
		delete(e.underWay, u.deviceID)
	} else {
		e.underWay[u.deviceID] = us
	}
}

// end forgets a command that failed.
func (e *emitter) end(u *underWay) {
	e.mu.Lock()
	e.endLocked(u)
	e.mu.Unlock()
}

// answeredLocked records the state a command's answer (or Completion)
// reports and closes it. The command's own part of the answer is kept; for
// anything else it carries, a change the bridge reported while the command
// was under way stays: the bridge may have made the answer before it (a
// plug's power reading after its relay), and its older copy would overwrite
// what the streams were told. e.mu is held.
func (e *emitter) answeredLocked(u *underWay, s model.State) {
	e.endLocked(u)
	if d, ok := e.devices[u.deviceID]; ok {
		d.State = d.State.Merge(s).Merge(u.changed).Merge(u.cmd.Effect(s))
		d.StateAt = time.Time{} // the device answered: its state is current
		e.devices[u.deviceID] = d
	}
}

// answered records a Done answer's state.
func (e *emitter) answered(u *underWay, s model.State) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answeredLocked(u, s)
}

// accepted remembers an Accepted command, so its Completion's state updates
// its device.
func (e *emitter) accepted(correlationID string, u *underWay) {
	e.mu.Lock()
	e.pending[correlationID] = u
	e.mu.Unlock()
}

func (e *emitter) Health(h model.Health) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.health = h
	e.broadcastLocked(model.Event{Kind: model.EventHealth, Health: &h})
}

func (e *emitter) Snapshot(devices []model.Device) {
	e.mu.Lock()
	defer e.mu.Unlock()
	old := e.devices
	e.devices = make(map[string]model.Device, len(devices))
	e.order = e.order[:0]
	for _, d := range devices {
		if _, dup := e.devices[d.Endpoint.DeviceID]; !dup {
			e.order = append(e.order, d.Endpoint.DeviceID)
		}
		d.State = d.State.Clone()
		if d.Link == nil {
			d.Link = old[d.Endpoint.DeviceID].Link // the link the bridge reported before
		}
		e.devices[d.Endpoint.DeviceID] = d
	}
	e.snapshot = true
	e.broadcastLocked(model.Event{Kind: model.EventSnapshot})
}

func (e *emitter) Upsert(d model.Device) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := d.Endpoint.DeviceID
	prev, ok := e.devices[id]
	if !ok {
		e.order = append(e.order, id)
	}
	if d.Link == nil {
		d.Link = prev.Link // the link the bridge reported before
	}
	d.State = d.State.Clone()
	e.devices[id] = d
	if e.snapshot {
		c := d
		c.State = d.State.Clone()
		e.broadcastLocked(model.Event{Kind: model.EventUpsert, Device: &c})
	}
}

func (e *emitter) Remove(deviceID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.devices[deviceID]; !ok {
		return
	}
	delete(e.devices, deviceID)
	delete(e.sentLink, deviceID)
	for i, id := range e.order {
		if id == deviceID {
			e.order = append(e.order[:i], e.order[i+1:]...)
			break
		}
	}
	if e.snapshot {
		e.broadcastLocked(model.Event{Kind: model.EventRemove, DeviceID: deviceID})
	}
}

func (e *emitter) StateChanged(deviceID string, changed model.State, cause model.Cause) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, ok := e.devices[deviceID]
	if !ok {
		return
	}
	d.State = d.State.Merge(changed)
	d.StateAt = time.Time{} // the bridge heard from the device: its state is current
	e.devices[deviceID] = d
	for _, u := range e.underWay[deviceID] {
		u.changed = u.changed.Merge(changed)
	}
	if e.snapshot {
		e.broadcastLocked(model.Event{Kind: model.EventState, DeviceID: deviceID, State: changed.Clone(), Cause: cause})
	}
}

func (e *emitter) Reachability(deviceID string, reachable bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, ok := e.devices[deviceID]
	if !ok || d.Reachable == reachable {
		return
	}
	d.Reachable = reachable
	e.devices[deviceID] = d
	if e.snapshot {
		e.broadcastLocked(model.Event{Kind: model.EventReachability, DeviceID: deviceID, Reachable: reachable})
	}
}

func (e *emitter) Complete(correlationID string, state model.State, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := &model.Completion{CorrelationID: correlationID, Err: model.AsError(err)}
	if u, ok := e.pending[correlationID]; ok {
		if err == nil {
			e.answeredLocked(u, state)
		} else {
			e.endLocked(u)
		}
	}
	if err == nil {
		c.State = state.Clone()
	}
	delete(e.pending, correlationID)
	e.broadcastLocked(model.Event{Kind: model.EventCompletion, Completion: c})
}

// Pairing reports pairing progress to the open streams. It is not part of
// the device set: a stream opened later does not get it.
func (e *emitter) Pairing(p model.Pairing) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p.Endpoint != nil {
		ep := *p.Endpoint
		p.Endpoint = &ep
	}
	e.broadcastLocked(model.Event{Kind: model.EventPairing, Pairing: &p})
}

// Link thresholds: a device's link is sent again when its quality moved by
// linkQualityStep points or it was heard linkSeenStep after the last one sent
// (the page shows "72 %" and "2 min ago"; every frame need not cross the wire).
const (
	linkQualityStep = 5
	linkSeenStep    = 30 * time.Second
)

// Link records a device's radio link; the streams get it when it moved
// enough since the last one sent (every new stream's snapshot has the
// latest). It is not part of API 1.0: a 1.0 hub skips the event.
func (e *emitter) Link(deviceID string, l model.Link) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, ok := e.devices[deviceID]
	if !ok {
		return
	}
	d.Link = l.Clone()
	e.devices[deviceID] = d
	last, sent := e.sentLink[deviceID]
	if sent && !linkMoved(last, l) {
		return
	}
	e.sentLink[deviceID] = *l.Clone()
	if e.snapshot {
		e.broadcastLocked(model.Event{Kind: model.EventLink, DeviceID: deviceID, Link: l.Clone()})
	}
}

// linkMoved reports whether next differs enough from last to be sent.
func linkMoved(last, next model.Link) bool {
	if (last.Quality == nil) != (next.Quality == nil) {
		return true
	}
	if next.Quality != nil && abs(*next.Quality-*last.Quality) >= linkQualityStep {
		return true
	}
	return next.LastSeen.Sub(last.LastSeen) >= linkSeenStep
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
