package sdk

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// DefaultCommandTimeout bounds a command whose request carries no deadline.
const DefaultCommandTimeout = 10 * time.Second

// core runs one Bridge: Configure once, Run in a goroutine, and Execute/State
// with the checks every bridge needs (the device exists, the command fits its
// traits, the deadline holds, a panic becomes an internal error). Both the
// plugin server and the in-process adapter are thin wrappers around it.
type core struct {
	b   Bridge
	em  *emitter
	log *slog.Logger

	// work hands an Execute to an idle goroutine of execLoop; quit, closed
	// by stop, ends the idle ones.
	work     chan func()
	quit     chan struct{}
	quitOnce sync.Once

	mu         sync.Mutex
	configured bool
	cancel     context.CancelFunc
	done       chan struct{}
	runErr     error
}

func newCore(b Bridge, log *slog.Logger) *core {
	if log == nil {
		log = slog.Default()
	}
	return &core{b: b, em: newEmitter(), log: log, work: make(chan func()), quit: make(chan struct{})}
}

// execIdle is how long an Execute goroutine waits for the next command
// before it ends. A kept goroutine keeps the stack the bridge's Execute grew
// (gRPC, the bridge's own I/O): a new goroutine per command grew and copied
// its stack every time.
const execIdle = 2 * time.Second

// goExecute runs f on an idle Execute goroutine, or on a new one.
func (c *core) goExecute(f func()) {
	select {
	case c.work <- f:
	default:
		go c.execLoop(f)
	}
}

// execLoop runs f, then the functions goExecute hands it while it is idle,
// until execIdle passes without one or the bridge stops.
func (c *core) execLoop(f func()) {
	idle := time.NewTimer(execIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(execIdle)
		select {
		case f = <-c.work:
		case <-idle.C:
			return
		case <-c.quit:
			return
		}
	}
}

// configure configures the bridge and starts Run. onExit, if set, is called
// with Run's error when Run ends before stop.
func (c *core) configure(ctx context.Context, cfg Config, onExit func(error)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.configured {
		return fmt.Errorf("bridge is already configured")
	}
	if len(cfg.JSON) == 0 {
		cfg.JSON = []byte("{}")
	}
	if err := callSafely(func() error { return c.b.Configure(ctx, cfg) }); err != nil {
		return err
	}
	c.configured = true
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		err := callSafely(func() error { return c.b.Run(runCtx, c.em) })
		if runCtx.Err() == nil {
			if err == nil {
				err = fmt.Errorf("bridge Run returned before it was stopped")
			}
			c.log.Error("bridge stopped", "err", err)
			c.em.Health(model.Health{State: model.HealthUnhealthy, Description: err.Error()})
			c.mu.Lock()
			c.runErr = err
			c.mu.Unlock()
			if onExit != nil {
				onExit(err)
			}
		}
	}()
	return nil
}

// stop ends Run and waits for it until ctx ends.
func (c *core) stop(ctx context.Context) error {
	c.quitOnce.Do(func() { close(c.quit) })
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bridge Run did not return: %w", ctx.Err())
	}
}

// callSafely turns a panic into an error.
func callSafely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &model.Error{Kind: model.ErrInternal, Message: fmt.Sprintf("bridge panicked: %v", r)}
			slog.Error("bridge panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	return f()
}

// execute checks req against the device and calls the bridge. Every failure is
// a *model.Error.
func (c *core) execute(ctx context.Context, req model.Request) (model.Result, error) {
	d, ok := c.em.device(req.DeviceID)
	if !ok {
		return model.Result{}, model.Errorf(model.ErrUnreachable, "no device %q", req.DeviceID)
	}
	if !d.Reachable {
		return model.Result{}, model.Errorf(model.ErrUnreachable, "%s is unreachable", d.Endpoint.FriendlyName)
	}
	if err := req.Command.Validate(d.Endpoint.Traits, d.State); err != nil {
		return model.Result{}, err
	}
	if req.Deadline.IsZero() {
		req.Deadline = time.Now().Add(DefaultCommandTimeout)
	}
	u := c.em.begin(req.DeviceID, req.Command)
	res, err := c.call(ctx, req, d)
	switch {
	case err != nil:
		c.em.end(u)
	case res.Status == model.Done:
		c.em.answered(u, res.State)
	default:
		c.em.accepted(req.CorrelationID, u)
	}
	return res, err
}

// call calls the bridge's Execute within req's deadline.
func (c *core) call(ctx context.Context, req model.Request, d model.Device) (model.Result, error) {
	budget := time.Until(req.Deadline).Round(100 * time.Millisecond)
	ctx, cancel := context.WithDeadline(ctx, req.Deadline)
	defer cancel()
	type answer struct {
		res model.Result
		err error
	}
	ch := make(chan answer, 1)
	c.goExecute(func() {
		var a answer
		a.err = callSafely(func() error {
			var err error
			a.res, err = c.b.Execute(ctx, req)
			return err
		})
		ch <- a
	})
	var a answer
	select {
	case a = <-ch:
	case <-ctx.Done():
		select {
		case a = <-ch: // the answer came as the deadline passed: better than none
		default:
			// The bridge overran its deadline: answer now, as a timeout
			// (never internal), and say whose fault it is.
			return model.Result{}, model.Errorf(model.ErrUnreachable,
				"%s did not answer: the bridge's Execute did not return before its deadline (%s)", d.Endpoint.FriendlyName, budget)
		}
	}
	if a.err != nil {
		return model.Result{}, model.AsError(a.err)
	}
	if a.res.Status != model.Done && a.res.Status != model.Accepted {
		return model.Result{}, model.Errorf(model.ErrInternal, "bridge answered with status %q", a.res.Status)
	}
	return a.res, nil
}

// state reads one device's state through the bridge.
func (c *core) state(ctx context.Context, deviceID string) (model.State, error) {
	if _, ok := c.em.device(deviceID); !ok {
		return model.State{}, model.Errorf(model.ErrUnreachable, "no device %q", deviceID)
	}
	var s model.State
	err := callSafely(func() error {
		var err error
		s, err = c.b.State(ctx, deviceID)
		return err
	})
	if err != nil {
		return model.State{}, model.AsError(err)
	}
	return s, nil
}

// startPairing calls the bridge's Pairer, or answers ErrNotSupported.
func (c *core) startPairing(ctx context.Context, d time.Duration) error {
	p, ok := c.b.(Pairer)
	if !ok || !c.b.Describe().Pairing {
		return model.Errorf(model.ErrNotSupported, "bridge %s cannot pair", c.b.Describe().Name)
	}
	if err := callSafely(func() error { return p.StartPairing(ctx, d) }); err != nil {
		return model.AsError(err)
	}
	return nil
}

// removeDevice calls the bridge's Remover, or answers ErrNotSupported; the
// device is forgotten (a Remove event) once the bridge succeeded.
func (c *core) removeDevice(ctx context.Context, deviceID string) error {
	r, ok := c.b.(Remover)
	if !ok || !c.b.Describe().Remove {
		return model.Errorf(model.ErrNotSupported, "bridge %s cannot remove devices", c.b.Describe().Name)
	}
	if _, ok := c.em.device(deviceID); !ok {
		return model.Errorf(model.ErrInvalidValue, "no device %q", deviceID)
	}
	if err := callSafely(func() error { return r.RemoveDevice(ctx, deviceID) }); err != nil {
		return model.AsError(err)
	}
	c.em.Remove(deviceID)
	return nil
}
