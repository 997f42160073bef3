package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// LocalBridge runs a Bridge in the hub's process and presents it as a
// model.Bridge whose events go to a model.Sink: the same behaviour as a
// plugin process (the same checks, ordering and sequence numbers) without the
// process. Tests, plugintest and in-process bridges use it.
type LocalBridge struct {
	name string
	sink model.Sink
	core *core

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

var _ model.Bridge = (*LocalBridge)(nil)

// Local wraps b; call Start to configure and run it. A nil sink drops events.
func Local(b Bridge, name string, sink model.Sink) *LocalBridge {
	return &LocalBridge{name: name, sink: sink, core: newCore(b, slog.Default().With("bridge", name))}
}

// Start configures the bridge, starts its Run and delivers its events to the
// sink, in order, from one goroutine, starting with Health and the Snapshot.
func (l *LocalBridge) Start(ctx context.Context, cfg Config) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done != nil {
		return errors.New("local bridge already started")
	}
	if err := l.core.configure(ctx, cfg, nil); err != nil {
		return fmt.Errorf("configure %s: %w", l.name, err)
	}
	pctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	sub := l.core.em.subscribe()
	go func() {
		defer close(l.done)
		defer l.core.em.unsubscribe(sub)
		for {
			ev, ok := sub.next(pctx)
			if !ok {
				return
			}
			if l.sink != nil {
				l.sink.BridgeEvent(l.name, ev)
			}
		}
	}()
	return nil
}

// Close stops the bridge's Run and the event delivery, waiting for both
// until ctx ends.
func (l *LocalBridge) Close(ctx context.Context) error {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	err := l.core.stop(ctx)
	if cancel != nil {
		cancel()
		select {
		case <-done:
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		}
	}
	return err
}

// Name returns the bridge's name.
func (l *LocalBridge) Name() string { return l.name }

// Devices returns the bridge's current device set as the SDK tracks it.
func (l *LocalBridge) Devices() []model.Device { return l.core.em.list() }

// Execute carries out one command (see Bridge.Execute).
func (l *LocalBridge) Execute(ctx context.Context, req model.Request) (model.Result, error) {
	return l.core.execute(ctx, req)
}

// State reads one device's state.
func (l *LocalBridge) State(ctx context.Context, deviceID string) (model.State, error) {
	return l.core.state(ctx, deviceID)
}

// StartPairing lets devices join, or answers ErrNotSupported.
func (l *LocalBridge) StartPairing(ctx context.Context, d time.Duration) error {
	return l.core.startPairing(ctx, d)
}

// RemoveDevice makes a device leave and forgets it, or answers ErrNotSupported.
func (l *LocalBridge) RemoveDevice(ctx context.Context, deviceID string) error {
	return l.core.removeDevice(ctx, deviceID)
}
