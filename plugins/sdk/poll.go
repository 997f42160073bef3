package sdk

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery/backoff"
	"github.com/avshub/avshub/discovery/model"
)

// ReadFunc reads one device's current state (a poll). An error makes the
// device unreachable until a read succeeds again.
type ReadFunc func(ctx context.Context, deviceID string) (model.State, error)

// Poller polls a fixed set of devices: the building block of bridges for
// devices that cannot push (HTTP relays, sensors behind a cloud API). Run
// emits the Snapshot after the first round of reads, then every Every reads
// each device again and emits only what changed (cause PERIODIC_POLL) and
// reachability changes; a device that fails is read again after a doubling
// backoff (up to MaxBackoff), so a dead device is not hammered. Health is
// HEALTHY while at least one device answers.
type Poller struct {
	// Devices are the devices polled, with their default state.
	Devices []model.Device
	// Read reads one device's state.
	Read ReadFunc
	// Every is the poll interval (default 5 s).
	Every time.Duration
	// MaxBackoff bounds the delay between reads of a failing device (default 1 min).
	MaxBackoff time.Duration
	// Timeout bounds one read (default Every, at most 10 s).
	Timeout time.Duration

	mu    sync.Mutex
	state map[string]polled
}

type polled struct {
	state     model.State
	reachable bool
	failures  int
	next      time.Time
	err       error
}

// Run polls until ctx ends; call it from the bridge's Run.
func (p *Poller) Run(ctx context.Context, em Emitter) error {
	every := p.Every
	if every <= 0 {
		every = 5 * time.Second
	}
	maxBackoff := p.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = time.Minute
	}
	retry := backoff.Policy{Min: every, Max: maxBackoff}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = min(every, 10*time.Second)
	}
	p.mu.Lock()
	p.state = make(map[string]polled, len(p.Devices))
	p.mu.Unlock()
	em.Health(model.Health{State: model.HealthStarting, Description: "reading devices"})
	snap := make([]model.Device, len(p.Devices))
	for i, d := range p.Devices {
		st, err := p.read(ctx, timeout, d.Endpoint.DeviceID)
		pd := polled{state: d.State.Merge(st), reachable: err == nil, err: err}
		if err != nil {
			pd.failures, pd.next = 1, time.Now().Add(every)
		}
		d.State, d.Reachable = pd.state, pd.reachable
		snap[i] = d
		p.mu.Lock()
		p.state[d.Endpoint.DeviceID] = pd
		p.mu.Unlock()
		if ctx.Err() != nil {
			return nil
		}
	}
	em.Snapshot(snap)
	healthy := p.health(em, true, false)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, d := range p.Devices {
			id := d.Endpoint.DeviceID
			p.mu.Lock()
			pd := p.state[id]
			p.mu.Unlock()
			if time.Now().Before(pd.next) {
				continue
			}
			st, err := p.read(ctx, timeout, id)
			if ctx.Err() != nil {
				return nil
			}
			p.mu.Lock()
			pd = p.state[id] // Update may have run during the read
			if err != nil {
				pd.failures++
				pd.err = err
				pd.next = time.Now().Add(retry.Delay(pd.failures))
				was := pd.reachable
				pd.reachable = false
				p.state[id] = pd
				p.mu.Unlock()
				if was {
					em.Reachability(id, false)
				}
				continue
			}
			changed := model.DiffState(pd.state, st)
			was := pd.reachable
			pd.state, pd.reachable, pd.failures, pd.next, pd.err = pd.state.Merge(st), true, 0, time.Time{}, nil
			p.state[id] = pd
			p.mu.Unlock()
			if !was {
				em.Reachability(id, true)
			}
			if !changed.IsZero() {
				em.StateChanged(id, changed, model.CausePoll)
			}
		}
		healthy = p.health(em, false, healthy)
	}
}

func (p *Poller) read(ctx context.Context, timeout time.Duration, id string) (model.State, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return p.Read(rctx, id)
}

// health reports HEALTHY while any device answers (when it changed, or always
// if force), and returns the new verdict.
func (p *Poller) health(em Emitter, force, was bool) bool {
	p.mu.Lock()
	ok, n := false, 0
	var last error
	for _, pd := range p.state {
		n++
		ok = ok || pd.reachable
		if pd.err != nil {
			last = pd.err
		}
	}
	p.mu.Unlock()
	if !force && ok == was {
		return ok
	}
	if ok || n == 0 {
		em.Health(model.Health{State: model.HealthHealthy, Description: fmt.Sprintf("polling %d devices", n)})
	} else {
		em.Health(model.Health{State: model.HealthUnhealthy, Description: fmt.Sprintf("none of %d devices answers: %v", n, last)})
	}
	return ok
}

// State returns the last polled state of a device (for the bridge's State),
// or an unreachable error.
func (p *Poller) State(deviceID string) (model.State, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pd, ok := p.state[deviceID]
	switch {
	case !ok:
		return model.State{}, model.Errorf(model.ErrUnreachable, "no device %q", deviceID)
	case !pd.reachable:
		return model.State{}, model.Errorf(model.ErrUnreachable, "%s does not answer: %v", deviceID, pd.err)
	}
	return pd.state.Clone(), nil
}

// Update records a state the bridge learned otherwise (the answer to a
// command), so the next poll does not report it as a change.
func (p *Poller) Update(deviceID string, s model.State) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pd, ok := p.state[deviceID]; ok {
		pd.state = pd.state.Merge(s)
		p.state[deviceID] = pd
	}
}
