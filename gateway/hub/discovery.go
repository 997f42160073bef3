package hub

import (
	"context"
	"slices"
	"sync"

	"github.com/avshub/avshub/discovery"
)

// discoveryManagers holds the discovery manager for the configured bridge set.
// discovery.Manager takes that set at construction (endpoints of other bridges
// are never published, and are deleted from Alexa), so a reload that adds or
// removes a bridge replaces the manager; its published state lives in the
// store, so the new one continues where the old one stopped. The AVS client
// holds one Changed channel for a whole session: changed is the hub's, fed by
// whichever manager is current.
type discoveryManagers struct {
	h       *Hub
	changed chan struct{}

	mu      sync.Mutex
	mgr     *discovery.Manager
	bridges []string
	ctx     context.Context    // Run's context (nil before Run)
	cancel  context.CancelFunc // stops the current manager's goroutines
	wg      sync.WaitGroup
}

func newDiscoveryManagers(h *Hub) *discoveryManagers {
	return &discoveryManagers{h: h, changed: make(chan struct{}, 1)}
}

// current returns the manager in use.
func (d *discoveryManagers) current() *discovery.Manager {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mgr
}

// replace installs a manager for bridges (a no-op when the set is unchanged).
func (d *discoveryManagers) replace(bridges []string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mgr != nil && slices.Equal(d.bridges, bridges) {
		return nil
	}
	m, err := discovery.NewManager(d.h.reg, discovery.ManagerOptions{
		Store:   d.h.store,
		Render:  d.h.profile.Endpoint,
		Static:  []discovery.StaticEndpoint{d.h.conn.deviceEndpoint()},
		Logger:  d.h.opts.Logs.For("discovery"),
		Bridges: slices.Clone(bridges),
	})
	if err != nil {
		return err
	}
	if d.cancel != nil {
		d.cancel()
	}
	d.mgr, d.bridges = m, slices.Clone(bridges)
	if d.ctx != nil {
		d.startLocked()
	}
	return nil
}

// startLocked runs the current manager and forwards its signals; d.mu is held.
func (d *discoveryManagers) startLocked() {
	ctx, cancel := context.WithCancel(d.ctx)
	d.cancel = cancel
	m := d.mgr
	d.wg.Add(2)
	go func() {
		defer d.wg.Done()
		if err := m.Run(ctx); err != nil && ctx.Err() == nil {
			d.h.log.Error("discovery manager stopped", "err", err)
		}
	}()
	go func() {
		defer d.wg.Done()
		src := m.Changed()
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-src:
				if !ok {
					return
				}
				select {
				case d.changed <- struct{}{}:
				default:
				}
			}
		}
	}()
	// A new manager may have reports pending at once (a bridge added or removed).
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

// run runs the current (and every later) manager until ctx ends.
func (d *discoveryManagers) run(ctx context.Context) error {
	d.mu.Lock()
	d.ctx = ctx
	d.startLocked()
	d.mu.Unlock()
	<-ctx.Done()
	d.mu.Lock()
	d.cancel()
	d.mu.Unlock()
	d.wg.Wait()
	return nil
}
