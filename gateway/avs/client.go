//lint:file-ignore SA1019 issue #2 asks for golang.org/x/net/http2; its ClientConn.State reports GOAWAY, which net/http's ClientConn (Go 1.26) does not expose.

package avs

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/avshub/avshub/discovery/model"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/sync/errgroup"

	"github.com/avshub/avshub/discovery/backoff"
	"github.com/avshub/avshub/gateway/metrics"
	"github.com/avshub/avshub/internal/hoptrace"
	"github.com/avshub/avshub/internal/rawconn"
)

// Paths of the AVS API (envelope v20160207).
const (
	DirectivesPath = "/v20160207/directives"
	EventsPath     = "/v20160207/events"
	PingPath       = "/ping"
)

// TokenSource hands out LWA access tokens (gateway/lwa's Authorizer implements it).
type TokenSource interface {
	// Token returns the current access token.
	Token(ctx context.Context) (string, error)
	// Invalidate reports that AVS refused token (HTTP 403).
	Invalidate(token string)
}

// DirectiveHandler handles one directive part ({"directive":{…}}). Errors
// wrapping ErrUnsupported or ErrMalformed are answered with
// System.ExceptionEncountered; other errors are only logged.
type DirectiveHandler interface {
	HandleDirective(ctx context.Context, raw []byte) error
}

// AttachmentHandler is optionally implemented by a DirectiveHandler to receive
// binary parts (by Content-ID, brackets stripped); otherwise they are skipped.
type AttachmentHandler interface {
	HandleAttachment(ctx context.Context, contentID string, r io.Reader) error
}

// DiscoveryReport is one Alexa.Discovery report (same shape as discovery.Report).
type DiscoveryReport struct {
	// Name is "AddOrUpdateReport" or "DeleteReport".
	Name string
	// Endpoints are endpoint objects, or {"endpointId":…} for DeleteReport.
	Endpoints []json.RawMessage
}

// DiscoverySource supplies the discovery reports Alexa has not acknowledged yet.
type DiscoverySource interface {
	// PendingReports returns the reports to send now.
	PendingReports(ctx context.Context) ([]DiscoveryReport, error)
	// ReportDelivered records that Alexa acknowledged r.
	ReportDelivered(ctx context.Context, r DiscoveryReport) error
	// Changed is signalled when PendingReports may be non-empty.
	Changed() <-chan struct{}
}

// State is a state of the connection (the AVS Device SDK's transport states).
type State string

// Connection states.
const (
	StateIdle           State = "IDLE"
	StateAuthorizing    State = "AUTHORIZING"
	StateConnecting     State = "CONNECTING"
	StatePostConnecting State = "POST_CONNECTING"
	StateConnected      State = "CONNECTED"
	StateWaiting        State = "WAITING_TO_RETRY"
	StateStopped        State = "STOPPED"
)

var allStates = []string{string(StateIdle), string(StateAuthorizing), string(StateConnecting),
	string(StatePostConnecting), string(StateConnected), string(StateWaiting), string(StateStopped)}

// DefaultBackoff is the reconnect table of the AVS Device SDK (each value is
// randomised into [v×2/3, v×3/2], the SDK's ±50 %).
var DefaultBackoff = []time.Duration{250 * time.Millisecond, time.Second, 3 * time.Second,
	5 * time.Second, 10 * time.Second, 20 * time.Second}

// DefaultDiscoveryBackoff is the SDK's discovery event retry table (1 s … 256 s).
var DefaultDiscoveryBackoff = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
	16 * time.Second, 32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second}

// ErrStopped is returned by Send once Run has returned.
var ErrStopped = errors.New("avs: client stopped")

// ErrQueueFull is returned by Send when the bounded event queue is full.
var ErrQueueFull = errors.New("avs: event queue full")

// Options configure a Client. Tokens is required.
type Options struct {
	// URL is the base URL (e.g. the emulator's); default: Region's current URL.
	URL string
	// Region is NA (default), EU or FE; Legacy picks the legacy host table.
	Region string
	Legacy bool
	// TLSConfig is the client TLS configuration (RootCAs); ALPN h2 is added.
	TLSConfig *tls.Config
	// Tokens supplies access tokens.
	Tokens TokenSource
	// Handler receives directives (nil: every directive is unsupported).
	Handler DirectiveHandler
	// Discovery supplies discovery reports (nil: none are sent).
	Discovery DiscoverySource
	// Gateway persists SetGateway's URL (nil: kept in memory only).
	Gateway GatewayStore
	// SyncContext returns the context array of System.SynchronizeState (nil: []).
	SyncContext func(ctx context.Context) (json.RawMessage, error)
	// PingInterval is the idle time before GET /ping (default 5 min).
	PingInterval time.Duration
	// PingTimeout bounds a ping (default 30 s).
	PingTimeout time.Duration
	// EventTimeout bounds the wait for an event's response headers (default 30 s).
	EventTimeout time.Duration
	// ConnectTimeout bounds dialling and the downchannel's response (default 60 s).
	ConnectTimeout time.Duration
	// EventProcessedTimeout is the wait for Alexa.EventProcessed (default 2 s).
	EventProcessedTimeout time.Duration
	// Backoff is the reconnect table (default DefaultBackoff); also used for 429/500/503.
	Backoff []time.Duration
	// DiscoveryBackoff is the discovery retry table (default DefaultDiscoveryBackoff).
	DiscoveryBackoff []time.Duration
	// QueueSize bounds the events waiting to be sent (default 512).
	QueueSize int
	// MaxEventStreams bounds concurrent event streams (default 8 = 10 − downchannel − ping).
	MaxEventStreams int
	// MaxRetries bounds resends of an event answered 429/500/503 (default 3).
	MaxRetries int
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Metrics (optional).
	Metrics *metrics.Metrics
}

// Transition is one state change.
type Transition struct {
	State  State     `json:"state"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason,omitempty"`
}

// Status is a snapshot of the connection.
type Status struct {
	State         State         `json:"state"`
	Since         time.Time     `json:"since"`
	History       []Transition  `json:"history"`
	Gateway       string        `json:"gateway"`
	LastPing      time.Time     `json:"lastPing,omitzero"`
	LastPingError string        `json:"lastPingError,omitempty"`
	Queued        int           `json:"queued"`
	InFlight      int           `json:"inFlight"`
	Connects      int           `json:"connects"`
	LastError     string        `json:"lastError,omitempty"`
	PostConnect   time.Duration `json:"postConnect"`
}

const historyLen = 64

type pending struct {
	seq   uint64
	event []byte
	hdr   Header
	done  chan error
	tries int // failures the event may cause (errTransport.suspect)
}

// Client is one AVS connection: downchannel, events, ping, reconnects.
type Client struct {
	opts Options
	log  *slog.Logger
	tr   *http2.Transport

	running atomic.Bool
	runCtx  context.Context

	mu        sync.Mutex
	queue     []*pending
	seq       uint64
	notify    chan struct{}
	state     State
	since     time.Time
	history   []Transition
	gateway   string
	lastPing  time.Time
	pingErr   string
	inFlight  int
	connects  int
	lastErr   string
	postDur   time.Duration
	processed map[string]chan struct{}
	stopped   bool // Run has returned: Send fails at once

	handlers sync.WaitGroup
	// lingering counts the downchannels of ended connections still read
	// (lingerDownchannel).
	lingering sync.WaitGroup
	hsem      chan struct{}
	work      chan handlerJob // to an idle handler goroutine
}

// New returns a Client; call Run to connect.
func New(opts Options) (*Client, error) {
	if opts.Tokens == nil {
		return nil, errors.New("avs: Options.Tokens is required")
	}
	base := opts.URL
	if base == "" {
		u, err := RegionURL(opts.Region, opts.Legacy)
		if err != nil {
			return nil, err
		}
		base = u
	}
	base, err := checkBaseURL(base)
	if err != nil {
		return nil, err
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opts.PingInterval, 5*time.Minute)
	def(&opts.PingTimeout, 30*time.Second)
	def(&opts.EventTimeout, 30*time.Second)
	def(&opts.ConnectTimeout, 60*time.Second)
	def(&opts.EventProcessedTimeout, 2*time.Second)
	if len(opts.Backoff) == 0 {
		opts.Backoff = DefaultBackoff
	}
	if len(opts.DiscoveryBackoff) == 0 {
		opts.DiscoveryBackoff = DefaultDiscoveryBackoff
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 512
	}
	if opts.MaxEventStreams <= 0 {
		opts.MaxEventStreams = 8
	}
	if opts.MaxRetries <= 0 {
		opts.MaxRetries = 3
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.TLSConfig != nil {
		tlsCfg = opts.TLSConfig.Clone()
	}
	tlsCfg.NextProtos = []string{http2.NextProtoTLS}
	c := &Client{
		opts:      opts,
		log:       log, // the caller names the component (the hub passes its "avs" logger)
		tr:        &http2.Transport{TLSClientConfig: tlsCfg, StrictMaxConcurrentStreams: true},
		notify:    make(chan struct{}, 1),
		gateway:   base,
		processed: map[string]chan struct{}{},
		hsem:      make(chan struct{}, 64),
		work:      make(chan handlerJob),
	}
	c.setState(StateIdle, "")
	return c, nil
}

// Status returns a snapshot of the connection.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Status{State: c.state, Since: c.since, History: append([]Transition(nil), c.history...),
		Gateway: c.gateway, LastPing: c.lastPing, LastPingError: c.pingErr, Queued: len(c.queue),
		InFlight: c.inFlight, Connects: c.connects, LastError: c.lastErr, PostConnect: c.postDur}
}

func (c *Client) setState(s State, reason string) {
	c.mu.Lock()
	if c.state == s {
		c.mu.Unlock()
		return
	}
	now := time.Now()
	c.state, c.since = s, now
	c.history = append(c.history, Transition{State: s, At: now, Reason: reason})
	if len(c.history) > historyLen {
		c.history = c.history[len(c.history)-historyLen:]
	}
	c.mu.Unlock()
	c.opts.Metrics.ConnectionState(string(s), allStates)
	c.log.Info("avs connection", "state", string(s), "reason", reason)
}

// Send queues one event ({"context":…,"event":…}) and waits until AVS
// answered it: nil for 200/202/204, *Exception for 4xx/5xx (after one token
// refresh on 403 and up to MaxRetries backed-off resends on 429/500/503).
// Events wait (bounded, ErrQueueFull) until the connection is CONNECTED and
// survive reconnects. When ctx ends first Send returns ctx.Err() and the event
// is still delivered later. Alexa.Discovery reports get payload.scope filled in.
// After Run has returned, Send fails with ErrStopped.
func (c *Client) Send(ctx context.Context, event []byte) error {
	p, err := c.enqueue(event)
	if err != nil {
		return err
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) enqueue(event []byte) (*pending, error) {
	hdr, err := eventHeader(event)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil, ErrStopped
	}
	if len(c.queue) >= c.opts.QueueSize {
		c.mu.Unlock()
		return nil, fmt.Errorf("%w (%d events)", ErrQueueFull, c.opts.QueueSize)
	}
	c.seq++
	hoptrace.At(hdr.CorrelationToken, "hub-send")
	p := &pending{seq: c.seq, event: event, hdr: hdr, done: make(chan error, 1)}
	c.queue = append(c.queue, p)
	c.mu.Unlock()
	c.signal()
	return p, nil
}

// sendAsync queues an event without waiting; failures are logged.
func (c *Client) sendAsync(event []byte) {
	p, err := c.enqueue(event)
	if err != nil {
		c.log.Warn("event dropped", "err", err)
		return
	}
	go func() {
		if err := <-p.done; err != nil {
			c.log.Warn("event failed", "event", p.hdr.Qualified(), "err", err)
		}
	}()
}

func (c *Client) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// requeue puts p back in sequence order (an event that did not get through).
func (c *Client) requeue(p *pending) {
	c.mu.Lock()
	i := sort.Search(len(c.queue), func(i int) bool { return c.queue[i].seq > p.seq })
	c.queue = append(c.queue, nil)
	copy(c.queue[i+1:], c.queue[i:])
	c.queue[i] = p
	c.mu.Unlock()
	c.signal()
}

func (c *Client) dequeue() *pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		return nil
	}
	p := c.queue[0]
	c.queue = c.queue[1:]
	return p
}

// retryDelay returns table[i] (the last entry repeats) randomised into [v×2/3, v×3/2].
func retryDelay(table []time.Duration, i int) time.Duration {
	return backoff.Policy{Steps: table, Jitter: backoff.Third}.Delay(i + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errSetGateway ends a session after Alexa.ApiGateway.SetGateway.
var errSetGateway = errors.New("avs: gateway changed by SetGateway")

// Run connects and keeps the connection up (post-connect, ping, reconnect
// with backoff) until ctx ends; it then returns nil.
func (c *Client) Run(ctx context.Context) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("avs: Run called twice")
	}
	c.runCtx = ctx
	if c.opts.Gateway != nil {
		if u, err := c.opts.Gateway.LoadGateway(ctx); err != nil {
			c.log.Warn("cannot load the persisted gateway; using the configured one", "err", err)
		} else if u != "" {
			if u, err := checkBaseURL(u); err == nil {
				c.mu.Lock()
				c.gateway = u
				c.mu.Unlock()
			}
		}
	}
	attempt := 0
	for {
		reached, err := c.session(ctx)
		if ctx.Err() != nil {
			break
		}
		c.mu.Lock()
		c.lastErr = err.Error()
		c.mu.Unlock()
		c.opts.Metrics.Reconnect()
		if reached {
			attempt = 0
		}
		if errors.Is(err, errSetGateway) {
			continue
		}
		d := retryDelay(c.opts.Backoff, attempt)
		attempt++
		c.setState(StateWaiting, err.Error())
		if sleep(ctx, d) != nil {
			break
		}
	}
	c.setState(StateStopped, "context ended")
	c.lingering.Wait()
	c.handlers.Wait()
	c.failQueued(ctx.Err())
	return nil
}

// failQueued answers every queued event with err (Run is over).
func (c *Client) failQueued(err error) {
	c.mu.Lock()
	q := c.queue
	c.queue = nil
	c.stopped = true
	c.mu.Unlock()
	for _, p := range q {
		p.done <- fmt.Errorf("%w: %w", ErrStopped, err)
	}
}

// conn is one HTTP/2 connection and its streams.
type conn struct {
	c        *Client
	cc       *http2.ClientConn
	nc       *goAwayConn
	base     string
	ctx      context.Context
	cancel   context.CancelCauseFunc
	sendMu   sync.Mutex    // held from an event's start to its response headers
	streams  chan struct{} // event stream slots
	activity atomic.Int64  // unix nanos of the last activity
	wg       sync.WaitGroup
	throttle atomic.Int64 // unix nanos before which no event starts (429/5xx)
}

func (s *conn) touch() { s.activity.Store(time.Now().UnixNano()) }

// session runs one connection to its end; reached tells whether it got CONNECTED.
func (c *Client) session(ctx context.Context) (reached bool, err error) {
	c.setState(StateAuthorizing, "")
	token, err := c.opts.Tokens.Token(ctx)
	if err != nil {
		return false, fmt.Errorf("avs: get access token: %w", err)
	}
	c.setState(StateConnecting, "")
	c.mu.Lock()
	base := c.gateway
	c.connects++
	c.mu.Unlock()
	s, err := c.dial(ctx, base)
	if err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.ctx, s.cancel = sctx, cancel

	// The downchannel has a context of its own: when the connection ends
	// for another reason (a GOAWAY above all), it is still read for a while
	// (lingerDownchannel).
	dctx, dcancel := context.WithCancelCause(ctx)
	resp, err := c.openDownchannel(dctx, dcancel, s, token)
	if err != nil {
		dcancel(err)
		s.cc.Close()
		return false, err
	}
	c.setState(StatePostConnecting, "")
	g, gctx := errgroup.WithContext(sctx)
	// Any goroutine's failure ends the connection; so does the downchannel's end.
	stop := context.AfterFunc(gctx, func() { cancel(context.Cause(gctx)) })
	defer stop()
	dcDone := make(chan struct{})
	go func() {
		defer close(dcDone)
		_ = c.readDownchannel(s, resp)
	}()
	g.Go(func() error { return c.keepAlive(gctx, s) })
	g.Go(func() error {
		start := time.Now()
		if err := c.postConnect(gctx, s); err != nil {
			return err
		}
		d := time.Since(start)
		c.opts.Metrics.PostConnect(d)
		c.mu.Lock()
		c.postDur = d
		c.mu.Unlock()
		reached = true
		c.setState(StateConnected, "")
		if c.opts.Discovery != nil {
			g.Go(func() error { return c.watchDiscovery(gctx, s) })
		}
		return c.drain(gctx, s)
	})
	err = g.Wait()
	if cause := context.Cause(sctx); cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	if err == nil {
		err = errors.New("avs: connection ended")
	}
	cancel(err)
	s.wg.Wait()
	c.lingerDownchannel(s, resp, dcDone, dcancel, err)
	if ctx.Err() == nil {
		c.log.Info("avs connection ended", "err", err)
	}
	return reached, err
}

// downchannelLinger bounds how long the downchannel of an ended connection is
// still read.
const downchannelLinger = 10 * time.Second

// lingerDownchannel closes an ended connection once its downchannel has
// ended too, reading it meanwhile for at most downchannelLinger. HTTP/2 lets
// the streams opened before a GOAWAY finish, and AVS may have written a
// directive on the downchannel just before the client saw the GOAWAY (or
// before an event found the connection unusable): closing the connection at
// once would drop it, while the directive is still answered through the next
// connection's event queue. Run waits for the lingering reads.
func (c *Client) lingerDownchannel(s *conn, resp *http.Response, dcDone <-chan struct{}, dcancel context.CancelCauseFunc, err error) {
	closeAll := func() {
		dcancel(err)
		_ = resp.Body.Close()
		<-dcDone
		s.cc.Close()
	}
	select {
	case <-dcDone:
		closeAll()
		return
	default:
	}
	c.lingering.Add(1)
	go func() {
		defer c.lingering.Done()
		t := time.NewTimer(downchannelLinger)
		defer t.Stop()
		select {
		case <-dcDone:
		case <-t.C:
		}
		closeAll()
	}()
}

func (c *Client) dial(ctx context.Context, base string) (*conn, error) {
	host := base[len("https://"):]
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "443")
	}
	dctx, cancel := context.WithTimeout(ctx, c.opts.ConnectTimeout)
	defer cancel()
	cfg := c.tr.TLSClientConfig.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(host)
	}
	var d net.Dialer
	tc, err := d.DialContext(dctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("avs: connect %s: %w", host, err)
	}
	// The socket's reads and writes are raw system calls (package rawconn):
	// a directive's downchannel read and event POST do not wake the runtime's
	// monitor thread when the hub was idle.
	nc := tls.Client(rawconn.Wrap(tc), cfg)
	if err := nc.HandshakeContext(dctx); err != nil {
		tc.Close()
		return nil, fmt.Errorf("avs: connect %s: %w", host, err)
	}
	if p := nc.ConnectionState().NegotiatedProtocol; p != http2.NextProtoTLS {
		nc.Close()
		return nil, fmt.Errorf("avs: %s did not negotiate HTTP/2 (ALPN %q)", host, p)
	}
	gc := &goAwayConn{Conn: nc}
	cc, err := c.tr.NewClientConn(gc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("avs: HTTP/2 handshake with %s: %w", host, err)
	}
	s := &conn{c: c, cc: cc, nc: gc, base: base, streams: make(chan struct{}, c.opts.MaxEventStreams)}
	s.touch()
	return s, nil
}

func (c *Client) newRequest(ctx context.Context, s *conn, method, path, token string, body []byte, ct string) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytesReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if body != nil {
		req.ContentLength = int64(len(body))
	}
	return req, nil
}

// openDownchannel opens GET /v20160207/directives under ctx (cancel ends it)
// and waits for its 200.
func (c *Client) openDownchannel(ctx context.Context, cancel context.CancelCauseFunc, s *conn, token string) (*http.Response, error) {
	req, err := c.newRequest(ctx, s, http.MethodGet, DirectivesPath, token, nil, "")
	if err != nil {
		return nil, err
	}
	timer := time.AfterFunc(c.opts.ConnectTimeout, func() { cancel(errors.New("avs: downchannel connect timeout")) })
	resp, err := s.cc.RoundTrip(req)
	timer.Stop()
	if err != nil {
		return nil, fmt.Errorf("avs: open downchannel: %w", err)
	}
	s.touch()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode == http.StatusForbidden {
			c.opts.Tokens.Invalidate(token)
		}
		return nil, fmt.Errorf("avs: open downchannel: %w", parseException(resp.StatusCode, body))
	}
	return resp, nil
}

// readDownchannel reads directives until the stream ends (which ends the connection).
func (c *Client) readDownchannel(s *conn, resp *http.Response) error {
	err := c.readParts(s, resp)
	if errors.Is(err, io.EOF) {
		err = errors.New("avs: downchannel ended")
	} else if s.ctx.Err() == nil {
		err = fmt.Errorf("avs: downchannel: %w", err)
	}
	s.cancel(err)
	return err
}

// readParts reads a multipart/related body and dispatches its directives; it
// returns io.EOF after the closing delimiter, otherwise the error that ended it.
func (c *Client) readParts(s *conn, resp *http.Response) error {
	_, boundary, err := ParseContentType(resp.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	mr := NewMultipartReader(activityReader{resp.Body, s}, boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			return err
		}
		mt := p.MediaType()
		if cid := p.ContentID(); cid != "" && mt != "application/json" {
			if ah, ok := c.opts.Handler.(AttachmentHandler); ok {
				c.attachment(ah, cid, p)
			}
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(p, MaxDirectiveSize+1))
		if err != nil {
			return err
		}
		if len(raw) > MaxDirectiveSize {
			c.log.Warn("directive part too large; skipped", "limit", MaxDirectiveSize)
			continue
		}
		c.dispatch(s, raw)
	}
}

// attachment hands one binary part to ah; a panic there is logged, not fatal.
func (c *Client) attachment(ah AttachmentHandler, cid string, r io.Reader) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("attachment handler panicked", "contentId", cid, "panic", fmt.Sprint(v))
		}
	}()
	if err := ah.HandleAttachment(c.runCtx, cid, r); err != nil {
		c.log.Warn("attachment not handled", "contentId", cid, "err", err)
	}
}

type activityReader struct {
	r io.Reader
	s *conn
}

func (a activityReader) Read(b []byte) (int, error) {
	n, err := a.r.Read(b)
	if n > 0 {
		a.s.touch()
	}
	return n, err
}

// dispatch routes one directive: the connection's own directives here, the
// rest to the handler in their own goroutine.
func (c *Client) dispatch(s *conn, raw []byte) {
	hdr, payload, err := DecodeDirectiveHeader(raw)
	if err != nil {
		c.log.Warn("unparsable directive", "err", err)
		c.sendAsync(NewExceptionEncountered(raw, ExceptionUnexpectedInformation, err.Error()))
		return
	}
	hoptrace.At(hdr.CorrelationToken, "hub-parsed")
	switch hdr.Qualified() {
	case "Alexa.EventProcessed":
		c.mu.Lock()
		ch := c.processed[hdr.EventCorrelationToken]
		delete(c.processed, hdr.EventCorrelationToken)
		c.mu.Unlock()
		if ch != nil {
			close(ch)
		} else {
			c.log.Debug("EventProcessed for no pending event")
		}
		return
	case "Alexa.ApiGateway.SetGateway":
		c.setGateway(s, raw, payload)
		return
	case "System.ResetUserInactivity":
		c.log.Debug("System.ResetUserInactivity")
		return
	case "System.Exception":
		c.log.Warn("System.Exception directive from AVS", "payload", model.Abbreviate(string(payload), 300))
		return
	}
	if c.opts.Handler == nil {
		c.sendAsync(NewExceptionEncountered(raw, ExceptionUnsupportedOperation, "no handler for "+hdr.Qualified()))
		return
	}
	// The reader never waits for handlers (EventProcessed must get through):
	// an idle handler goroutine takes the directive, or a new one starts.
	d := handlerJob{raw: raw, hdr: hdr}
	select {
	case c.work <- d:
	default:
		c.handlers.Add(1)
		go c.handlerLoop(d)
	}
}

// handlerJob is one directive for a handler goroutine.
type handlerJob struct {
	raw []byte
	hdr Header
}

// handlerIdle is how long a handler goroutine waits for the next directive
// before it ends. Kept goroutines keep the stack the handler grew (the
// router, gRPC and JSON go deep): a new goroutine per directive grew and
// copied its stack every time (about 3 % of the hub's CPU).
const handlerIdle = 2 * time.Second

// handlerLoop handles d, then the directives dispatch hands it while it is
// idle, until handlerIdle passes without one or Run ends.
func (c *Client) handlerLoop(d handlerJob) {
	defer c.handlers.Done()
	idle := time.NewTimer(handlerIdle)
	defer idle.Stop()
	for {
		c.runHandler(d)
		idle.Reset(handlerIdle)
		select {
		case d = <-c.work:
		case <-idle.C:
			return
		case <-c.runCtx.Done():
			return
		}
	}
}

// runHandler handles one directive (hsem bounds how many run at once) and
// answers what the handler refused.
func (c *Client) runHandler(d handlerJob) {
	c.hsem <- struct{}{}
	defer func() { <-c.hsem }()
	raw, hdr := d.raw, d.hdr
	hoptrace.At(hdr.CorrelationToken, "hub-handler")
	err := c.handle(raw)
	switch {
	case err == nil:
	case errors.Is(err, ErrUnsupported):
		c.log.Info("unsupported directive", "directive", hdr.Qualified(), "err", err)
		c.sendAsync(NewExceptionEncountered(raw, ExceptionUnsupportedOperation, err.Error()))
	case errors.Is(err, ErrMalformed):
		c.log.Warn("malformed directive", "directive", hdr.Qualified(), "err", err)
		c.sendAsync(NewExceptionEncountered(raw, ExceptionUnexpectedInformation, err.Error()))
	default:
		c.log.Warn("directive failed", "directive", hdr.Qualified(), "err", err)
	}
}

// handle calls the handler, turning a panic into an INTERNAL_ERROR exception.
func (c *Client) handle(raw []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("directive handler panicked", "panic", fmt.Sprint(r))
			c.sendAsync(NewExceptionEncountered(raw, ExceptionInternalError, "internal error"))
			err = nil
		}
	}()
	return c.opts.Handler.HandleDirective(c.runCtx, raw)
}

func (c *Client) setGateway(s *conn, raw, payload json.RawMessage) {
	var p struct {
		Gateway string `json:"gateway"`
	}
	_ = json.Unmarshal(payload, &p)
	u, err := checkBaseURL(p.Gateway)
	if err != nil {
		c.log.Warn("SetGateway with an unusable URL", "err", err)
		c.sendAsync(NewExceptionEncountered(raw, ExceptionUnexpectedInformation, err.Error()))
		return
	}
	if c.opts.Gateway != nil {
		if err := c.opts.Gateway.SaveGateway(c.runCtx, u); err != nil {
			c.log.Error("cannot persist the gateway set by SetGateway", "err", err)
		}
	}
	c.mu.Lock()
	c.gateway = u
	c.mu.Unlock()
	c.log.Info("gateway changed by Alexa.ApiGateway.SetGateway", "gateway", u)
	s.cancel(errSetGateway)
}

// keepAlive pings after PingInterval of inactivity and watches for GOAWAY.
func (c *Client) keepAlive(ctx context.Context, s *conn) error {
	const goAwayPoll = 500 * time.Millisecond
	t := time.NewTimer(min(goAwayPoll, c.opts.PingInterval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if st := s.cc.State(); st.Closing || st.Closed || s.nc.goneAway() {
			err := errors.New("avs: server sent GOAWAY")
			s.cancel(err)
			return err
		}
		idle := time.Since(time.Unix(0, s.activity.Load()))
		if idle < c.opts.PingInterval {
			t.Reset(min(goAwayPoll, c.opts.PingInterval-idle))
			continue
		}
		if err := c.ping(ctx, s); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.cancel(err)
			return err
		}
		t.Reset(min(goAwayPoll, c.opts.PingInterval))
	}
}

// ping sends GET /ping (30 s) and expects 204; 403 refreshes the token once.
func (c *Client) ping(ctx context.Context, s *conn) error {
	var err error
	for try := 0; try < 2; try++ {
		var token string
		token, err = c.opts.Tokens.Token(ctx)
		if err != nil {
			break
		}
		pctx, cancel := context.WithTimeout(ctx, c.opts.PingTimeout)
		var req *http.Request
		req, err = c.newRequest(pctx, s, http.MethodGet, PingPath, token, nil, "")
		if err != nil {
			cancel()
			break
		}
		var resp *http.Response
		resp, err = s.cc.RoundTrip(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusOK:
				err = nil
			case resp.StatusCode == http.StatusForbidden && try == 0:
				c.opts.Tokens.Invalidate(token)
				cancel()
				continue
			default:
				err = parseException(resp.StatusCode, body)
			}
		}
		cancel()
		break
	}
	s.touch()
	c.mu.Lock()
	c.lastPing = time.Now()
	c.pingErr = ""
	if err != nil {
		c.pingErr = err.Error()
	}
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("avs: ping failed: %w", err)
	}
	return nil
}

// response is the outcome of one event POST.
type response struct {
	status int
	exc    *Exception
}

// errTransport marks a failure of the connection (the event may be resent).
// timeout tells that no response headers came within EventTimeout.
type errTransport struct {
	err     error
	timeout bool
}

func (e *errTransport) Error() string { return "avs: event not delivered: " + e.err.Error() }
func (e *errTransport) Unwrap() error { return e.err }

// suspect tells a failure the event itself may cause, so that resending it
// for ever would not help: no response in time, or the server resetting its
// stream (other than REFUSED_STREAM, "not processed, try again"). A
// connection that ends under an event (GOAWAY, a dropped downchannel, a lost
// socket) is not the event's fault.
func (e *errTransport) suspect() bool {
	if e.timeout {
		return true
	}
	var se http2.StreamError
	return errors.As(e.err, &se) && se.Code != http2.ErrCodeRefusedStream
}

// post sends one event on s: it waits for a stream slot and for the previous
// event's response headers, refreshes the token once on 403, and reads a 200
// body's directives. started is closed once the response headers arrived (or
// the attempt failed). build makes the event for a token.
func (c *Client) post(ctx context.Context, s *conn, name string, build func(token string) []byte, started chan<- struct{}) (response, error) {
	// started is closed once, by this goroutine (no sync.OnceFunc: its
	// allocations are per event).
	startedDone := started == nil
	startedOnce := func() {
		if !startedDone {
			startedDone = true
			close(started)
		}
	}
	defer startedOnce()
	select {
	case s.streams <- struct{}{}:
	case <-ctx.Done():
		return response{}, &errTransport{err: context.Cause(ctx)}
	}
	c.mu.Lock()
	c.inFlight++
	c.mu.Unlock()
	defer func() {
		<-s.streams
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	for try := 0; ; try++ {
		token, err := c.opts.Tokens.Token(ctx)
		if err != nil {
			return response{}, &errTransport{err: fmt.Errorf("get access token: %w", err)}
		}
		body, ct := formBody(build(token))
		rctx, cancel := context.WithCancel(ctx)
		req, err := c.newRequest(rctx, s, http.MethodPost, EventsPath, token, body, ct)
		if err != nil {
			cancel()
			return response{}, err
		}
		s.sendMu.Lock()
		if d := time.Until(time.Unix(0, s.throttle.Load())); d > 0 {
			if err := sleep(ctx, d); err != nil {
				s.sendMu.Unlock()
				cancel()
				return response{}, &errTransport{err: context.Cause(ctx)}
			}
		}
		s.touch()
		timer := time.AfterFunc(c.opts.EventTimeout, cancel)
		resp, err := s.cc.RoundTrip(req)
		timedOut := !timer.Stop()
		s.sendMu.Unlock()
		startedOnce()
		if err != nil {
			cancel()
			if timedOut && ctx.Err() == nil {
				return response{}, &errTransport{err: fmt.Errorf("no response headers within %s", c.opts.EventTimeout), timeout: true}
			}
			return response{}, &errTransport{err: err}
		}
		s.touch()
		c.opts.Metrics.Event(name, strconv.Itoa(resp.StatusCode))
		switch resp.StatusCode {
		case http.StatusOK:
			err := c.readParts(s, resp)
			resp.Body.Close()
			cancel()
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				c.log.Warn("event response body", "event", name, "err", err)
			}
			return response{status: resp.StatusCode}, nil
		case http.StatusNoContent, http.StatusAccepted:
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			cancel()
			return response{status: resp.StatusCode}, nil
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		cancel()
		exc := parseException(resp.StatusCode, b)
		if resp.StatusCode == http.StatusForbidden && try == 0 {
			c.log.Info("AVS refused the access token; refreshing once", "event", name)
			c.opts.Tokens.Invalidate(token)
			continue
		}
		return response{status: resp.StatusCode, exc: exc}, exc
	}
}

// maxSuspectTries is how many suspect failures (errTransport.suspect) an event
// gets before it is given up with the error.
const maxSuspectTries = 3

// deliver sends one queued event, retrying 429/500/503 with backoff, and
// reports the outcome; a connection failure puts it back in the queue.
func (c *Client) deliver(ctx context.Context, s *conn, p *pending, started chan<- struct{}) {
	build := func(token string) []byte { return p.event }
	if p.hdr.Namespace == "Alexa.Discovery" {
		build = func(token string) []byte { return withScope(p.event, token) }
	}
	for retry := 0; ; retry++ {
		hoptrace.At(p.hdr.CorrelationToken, "hub-deliver")
		_, err := c.post(ctx, s, p.hdr.Qualified(), build, started)
		hoptrace.At(p.hdr.CorrelationToken, "hub-posted")
		started = nil
		var te *errTransport
		var exc *Exception
		switch {
		case errors.As(err, &te):
			if te.suspect() {
				p.tries++
			}
			if ctx.Err() == nil && p.tries >= maxSuspectTries {
				p.done <- err
				return
			}
			if ctx.Err() == nil {
				// The connection is suspect: end it before the event goes
				// back in the queue, so that its resend waits for the next
				// connection instead of racing onto this one.
				s.cancel(err)
			}
			c.requeue(p)
			return
		case errors.As(err, &exc) && exc.Retryable() && retry < c.opts.MaxRetries:
			d := retryDelay(c.opts.Backoff, retry)
			s.throttle.Store(time.Now().Add(d).UnixNano())
			c.log.Info("AVS asks to back off", "event", p.hdr.Qualified(), "status", exc.Status, "wait", d)
			if sleep(ctx, d) != nil {
				c.requeue(p)
				return
			}
			continue
		}
		p.done <- err
		return
	}
}

// drain sends queued events while the connection is CONNECTED.
func (c *Client) drain(ctx context.Context, s *conn) error {
	for {
		p := c.dequeue()
		if p == nil {
			select {
			case <-ctx.Done():
				return nil
			case <-c.notify:
				continue
			}
		}
		if ctx.Err() != nil {
			c.requeue(p)
			return nil
		}
		started := make(chan struct{})
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.deliver(ctx, s, p, started)
		}()
		select {
		case <-started:
		case <-ctx.Done():
		}
	}
}

// withScope sets payload.scope = {"type":"BearerToken","token":token}.
func withScope(event []byte, token string) []byte {
	var env map[string]json.RawMessage
	if json.Unmarshal(event, &env) != nil {
		return event
	}
	var ev map[string]json.RawMessage
	if json.Unmarshal(env["event"], &ev) != nil {
		return event
	}
	var payload map[string]json.RawMessage
	if json.Unmarshal(ev["payload"], &payload) != nil || payload == nil {
		payload = map[string]json.RawMessage{}
	}
	scope, _ := json.Marshal(map[string]string{"type": "BearerToken", "token": token})
	payload["scope"] = scope
	ev["payload"], _ = json.Marshal(payload)
	env["event"], _ = json.Marshal(ev)
	out, err := json.Marshal(env)
	if err != nil {
		return event
	}
	return out
}
