package hub

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/plugins/host"
	"github.com/avshub/avshub/plugins/sdk"
)

// bridgeSet runs one supervisor per configured bridge and swaps them on reload.
// It implements router.Bridges.
type bridgeSet struct {
	h *Hub

	mu      sync.Mutex
	running map[string]*runningBridge
	order   []string
	wg      sync.WaitGroup
	parent  context.Context
	self    self // the executable and checksum of bundled bridges
}

type runningBridge struct {
	sup    *host.Supervisor
	cfg    config.Bridge
	json   []byte
	cancel context.CancelFunc
	done   chan struct{}
}

func newBridgeSet(h *Hub) *bridgeSet {
	return &bridgeSet{h: h, running: map[string]*runningBridge{}}
}

// names lists the configured (enabled) bridges.
func (b *bridgeSet) names(cfg *config.Config) []string {
	n := []string{} // never nil: nil would mean "every bridge" to the discovery manager
	for _, x := range cfg.Bridges {
		if !x.Disabled {
			n = append(n, x.Name)
		}
	}
	return n
}

// Bridge returns a running bridge by name.
func (b *bridgeSet) Bridge(name string) (model.Bridge, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.running[name]
	if !ok {
		return nil, false
	}
	return r.sup, true
}

// run starts every configured bridge and waits until ctx ends and all have stopped.
func (b *bridgeSet) run(ctx context.Context, cfg *config.Config) error {
	b.mu.Lock()
	b.parent = ctx
	b.mu.Unlock()
	if err := b.apply(cfg); err != nil {
		return err
	}
	<-ctx.Done()
	b.wg.Wait()
	return nil
}

// apply makes the running set match cfg: new bridges start, removed or
// disabled ones stop, and changed ones restart with their new configuration.
// Unchanged bridges are left alone.
func (b *bridgeSet) apply(cfg *config.Config) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	want := map[string]config.Bridge{}
	var order []string
	for _, x := range cfg.Bridges {
		if !x.Disabled {
			want[x.Name] = x
			order = append(order, x.Name)
		}
	}
	for name, r := range b.running {
		nc, ok := want[name]
		reason := "configuration changed"
		switch {
		case !ok:
			reason = "removed from configuration"
		case !sameBridge(r, nc):
		case b.dev(nc) && r.sup.BinaryChanged():
			reason = "dev mode: its binary was rebuilt"
		default:
			r.sup.Retry() // a bridge parked after repeated crashes gets another chance
			continue
		}
		b.h.log.Info("stopping bridge", "bridge", name, "reason", reason)
		r.cancel()
		<-r.done
		delete(b.running, name)
	}
	for _, name := range order {
		if _, ok := b.running[name]; ok {
			continue
		}
		r, err := b.start(cfg, want[name])
		if err != nil {
			return err
		}
		b.running[name] = r
	}
	b.order = order
	return nil
}

// dev reports whether bridge c runs in dev mode.
func (b *bridgeSet) dev(c config.Bridge) bool { return c.Dev || b.h.opts.Dev }

// PinFile is where the hub keeps the checksum a bridge's binary had at its
// first start (`avshub plugin trust NAME` rewrites it).
func PinFile(dataDir, bridge string) string {
	return filepath.Join(dataDir, "pins", bridge+".sha256")
}

func sameBridge(r *runningBridge, c config.Bridge) bool {
	js, err := c.ConfigJSON()
	return err == nil && r.cfg.Path == c.Path && r.cfg.BundledName() == c.BundledName() && r.cfg.SHA256 == c.SHA256 && r.cfg.StartTimeout == c.StartTimeout &&
		r.cfg.Dev == c.Dev && bytes.Equal(r.json, js)
}

func (b *bridgeSet) start(cfg *config.Config, c config.Bridge) (*runningBridge, error) {
	js, err := c.ConfigJSON()
	if err != nil {
		return nil, fmt.Errorf("bridge %s: %w", c.Name, err)
	}
	hc := host.Config{
		Name:         c.Name,
		Path:         c.Path,
		SHA256:       c.SHA256,
		PinFile:      PinFile(cfg.Hub.DataDir, c.Name),
		Dev:          b.dev(c),
		Config:       js,
		DataDir:      filepath.Join(cfg.Hub.DataDir, "bridges", c.Name),
		Sink:         pairingSink{b.h},
		Logger:       b.h.opts.Logs.For("host"),
		Metrics:      b.h.metrics,
		StartTimeout: c.StartTimeout,
	}
	if c.BundledName() != "" {
		if err := b.bundledLaunch(&hc, c); err != nil {
			return nil, fmt.Errorf("bridge %s: %w", c.Name, err)
		}
	}
	if env := os.Getenv(sdk.ReattachEnv); env != "" {
		ra, err := host.ReattachFromEnv(env, c.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sdk.ReattachEnv, err)
		}
		hc.Reattach = ra
	}
	sup, err := host.New(hc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(b.parent)
	r := &runningBridge{sup: sup, cfg: c, json: js, cancel: cancel, done: make(chan struct{})}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer close(r.done)
		if err := sup.Run(ctx); err != nil {
			b.h.log.Error("bridge supervisor ended", "bridge", c.Name, "err", err)
		}
	}()
	return r, nil
}

// statuses returns every running bridge's status in configuration order.
func (b *bridgeSet) statuses() []host.Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]host.Status, 0, len(b.order))
	for _, n := range b.order {
		if r, ok := b.running[n]; ok {
			out = append(out, r.sup.Status())
		}
	}
	return out
}

// pairing reports whether a bridge says it can pair.
func (b *bridgeSet) pairing(name string) bool {
	b.mu.Lock()
	r, ok := b.running[name]
	b.mu.Unlock()
	return ok && r.sup.Description().Pairing
}

// pairingProgress reports whether a bridge sends pairing progress of its own.
func (b *bridgeSet) pairingProgress(name string) bool {
	b.mu.Lock()
	r, ok := b.running[name]
	b.mu.Unlock()
	return ok && r.sup.Description().PairingProgress
}

// Pair lets new devices join a bridge for d. The pairing session follows
// the window: the bridge's own progress reports, or (a bridge without them)
// the window the hub asked for and each device that appears during it.
func (h *Hub) Pair(ctx context.Context, bridge string, d time.Duration) error {
	br, ok := h.bridges.Bridge(bridge)
	if !ok {
		return &model.Error{Kind: model.ErrNotSupported, Message: fmt.Sprintf("no bridge %q is running", bridge)}
	}
	if err := br.StartPairing(ctx, d); err != nil {
		return err
	}
	if !h.bridges.pairingProgress(bridge) {
		h.pairing.opened(bridge, d)
	}
	return nil
}

// bridgeLimits maps each configured bridge to its maxEndpoints (0: the
// registry's default).
func bridgeLimits(bridges []config.Bridge) map[string]int {
	m := make(map[string]int, len(bridges))
	for _, b := range bridges {
		m[b.Name] = b.MaxEndpoints
	}
	return m
}
