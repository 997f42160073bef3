// Package router turns Alexa directives (and dashboard commands) into trait
// commands for the bridge that owns the endpoint, answers Alexa with the right
// event, and sends proactive ChangeReports for changes made outside Alexa.
//
// One directive: the endpoint is looked up in the discovery.Registry
// (NO_SUCH_ENDPOINT), the bridge checked (BRIDGE_UNREACHABLE), the directive
// decoded by the Alexa profile (relative adjustments resolved from the cached
// state), the command validated against the trait's configuration, the device's
// reachability checked (ENDPOINT_UNREACHABLE, without calling the bridge), and
// only then the bridge called with a deadline (Options.Timeout, 7 s by default,
// under Alexa's budget). A Done result is answered with Alexa.Response and the
// endpoint's context properties; Accepted with Alexa.DeferredResponse at once
// and the final Response or ErrorResponse when the bridge's Completion event
// arrives, or ENDPOINT_UNREACHABLE when it does not arrive before
// Options.DeferredTimeout. A timeout is always ENDPOINT_UNREACHABLE, never
// INTERNAL_ERROR.
//
// ChangeReports: the router remembers, per endpoint, the property values Alexa
// last received (in a Response, StateReport or ChangeReport). A state or
// reachability change marks the endpoint dirty; after Options.CoalesceWindow
// (1 s by default) the router renders its properties and sends one ChangeReport
// with the proactively reported ones that differ from what Alexa knows, and the
// rest in the context. So a change a Response already reported sends nothing,
// bursts are coalesced, and at most one ChangeReport per endpoint is ever in
// flight: while the EventSender holds one (disconnected), later changes wait
// and the latest state follows. The cause is the latest cause seen in the
// window (a dashboard command's APP_INTERACTION, or the bridge's cause;
// PHYSICAL_INTERACTION when the bridge gives none); changes made while a
// command is under way carry the command's cause and wait until it is
// answered. A ChangeReport the EventSender refuses is retried three times
// (after 5, 10 and 15 s), then left to the next change.
//
// Restarts: with Options.Store, the router persists what Alexa was told (the
// properties of every Response, StateReport and ChangeReport it sent;
// StoreBucket, written by Run in batches, at most one transaction per 100 ms,
// never on the directive path) and seeds its record from the store at New.
// When the registry first reports a seeded endpoint in this run, the router
// sends one ChangeReport (cause PERIODIC_POLL) with the proactively reported
// properties that differ from that record (a device changed while the hub was
// down, or a bridge that lost its state), and nothing when nothing differs.
// An endpoint Alexa was told nothing of is first seen as it is: it reports
// nothing until it changes.
//
// Commands to one endpoint (directives and dashboard commands) take turns from
// reading its state to recording the bridge's result, so results are recorded
// in the order the bridge carried the commands out; commands to different
// endpoints run in parallel, and a state query takes no turn.
//
// HandleDirective blocks until the first answer is handed to the EventSender;
// the AVS client calls it from a goroutine per directive.
package router

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa"
	"github.com/avshub/avshub/gateway/metrics"
	"github.com/avshub/avshub/internal/hoptrace"
)

// Defaults.
const (
	DefaultTimeout         = 7 * time.Second
	DefaultDeferredTimeout = 30 * time.Second
	DefaultCoalesceWindow  = time.Second
)

// ErrUnhandled is wrapped by HandleDirective's error for a directive that is
// not for a bridged endpoint (the AVS layer answers ExceptionEncountered).
var ErrUnhandled = errors.New("router: directive not handled")

// ErrNoSuchEndpoint is the error kind Execute returns for an unknown endpoint
// (the same kind alexa uses for NO_SUCH_ENDPOINT).
const ErrNoSuchEndpoint model.ErrorKind = "NO_SUCH_ENDPOINT"

// EventSender sends one event to Alexa (satisfied by *avs.Client).
type EventSender interface {
	// Send delivers one event, blocking until it is sent or has failed.
	Send(ctx context.Context, event []byte) error
}

// Bridges finds a bridge by name.
type Bridges interface {
	// Bridge returns the running bridge called name.
	Bridge(name string) (model.Bridge, bool)
}

// Profile is the part of alexa.Profile the router uses.
type Profile interface {
	// Decode turns a directive into a state report or one absolute command.
	Decode(d *alexa.Directive, ep model.Endpoint, st model.State) (alexa.Intent, error)
	// Properties renders the endpoint's state as context properties.
	Properties(ep model.Endpoint, st model.State, reachable bool, at time.Time) []alexa.Property
	// Proactive reports whether a property is proactively reported.
	Proactive(ep model.Endpoint, p alexa.Property) bool
}

var _ Profile = alexa.Profile(nil)

// Options configures a Router.
type Options struct {
	Registry *discovery.Registry // required
	Profile  Profile             // required
	Bridges  Bridges             // required
	Events   EventSender         // required
	Logger   *slog.Logger        // default slog.Default()
	Metrics  *metrics.Metrics    // optional
	// Timeout bounds one bridge call (default DefaultTimeout).
	Timeout time.Duration
	// DeferredTimeout bounds the wait for the Completion of an Accepted command
	// (default DefaultDeferredTimeout, or twice the bridge's estimate if longer).
	DeferredTimeout time.Duration
	// CoalesceWindow is how long changes of one endpoint are gathered into one
	// ChangeReport (default DefaultCoalesceWindow; negative: no delay).
	CoalesceWindow time.Duration
	// Unhandled lists endpoint ids that are not bridged (the hub's own): their
	// directives return ErrUnhandled.
	Unhandled []string
	// Store, if set, keeps what Alexa was last told of each endpoint across
	// restarts (StoreBucket; gateway/store's stores satisfy it). A failing
	// store is logged; directives and ChangeReports never wait for it.
	Store discovery.Store
	// Now is the clock (tests).
	Now func() time.Time
}

// Router routes directives and dashboard commands to bridges; it implements
// model.Sink. Call Run to send ChangeReports.
type Router struct {
	opts Options
	reg  *discovery.Registry
	log  *slog.Logger
	met  *metrics.Metrics
	now  func() time.Time
	wake chan struct{}

	retryDelay time.Duration

	bg     context.Context // for answers sent after HandleDirective returned
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	pending map[string]*pendingCmd   // correlation id → accepted command
	eps     map[string]*epState      // endpoint id → ChangeReport bookkeeping
	dirty   map[string]bool          // endpoint ids that may have a ChangeReport to send (flush prunes the rest)
	turns   map[string]chan struct{} // endpoint id → its command turn (see takeTurn)
	stopped bool

	unsaved  map[string]map[string]string // endpoint id → record to write (nil: delete); see persist.go
	saveKick chan struct{}
}

// epState is the ChangeReport bookkeeping of one endpoint.
type epState struct {
	known    map[string]string // property key → JSON value Alexa last received; nil = not yet known (never mutated: replaced)
	seeded   bool              // known came from the store and the endpoint was not seen in this run yet
	resync   bool              // the next ChangeReport re-syncs after a restart (cause PERIODIC_POLL)
	dirty    bool
	due      time.Time
	cause    model.Cause
	inflight int         // commands under way
	cmdCause model.Cause // the cause of changes while commands are under way
	sending  bool        // a ChangeReport is with the EventSender
	failures int         // ChangeReports of this endpoint that failed in a row
}

// A ChangeReport the EventSender refused is retried after 1×, 2×, 3× this
// delay; after that the next change carries it.
const (
	changeReportRetryDelay = 5 * time.Second
	maxChangeReportRetries = 3
)

// pendingCmd is a command a bridge answered Accepted.
type pendingCmd struct {
	d          *alexa.Directive // nil for Execute
	endpointID string
	cmd        model.Command
	scale      string
	cause      model.Cause
	start      time.Time
	timer      *time.Timer
	done       chan completion // Execute waits here
	armed      bool            // false while the bridge's Execute has not returned
	early      *completion     // a Completion that came before Execute returned
}

type completion struct {
	state model.State
	err   *model.Error
}

var _ model.Sink = (*Router)(nil)

// New returns a Router.
func New(opts Options) (*Router, error) {
	if opts.Registry == nil || opts.Profile == nil || opts.Bridges == nil || opts.Events == nil {
		return nil, errors.New("router: Registry, Profile, Bridges and Events are required")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.DeferredTimeout <= 0 {
		opts.DeferredTimeout = DefaultDeferredTimeout
	}
	if opts.CoalesceWindow == 0 {
		opts.CoalesceWindow = DefaultCoalesceWindow
	}
	if opts.CoalesceWindow < 0 {
		opts.CoalesceWindow = 0
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	l := opts.Logger
	if l == nil {
		l = slog.Default()
	}
	bg, cancel := context.WithCancel(context.Background())
	r := &Router{
		opts: opts, reg: opts.Registry, log: l, met: opts.Metrics, now: opts.Now,
		wake:       make(chan struct{}, 1),
		retryDelay: changeReportRetryDelay,
		bg:         bg,
		cancel:     cancel,
		pending:    map[string]*pendingCmd{},
		eps:        map[string]*epState{},
		dirty:      map[string]bool{},
		turns:      map[string]chan struct{}{},
		unsaved:    map[string]map[string]string{},
		saveKick:   make(chan struct{}, 1),
	}
	r.load()
	r.countEndpoints()
	return r, nil
}

// Run sends ChangeReports and writes what Alexa was told to Options.Store
// until ctx ends, then stops the router's timers, waits for answers still
// being sent and writes the record a last time.
func (r *Router) Run(ctx context.Context) error {
	sctx, stopStore := context.WithCancel(context.Background())
	stored := make(chan struct{})
	go func() { defer close(stored); r.runStore(sctx) }()
	defer func() { stopStore(); <-stored }() // after r.stop: answers in flight are recorded too
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		next := r.flush(ctx)
		if next <= 0 {
			next = time.Hour
		}
		t.Reset(next)
		select {
		case <-ctx.Done():
			r.stop()
			return nil
		case <-r.wake:
		case <-t.C:
		}
	}
}

func (r *Router) stop() {
	r.mu.Lock()
	r.stopped = true
	for id, p := range r.pending {
		if p.timer != nil {
			p.timer.Stop()
		}
		delete(r.pending, id)
	}
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
}

func (r *Router) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// go runs f in a goroutine Run waits for.
func (r *Router) goAsync(f func(ctx context.Context)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f(r.bg)
	}()
}

// HandleDirective answers one directive for a bridged endpoint. It blocks until
// the first answer (Response, ErrorResponse, StateReport or DeferredResponse)
// has been handed to the EventSender, at most about Options.Timeout; call it
// from a goroutine per directive. A directive without an endpoint, or for an
// Unhandled one, returns an error wrapping ErrUnhandled. Errors are the
// EventSender's (the answer could not be sent) or building the event.
func (r *Router) HandleDirective(ctx context.Context, d *alexa.Directive) error {
	if d == nil || d.Endpoint == nil || d.Endpoint.EndpointID == "" {
		return fmt.Errorf("%w: %s.%s has no endpoint", ErrUnhandled, hdr(d).Namespace, hdr(d).Name)
	}
	id := d.Endpoint.EndpointID
	for _, u := range r.opts.Unhandled {
		if u == id {
			return fmt.Errorf("%w: %s.%s is for the hub's own endpoint", ErrUnhandled, d.Header.Namespace, d.Header.Name)
		}
	}
	start := r.now()
	o := &outcome{}
	result, err := r.handle(withOutcome(ctx, o), d, id)
	took := r.now().Sub(start)
	r.met.Directive(d.Header.Namespace, d.Header.Name, result, took)
	r.logDirective(d, id, result, o, took, err)
	return err
}

// outcome carries what a directive's answer said, for its log line.
type outcome struct {
	mu     sync.Mutex
	detail string // the error's message, for an ErrorResponse
	cmd    string // the command sent to the bridge
	name   string // the endpoint's friendly name, when named
	named  bool   // the endpoint was found (the line then names it)
}

type outcomeKey struct{}

func withOutcome(ctx context.Context, o *outcome) context.Context {
	return context.WithValue(ctx, outcomeKey{}, o)
}

// noteOutcome records detail or cmd (when not empty) on ctx's outcome, if any.
func noteOutcome(ctx context.Context, detail, cmd string) {
	o, _ := ctx.Value(outcomeKey{}).(*outcome)
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if detail != "" {
		o.detail = detail
	}
	if cmd != "" {
		o.cmd = cmd
	}
}

// noteName records the endpoint's friendly name on ctx's outcome, if any, so
// that the log line need not copy the registry's entry once more for it.
func noteName(ctx context.Context, name string) {
	o, _ := ctx.Value(outcomeKey{}).(*outcome)
	if o == nil {
		return
	}
	o.mu.Lock()
	o.name, o.named = name, true
	o.mu.Unlock()
}

// logDirective writes the one info line of a directive and its answer. The
// attributes are slog.Attrs, not key-value pairs: a line per directive, and
// boxing each value into an interface cost an allocation apiece.
func (r *Router) logDirective(d *alexa.Directive, id, result string, o *outcome, took time.Duration, err error) {
	what := d.Header.Namespace + "." + d.Header.Name
	if d.Header.Instance != "" {
		what += " " + d.Header.Instance
	}
	var buf [8]slog.Attr
	args := append(buf[:0], slog.String("endpoint", id))
	o.mu.Lock()
	name, named := o.name, o.named
	o.mu.Unlock()
	if !named {
		if e, ok := r.reg.Get(id); ok {
			name, named = e.Endpoint.FriendlyName, true
		}
	}
	if named {
		args = append(args, slog.String("name", name))
	}
	args = append(args, slog.String("what", what))
	o.mu.Lock()
	if o.cmd != "" {
		args = append(args, slog.String("command", o.cmd))
	}
	args = append(args, slog.String("outcome", result))
	if o.detail != "" {
		args = append(args, slog.String("reason", o.detail))
	}
	o.mu.Unlock()
	args = append(args, slog.Int64("ms", took.Milliseconds()))
	if err != nil {
		args = append(args, slog.Any("err", err))
		r.log.LogAttrs(context.Background(), slog.LevelWarn, "directive: the answer could not be sent", args...)
		return
	}
	r.log.LogAttrs(context.Background(), slog.LevelInfo, "directive", args...)
}

func hdr(d *alexa.Directive) alexa.Header {
	if d == nil {
		return alexa.Header{}
	}
	return d.Header
}

// handle answers d and returns the metrics result label.
func (r *Router) handle(ctx context.Context, d *alexa.Directive, id string) (string, error) {
	endTurn := func() {}
	if !d.IsReportState() { // a state query changes nothing: it takes no turn
		done, terr := r.takeTurn(ctx, id)
		if terr != nil {
			return r.answerError(ctx, d, id, terr, "")
		}
		ended := false // endTurn runs on this goroutine only: no sync.OnceFunc
		endTurn = func() {
			if !ended {
				ended = true
				done()
			}
		}
		defer endTurn()
	}
	// Answers need no turn: it ends before anything is sent.
	fail := func(de *model.Error, scale string) (string, error) {
		endTurn()
		return r.answerError(ctx, d, id, de, scale)
	}
	entry, ok := r.reg.Get(id)
	if ok {
		noteName(ctx, entry.Endpoint.FriendlyName)
	}
	if !ok {
		endTurn()
		ev, err := alexa.NewNoSuchEndpoint(d, id)
		return "NO_SUCH_ENDPOINT", r.sendBuilt(ctx, ev, err)
	}
	bridge, berr := r.bridge(entry)
	intent, err := r.opts.Profile.Decode(d, entry.Endpoint, entry.State)
	if err != nil {
		return fail(decodeError(err), intent.Scale)
	}
	if berr != nil {
		return fail(berr, intent.Scale)
	}
	if intent.ReportState {
		endTurn()
		return r.reportState(ctx, d, entry, bridge)
	}
	if err := intent.Command.Validate(entry.Endpoint.Traits, entry.State); err != nil {
		return fail(model.AsError(err), intent.Scale)
	}
	if !entry.Reachable {
		return fail(unreachable(entry), intent.Scale)
	}
	r.begin(id, model.CauseVoice)
	noteOutcome(ctx, "", intent.Command.String())
	res, corr, xerr := r.execute(ctx, bridge, entry, intent.Command)
	hoptrace.Alias(corr, d.Header.CorrelationToken)
	if xerr != nil {
		r.end(id)
		return fail(xerr, intent.Scale)
	}
	if res.Status == model.Accepted {
		endTurn() // the bridge took the command: the next one may go while it completes
		// DeferredResponse first; a Completion that comes meanwhile waits for await.
		ev, err := alexa.NewDeferredResponse(d, res.EstimatedDeferral)
		serr := r.sendBuilt(ctx, ev, err)
		wait := max(r.opts.DeferredTimeout, 2*res.EstimatedDeferral)
		r.await(corr, &pendingCmd{d: d, endpointID: id, cmd: intent.Command, scale: intent.Scale, cause: model.CauseVoice, start: r.now()}, wait)
		return "deferred", serr
	}
	after := r.applyResult(entry, intent.Command, res.State, model.CauseVoice)
	endTurn()
	defer r.end(id)
	return r.respond(ctx, d, after)
}

// decodeError turns a profile's Decode error into the *model.Error to answer.
func decodeError(err error) *model.Error {
	var de *model.Error
	if errors.As(err, &de) {
		return de
	}
	return &model.Error{Kind: model.ErrNotSupported, Message: err.Error()}
}

func unreachable(e discovery.Entry) *model.Error {
	return model.Errorf(model.ErrUnreachable, "%s is not reachable", e.Endpoint.FriendlyName)
}

// bridge returns the endpoint's bridge, or BRIDGE_UNREACHABLE when it is
// missing or reports itself unhealthy.
func (r *Router) bridge(e discovery.Entry) (model.Bridge, *model.Error) {
	name := e.Endpoint.Bridge
	b, ok := r.opts.Bridges.Bridge(name)
	if !ok || b == nil {
		return nil, model.Errorf(model.ErrBridgeUnreachable, "bridge %s is not running", name)
	}
	if h, ok := r.reg.BridgeHealth(name); ok && h.State == model.HealthUnhealthy {
		return nil, model.Errorf(model.ErrBridgeUnreachable, "bridge %s is unhealthy", name)
	}
	return b, nil
}

// execute calls the bridge with a deadline. Errors are *model.Error
// (deadline → ErrUnreachable).
func (r *Router) execute(ctx context.Context, b model.Bridge, e discovery.Entry, cmd model.Command) (model.Result, string, *model.Error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	dl, _ := ctx.Deadline()
	corr := uuid.NewString()
	r.expect(corr)
	res, err := b.Execute(ctx, model.Request{CorrelationID: corr, DeviceID: e.Endpoint.DeviceID, Command: cmd, Deadline: dl})
	if err != nil || res.Status != model.Accepted {
		r.forget(corr)
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // an answer after the deadline is too late for Alexa
	}
	if err != nil {
		de := model.AsError(err)
		if errors.Is(err, context.Canceled) && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			de = model.Errorf(model.ErrUnreachable, "the command was cancelled")
		}
		r.log.Info("router: command failed", "endpoint", e.Endpoint.ID, "command", cmd.String(), "kind", de.Kind, "err", de.Message)
		return model.Result{}, corr, de
	}
	if res.Status != model.Done && res.Status != model.Accepted {
		return model.Result{}, corr, model.Errorf(model.ErrInternal, "bridge answered with status %q", res.Status)
	}
	return res, corr, nil
}

// applyResult records the state after a command in the registry and returns the
// entry after it: the command's effect, overlaid with what the bridge reported,
// merged into the registry's state now. Not into e's, the state the command
// started from: a change the bridge reported meanwhile (a plug's power
// reading, which its relay sends before it answers) would be overwritten
// with what it was before, and nothing would report it again.
func (r *Router) applyResult(e discovery.Entry, cmd model.Command, reported model.State, cause model.Cause) discovery.Entry {
	done := cmd.Apply(model.State{}).Merge(reported)
	r.note(r.reg.Apply(e.Endpoint.Bridge, model.Event{At: r.now(), Kind: model.EventState,
		DeviceID: e.Endpoint.DeviceID, State: done, Cause: cause}))
	if after, ok := r.reg.Get(e.Endpoint.ID); ok {
		return after
	}
	e.State = cmd.Apply(e.State).Merge(reported)
	return e
}

// respond sends the Response with the entry's properties and records them as
// known to Alexa.
func (r *Router) respond(ctx context.Context, d *alexa.Directive, e discovery.Entry) (string, error) {
	props := r.opts.Profile.Properties(e.Endpoint, e.State, e.Reachable, r.now())
	ev, err := alexa.NewResponse(d, e.Endpoint.ID, props)
	if err := r.sendBuilt(ctx, ev, err); err != nil {
		return "ok", err
	}
	r.told(e.Endpoint.ID, props)
	return "ok", nil
}

func (r *Router) reportState(ctx context.Context, d *alexa.Directive, e discovery.Entry, b model.Bridge) (string, error) {
	if !e.Reachable {
		return r.answerError(ctx, d, e.Endpoint.ID, unreachable(e), "")
	}
	if e.State.IsZero() {
		r.begin(e.Endpoint.ID, model.CausePoll)
		defer r.end(e.Endpoint.ID)
		sctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
		st, err := b.State(sctx, e.Endpoint.DeviceID)
		cancel()
		if err != nil {
			return r.answerError(ctx, d, e.Endpoint.ID, model.AsError(err), "")
		}
		r.note(r.reg.Apply(e.Endpoint.Bridge, model.Event{At: r.now(), Kind: model.EventState,
			DeviceID: e.Endpoint.DeviceID, State: st, Cause: model.CausePoll}))
		if after, ok := r.reg.Get(e.Endpoint.ID); ok {
			e = after
		}
	}
	props := r.opts.Profile.Properties(e.Endpoint, e.State, e.Reachable, r.now())
	ev, err := alexa.NewStateReport(d, e.Endpoint.ID, props)
	if err := r.sendBuilt(ctx, ev, err); err != nil {
		return "ok", err
	}
	r.told(e.Endpoint.ID, props)
	return "ok", nil
}

func (r *Router) answerError(ctx context.Context, d *alexa.Directive, id string, de *model.Error, scale string) (string, error) {
	noteOutcome(ctx, de.Message, "")
	ev, err := alexa.NewErrorResponse(d, id, de, scale)
	return alexa.ErrorTypeOf(de.Kind).Type, r.sendBuilt(ctx, ev, err)
}

func (r *Router) sendBuilt(ctx context.Context, ev []byte, err error) error {
	if err != nil {
		return fmt.Errorf("router: build event: %w", err)
	}
	if err := r.opts.Events.Send(ctx, ev); err != nil {
		return fmt.Errorf("router: send event: %w", err)
	}
	return nil
}

// expect registers corr before the bridge is called, so a Completion that
// arrives before Execute returns is kept for await.
func (r *Router) expect(corr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending[corr] = &pendingCmd{}
}

// forget drops corr when the command was not accepted.
func (r *Router) forget(corr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pending, corr)
}

// await arms an accepted command until its Completion or its deadline; a
// Completion that already arrived completes it at once.
func (r *Router) await(corr string, p *pendingCmd, wait time.Duration) {
	r.mu.Lock()
	if ph := r.pending[corr]; ph != nil && ph.early != nil {
		delete(r.pending, corr)
		r.mu.Unlock()
		r.complete(p, *ph.early)
		return
	}
	defer r.mu.Unlock()
	p.armed = true
	r.pending[corr] = p
	p.timer = time.AfterFunc(wait, func() {
		r.finish(corr, completion{err: model.Errorf(model.ErrUnreachable,
			"the device did not confirm the command within %s", wait.Round(time.Second))})
	})
}

// finish completes an accepted command once (Completion event or deadline).
func (r *Router) finish(corr string, c completion) {
	r.mu.Lock()
	p, ok := r.pending[corr]
	if ok && !p.armed { // Execute has not returned yet: keep it for await
		if p.early == nil {
			p.early = &c
		}
		r.mu.Unlock()
		return
	}
	if ok {
		delete(r.pending, corr)
		p.timer.Stop()
	}
	r.mu.Unlock()
	if !ok {
		r.log.Debug("router: completion for no pending command (late or unknown)", "correlation", corr)
		return
	}
	r.complete(p, c)
}

// complete answers an accepted command with its outcome.
func (r *Router) complete(p *pendingCmd, c completion) {
	entry, found := r.reg.Get(p.endpointID)
	if c.err == nil && found {
		entry = r.applyResult(entry, p.cmd, c.state, p.cause)
	}
	if p.done != nil { // Execute
		p.done <- c
		r.end(p.endpointID)
		return
	}
	r.goAsync(func(ctx context.Context) {
		defer r.end(p.endpointID)
		var result string
		var err error
		switch {
		case c.err != nil:
			result, err = r.answerError(ctx, p.d, p.endpointID, c.err, p.scale)
		case !found:
			result, err = r.answerError(ctx, p.d, p.endpointID, model.Errorf(model.ErrUnreachable, "the endpoint went away"), p.scale)
		default:
			result, err = r.respond(ctx, p.d, entry)
		}
		r.met.Directive(p.d.Header.Namespace, p.d.Header.Name, "completed:"+result, r.now().Sub(p.start))
		o := &outcome{cmd: p.cmd.String()}
		if c.err != nil {
			o.detail = c.err.Message
		}
		r.logDirective(p.d, p.endpointID, "completed:"+result, o, r.now().Sub(p.start), err)
		if err != nil {
			r.log.Warn("router: cannot send the final answer of a deferred directive", "endpoint", p.endpointID, "err", err)
		}
	})
}

// Execute carries out a dashboard command with the same checks and errors as a
// directive (the error is a *model.Error) and returns the state after it.
// It waits for the Completion of an Accepted command. The change reaches Alexa
// as a ChangeReport with cause (APP_INTERACTION for dashboards).
func (r *Router) Execute(ctx context.Context, endpointID string, cmd model.Command, cause model.Cause) (model.State, error) {
	start := r.now()
	st, err := r.execute1(ctx, endpointID, cmd, cause)
	args := []any{"endpoint", endpointID}
	if e, ok := r.reg.Get(endpointID); ok {
		args = append(args, "name", e.Endpoint.FriendlyName)
	}
	args = append(args, "command", cmd.String(), "cause", cmp.Or(cause, model.CauseApp))
	if err != nil {
		de := model.AsError(err)
		args = append(args, "outcome", string(de.Kind), "reason", de.Message)
	} else {
		args = append(args, "outcome", "ok")
	}
	r.log.Info("change by hand", append(args, "ms", r.now().Sub(start).Milliseconds())...)
	return st, err
}

func (r *Router) execute1(ctx context.Context, endpointID string, cmd model.Command, cause model.Cause) (model.State, error) {
	done, terr := r.takeTurn(ctx, endpointID)
	if terr != nil {
		return model.State{}, terr
	}
	turnDone := sync.OnceFunc(done)
	defer turnDone()
	entry, ok := r.reg.Get(endpointID)
	if !ok {
		return model.State{}, model.Errorf(ErrNoSuchEndpoint, "no endpoint %q", endpointID)
	}
	bridge, berr := r.bridge(entry)
	if berr != nil {
		return model.State{}, berr
	}
	if err := cmd.Validate(entry.Endpoint.Traits, entry.State); err != nil {
		return model.State{}, model.AsError(err)
	}
	if !entry.Reachable {
		return model.State{}, unreachable(entry)
	}
	if cause == "" {
		cause = model.CauseApp
	}
	r.begin(endpointID, cause)
	res, corr, xerr := r.execute(ctx, bridge, entry, cmd)
	if xerr != nil {
		r.end(endpointID)
		return model.State{}, xerr
	}
	if res.Status == model.Done {
		after := r.applyResult(entry, cmd, res.State, cause)
		r.end(endpointID)
		return after.State, nil
	}
	turnDone() // the bridge took the command: the next one may go while it completes
	wait := max(r.opts.DeferredTimeout, 2*res.EstimatedDeferral)
	completed := make(chan completion, 1)
	r.await(corr, &pendingCmd{endpointID: endpointID, cmd: cmd, cause: cause, start: r.now(), done: completed}, wait)
	select {
	case c := <-completed:
		if c.err != nil {
			return model.State{}, c.err
		}
		e, _ := r.reg.Get(endpointID)
		return e.State, nil
	case <-ctx.Done():
		// The command stays pending: its completion still updates the registry.
		return model.State{}, model.Errorf(model.ErrUnreachable, "gave up waiting for the device: %v", ctx.Err())
	}
}

// BridgeEvent implements model.Sink: it applies the event to the registry,
// completes accepted commands and schedules ChangeReports.
func (r *Router) BridgeEvent(bridge string, ev model.Event) {
	switch ev.Kind {
	case model.EventCompletion:
		if ev.Completion == nil || ev.Completion.CorrelationID == "" {
			r.log.Warn("router: completion without a correlation id; skipped", "bridge", bridge)
			return
		}
		c := completion{state: ev.Completion.State, err: ev.Completion.Err}
		r.finish(ev.Completion.CorrelationID, c)
		return
	case model.EventState, model.EventReachability:
		// What Alexa knows of an endpoint not seen before is its state now.
		id := r.reg.ID(bridge, ev.DeviceID)
		if e, ok := r.reg.Get(id); ok {
			r.baseline(e)
		}
	}
	r.note(r.reg.Apply(bridge, ev))
}

// note updates the ChangeReport bookkeeping after registry changes.
func (r *Router) note(changes []discovery.Change) {
	recount := false
	for _, c := range changes {
		id := c.Entry.Endpoint.ID
		switch c.Kind {
		case discovery.ChangeAdded:
			if r.firstSight(id) {
				r.markDirty(id, c.Cause) // compare with what Alexa was told before the restart
			} else {
				r.baseline(c.Entry)
			}
			recount = true
		case discovery.ChangeRemoved:
			r.mu.Lock()
			delete(r.eps, id)
			delete(r.turns, id) // a command under way keeps its own turn
			r.unsave(id, nil)
			r.mu.Unlock()
			recount = true
		case discovery.ChangeUpdated:
			recount = true
		case discovery.ChangeState, discovery.ChangeReachability:
			r.logByHand(c)
			if !r.firstSight(id) && r.baseline(c.Entry) {
				continue // first sight of an endpoint Alexa was told nothing of: nothing to report
			}
			r.markDirty(id, c.Cause)
		}
	}
	if recount {
		r.countEndpoints()
	}
}

// logByHand writes one info line for a change a person made at the device
// (PHYSICAL_INTERACTION) outside a command of the hub; readings of sensors
// alone are not logged at info.
func (r *Router) logByHand(c discovery.Change) {
	if c.Kind != discovery.ChangeState || c.Cause != model.CausePhysical {
		return
	}
	reading := c.Changed
	reading.Temperature, reading.Humidity, reading.Illuminance = nil, nil, nil
	reading.Watts, reading.EnergyKWh, reading.Battery, reading.BatteryLow = nil, nil, nil, nil
	if reading.IsZero() {
		return
	}
	r.mu.Lock()
	inflight := r.ep(c.Entry.Endpoint.ID).inflight > 0
	r.mu.Unlock()
	if inflight {
		return // the echo of a command under way: its own line tells it
	}
	changed, _ := json.Marshal(c.Changed)
	r.log.Info("change by hand", "endpoint", c.Entry.Endpoint.ID, "name", c.Entry.Endpoint.FriendlyName,
		"changed", string(changed), "cause", string(c.Cause))
}

// baseline records e's properties as known to Alexa if nothing is known yet,
// and reports whether it did.
func (r *Router) baseline(e discovery.Entry) bool {
	r.mu.Lock()
	s := r.ep(e.Endpoint.ID)
	known := s.known != nil
	r.mu.Unlock()
	if known {
		return false
	}
	props := r.opts.Profile.Properties(e.Endpoint, e.State, e.Reachable, r.now())
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.known != nil {
		return false
	}
	s.known = propMap(props)
	return true
}

// told records props as what Alexa now knows of id (and persists it). An
// endpoint removed meanwhile is not brought back.
func (r *Router) told(id string, props []alexa.Property) {
	m := propMap(props)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.reg.Has(id) {
		return
	}
	s := r.ep(id)
	s.known, s.seeded, s.resync = m, false, false
	r.unsave(id, m)
}

// takeTurn waits until no other command to endpoint id is between reading the
// endpoint's state and recording its result, and returns the function that
// ends this command's turn. Commands to one endpoint therefore read the state
// their predecessor left (relative adjustments, validation) and record their
// results in the order the bridge carried them out: two directives at once
// (TurnOn, TurnOff) must not leave the registry, and Alexa, with the first
// one's result while the device did the second. A turn not had within the
// bridge timeout is ENDPOINT_BUSY.
func (r *Router) takeTurn(ctx context.Context, id string) (done func(), err *model.Error) {
	r.mu.Lock()
	turn := r.turns[id]
	if turn == nil {
		turn = make(chan struct{}, 1)
		r.turns[id] = turn
	}
	r.mu.Unlock()
	t := time.NewTimer(r.opts.Timeout)
	defer t.Stop()
	select {
	case turn <- struct{}{}:
		return func() { <-turn }, nil
	case <-t.C:
		return nil, model.Errorf(model.ErrBusy, "another command to this endpoint has not finished")
	case <-ctx.Done():
		return nil, model.Errorf(model.ErrUnreachable, "gave up waiting for the endpoint's previous command: %v", ctx.Err())
	}
}

func (r *Router) ep(id string) *epState {
	s := r.eps[id]
	if s == nil {
		s = &epState{}
		r.eps[id] = s
	}
	return s
}

// begin marks a command under way for id: no ChangeReport of id goes out until
// it ends, and changes meanwhile carry cause.
func (r *Router) begin(id string, cause model.Cause) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.ep(id)
	s.inflight++
	s.cmdCause = cause
}

func (r *Router) end(id string) {
	r.mu.Lock()
	s := r.ep(id)
	if s.inflight > 0 {
		s.inflight--
	}
	if s.inflight == 0 {
		s.cmdCause = ""
	}
	dirty := s.dirty && s.inflight == 0
	r.mu.Unlock()
	if dirty {
		r.poke()
	}
}

// markDirty schedules a ChangeReport for id. The latest cause of a window wins;
// changes while a command is under way carry the command's cause.
func (r *Router) markDirty(id string, cause model.Cause) {
	r.mu.Lock()
	s := r.ep(id)
	if s.inflight > 0 && s.cmdCause != "" {
		cause = s.cmdCause
	}
	if s.dirty {
		r.met.ChangeReportCoalesced()
	} else {
		s.dirty = true
		s.due = r.now().Add(r.opts.CoalesceWindow)
		r.dirty[id] = true
	}
	// The latest cause wins: the report carries the state after the last
	// change, and changes a Response already reported drop out of it (a
	// command's echo followed by a hand on the switch is reported as physical).
	s.cause = cause
	r.mu.Unlock()
	r.poke()
}

// flush sends the ChangeReports that are due and returns the time until the
// next one is.
func (r *Router) flush(ctx context.Context) time.Duration {
	now := r.now()
	type dueEP struct {
		id string
		at time.Time
	}
	var due []dueEP
	var next time.Duration
	r.mu.Lock()
	for id := range r.dirty { // not every endpoint: a flush per directive must not cost O(endpoints)
		s := r.eps[id]
		if s == nil || !s.dirty {
			delete(r.dirty, id)
			continue
		}
		if s.inflight > 0 || s.sending {
			continue
		}
		if wait := s.due.Sub(now); wait > 0 {
			if next == 0 || wait < next {
				next = wait
			}
			continue
		}
		due = append(due, dueEP{id, s.due})
	}
	r.mu.Unlock()
	// Oldest first, so reports leave in the order the changes happened.
	slices.SortFunc(due, func(a, b dueEP) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	for _, d := range due {
		if ctx.Err() != nil {
			return 0
		}
		r.changeReport(ctx, d.id)
	}
	if len(due) > 0 {
		return time.Nanosecond // look again: changes may have come in meanwhile
	}
	return next
}

// changeReport sends one endpoint's ChangeReport if anything proactive changed.
func (r *Router) changeReport(ctx context.Context, id string) {
	r.mu.Lock()
	s := r.eps[id]
	if s == nil || !s.dirty || s.inflight > 0 {
		r.mu.Unlock()
		return
	}
	cause, known, resync := s.cause, s.known, s.resync
	s.dirty, s.cause, s.sending = false, "", true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		s.sending = false
		r.mu.Unlock()
	}()

	e, ok := r.reg.Get(id)
	if !ok {
		return
	}
	props := r.opts.Profile.Properties(e.Endpoint, e.State, e.Reachable, r.now())
	var changed, unchanged []alexa.Property
	for _, p := range props {
		// A re-sync corrects what Alexa was told; a property it was never
		// told of holds no stale value there.
		old, had := known[propKey(p)]
		if old != propValue(p) && (had || !resync) && r.opts.Profile.Proactive(e.Endpoint, p) {
			changed = append(changed, p)
		} else {
			unchanged = append(unchanged, p)
		}
	}
	if len(changed) == 0 {
		if resync {
			r.mu.Lock()
			s.resync = false // Alexa's record matches: the re-sync is done
			r.mu.Unlock()
		}
		return
	}
	switch {
	case cause == "" && resync:
		// The first report after a restart: what changed while the hub was
		// down (a change with a cause in the same window lends its cause).
		cause = model.CausePoll
	case cause == "":
		cause = model.CausePhysical
	}
	ev, err := alexa.NewChangeReport(id, cause, changed, unchanged)
	if err == nil {
		err = r.opts.Events.Send(ctx, ev)
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		s.failures++
		retry := s.failures <= maxChangeReportRetries
		if retry && !s.dirty {
			s.dirty, s.due = true, r.now().Add(time.Duration(s.failures)*r.retryDelay)
			r.dirty[id] = true
			if s.cause == "" {
				s.cause = cause
			}
		}
		if !retry {
			s.failures = 0
		}
		r.mu.Unlock()
		r.log.Warn("router: ChangeReport not sent", "endpoint", id, "err", err, "retry", retry)
		return
	}
	r.mu.Lock()
	s.failures = 0
	r.mu.Unlock()
	r.met.ChangeReportSent()
	r.told(id, props)
}

// propKey is "namespace|instance|name" (the encoding of StoreBucket).
func propKey(p alexa.Property) string { return p.Namespace + "|" + p.Instance + "|" + p.Name }

func propValue(p alexa.Property) string {
	var buf [64]byte
	b, err := p.AppendValueJSON(buf[:0])
	if err != nil {
		return fmt.Sprintf("%#v", p.Value)
	}
	return string(b)
}

func propMap(props []alexa.Property) map[string]string {
	m := make(map[string]string, len(props))
	for _, p := range props {
		m[propKey(p)] = propValue(p)
	}
	return m
}

// countEndpoints updates the endpoint gauges.
func (r *Router) countEndpoints() {
	if r.met == nil {
		return
	}
	r.met.ResetEndpoints()
	for _, c := range r.reg.Counts() { // kept by the registry: no pass over the endpoints
		r.met.Endpoints(c.Bridge, string(c.Category), c.N)
	}
}
