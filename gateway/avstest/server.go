//lint:file-ignore SA1019 issue #2 asks for golang.org/x/net/http2 (deprecated in x/net v0.62 in favour of net/http's own HTTP/2).

package avstest

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/avshub/avshub/gateway/alexa/schema"
	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

// Profiles.
const (
	// ProfileAVS accepts, on connected endpoints, only the interfaces AVS
	// documents for them: Alexa, PowerController, ToggleController,
	// RangeController and ModeController.
	ProfileAVS = "avs"
	// ProfileSmartHome accepts the Smart Home interfaces.
	ProfileSmartHome = "smarthome"
)

// Options configure the emulator.
type Options struct {
	// Addr is the TLS listen address (default 127.0.0.1:0).
	Addr string
	// Profile is ProfileAVS (default) or ProfileSmartHome.
	Profile string
	// LWA is the Login with Amazon emulator whose tokens are accepted (default: a new one).
	LWA *lwatest.Server
	// CertDir, when set, receives ca.pem (the CA the server certificate chains to).
	CertDir string
	// Hosts the server certificate covers (default 127.0.0.1, ::1, localhost).
	Hosts []string
	// Record receives every event as one JSON line {"receivedAt","status","event"}.
	Record io.Writer
	// Validate checks Alexa.* events (default schema.Validate; errors wrapping
	// schema.ErrNotCovered pass).
	Validate func(event []byte) error
	// SetGateway, when set, answers VerifyGateway with Alexa.ApiGateway.SetGateway
	// pointing there unless the request already targets that host.
	SetGateway string
	// MaxEvents bounds the events kept in memory (default 10000).
	MaxEvents int
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Record is one event the emulator received.
type Record struct {
	ReceivedAt time.Time       `json:"receivedAt"`
	Status     int             `json:"status"`
	Event      json.RawMessage `json:"event"`
	// Conn is the connection number the event came on (not in the record file).
	Conn int `json:"-"`
	// Error is why the event was refused (not in the record file).
	Error string `json:"-"`
}

// Name returns the event's "namespace.name".
func (r Record) Name() string {
	h := header(r.Event)
	return h.Namespace + "." + h.Name
}

// State is what the emulator knows about the hub's connection.
type State struct {
	Connected        bool      `json:"connected"`
	Connection       int       `json:"connection"`
	Connections      int       `json:"connections"`
	Downchannels     int       `json:"downchannels"`
	Host             string    `json:"host,omitempty"`
	ConnectedAt      time.Time `json:"connectedAt,omitzero"`
	GatewayVerified  bool      `json:"gatewayVerified"`
	PostConnectDone  bool      `json:"postConnectDone"`
	LastPing         time.Time `json:"lastPing,omitzero"`
	Pings            int       `json:"pings"`
	Events           int       `json:"events"`
	Endpoints        int       `json:"endpoints"`
	OpenEventStreams int       `json:"openEventStreams"`
	MaxEventStreams  int       `json:"maxEventStreams"`
	HeldStreams      int       `json:"heldStreams"`
	// PendingFaults is how many requests armed faults (Inject) will still
	// answer or hold: 0 once every injected burst has been used up.
	PendingFaults       int      `json:"pendingFaults"`
	Profile             string   `json:"profile"`
	Violations          []string `json:"violations"`
	PostConnectSequence []string `json:"postConnectSequence,omitempty"`
}

// Server is the AVS emulator: HTTP/2 over TLS with its own CA.
type Server struct {
	opts   Options
	log    *slog.Logger
	lwa    *lwatest.Server
	auth   *authority
	ln     net.Listener
	url    string
	caFile string
	h1     *http.Server
	h1ln   *chanListener

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change
	conns      map[int]*simConn
	nconns     int
	current    *simConn // connection with the newest downchannel
	dcs        int
	lastPing   time.Time
	pings      int
	records    []Record
	nevents    int
	endpoints  map[string]json.RawMessage
	open       int
	maxOpen    int
	held       int
	faults     []Fault
	release    chan struct{} // closed to release stalled streams
	waiters    map[string]chan json.RawMessage
	violations []string
	recordMu   sync.Mutex
}

// simConn is one client connection.
type simConn struct {
	id       int
	nc       net.Conn
	host     string
	base     *http.Server
	at       time.Time
	dc       *downchannel
	verified bool
	synced   bool
	sequence []string // event names in arrival order
}

// downchannel is one open GET /directives stream. Parts wait in queue until
// the stream's handler has written and flushed them; each pusher learns
// whether its part went out (nil) or never will (errNoDownchannel): a part
// still queued when the stream ends is not delivered.
type downchannel struct {
	end  chan struct{} // closed to end the stream
	once sync.Once
	wake chan struct{} // a part was queued

	mu     sync.Mutex
	queue  []queuedPart
	closed bool // the handler has exited: nothing more is written
}

// queuedPart is a part and where its outcome goes (buffered: never blocks).
type queuedPart struct {
	data []byte
	sent chan error
}

// maxQueuedParts bounds the parts waiting for a slow reader.
const maxQueuedParts = 64

func newDownchannel() *downchannel {
	return &downchannel{end: make(chan struct{}), wake: make(chan struct{}, 1)}
}

func (d *downchannel) close() { d.once.Do(func() { close(d.end) }) }

// offer queues data; the returned channel tells its outcome.
func (d *downchannel) offer(data []byte) (<-chan error, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.closed:
		return nil, errNoDownchannel
	case len(d.queue) >= maxQueuedParts:
		return nil, fmt.Errorf("avstest: downchannel full (%d parts waiting)", maxQueuedParts)
	}
	sent := make(chan error, 1)
	d.queue = append(d.queue, queuedPart{data: data, sent: sent})
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return sent, nil
}

// take removes the queued parts (for the handler to write).
func (d *downchannel) take() []queuedPart {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queue
	d.queue = nil
	return q
}

// shut marks the stream ended and fails every part not written.
func (d *downchannel) shut() {
	d.mu.Lock()
	d.closed = true
	q := d.queue
	d.queue = nil
	d.mu.Unlock()
	for _, p := range q {
		p.sent <- errNoDownchannel
	}
}

type connKey struct{}

// New starts an emulator listening on Options.Addr.
func New(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Profile == "" {
		opts.Profile = ProfileAVS
	}
	if opts.Profile != ProfileAVS && opts.Profile != ProfileSmartHome {
		return nil, fmt.Errorf("avstest: unknown profile %q (want avs or smarthome)", opts.Profile)
	}
	if opts.LWA == nil {
		opts.LWA = lwatest.New(lwatest.Options{})
	}
	if opts.Validate == nil {
		opts.Validate = schema.Validate
	}
	if len(opts.Hosts) == 0 {
		opts.Hosts = []string{"127.0.0.1", "::1", "localhost"}
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 10000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	auth, err := newAuthority(opts.Hosts)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: opts.Logger.With("component", "avs-sim"), lwa: opts.LWA, auth: auth,
		changed: make(chan struct{}), conns: map[int]*simConn{}, endpoints: map[string]json.RawMessage{},
		release: make(chan struct{}), waiters: map[string]chan json.RawMessage{}}
	if opts.CertDir != "" {
		if s.caFile, err = auth.writeCA(opts.CertDir); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("avstest: listen: %w", err)
	}
	s.ln = ln
	s.url = "https://" + ln.Addr().String()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.h1ln = &chanListener{ch: make(chan net.Conn), addr: ln.Addr(), done: make(chan struct{})}
	s.h1 = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); _ = s.h1.Serve(s.h1ln) }()
	go func() { defer s.wg.Done(); s.accept() }()
	return s, nil
}

// URL is the base URL (https://127.0.0.1:port).
func (s *Server) URL() string { return s.url }

// CAFile is the path of ca.pem ("" without Options.CertDir).
func (s *Server) CAFile() string { return s.caFile }

// CAPEM returns the CA certificate in PEM.
func (s *Server) CAPEM() []byte { return s.auth.caPEM }

// ClientTLS returns a client TLS configuration that trusts the emulator's CA.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.auth.pool, MinVersion: tls.VersionTLS12}
}

// LWA returns the Login with Amazon emulator.
func (s *Server) LWA() *lwatest.Server { return s.lwa }

// Close stops the emulator and closes every connection.
func (s *Server) Close() {
	s.cancel()
	_ = s.ln.Close()
	_ = s.h1ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		if c.dc != nil {
			c.dc.close()
		}
		_ = c.nc.Close()
	}
	s.releaseLocked()
	s.mu.Unlock()
	_ = s.h1.Close()
	s.wg.Wait()
}

func (s *Server) accept() {
	cfg := &tls.Config{Certificates: []tls.Certificate{s.auth.cert}, NextProtos: []string{http2.NextProtoTLS, "http/1.1"},
		MinVersion: tls.VersionTLS12}
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(tls.Server(nc, cfg))
		}()
	}
}

func (s *Server) serveConn(tc *tls.Conn) {
	hctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	err := tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		s.log.Debug("TLS handshake failed", "err", err)
		_ = tc.Close()
		return
	}
	if tc.ConnectionState().NegotiatedProtocol != http2.NextProtoTLS {
		select { // HTTP/1.1 (LWA clients): served by the HTTP/1 server
		case s.h1ln.ch <- tc:
		case <-s.h1ln.done:
			_ = tc.Close()
		}
		return
	}
	// One http.Server per connection, so that its Shutdown is a GOAWAY on exactly
	// this connection (the GOAWAY fault). net/http serves HTTP/2 itself; serving
	// through x/net/http2's ServeConn instead, Go 1.27 answers from a hidden copy
	// of the server that Shutdown never reaches.
	// AVS allows 10 concurrent streams per connection.
	base := &http.Server{Handler: s.Handler(), HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 10}}
	s.mu.Lock()
	s.nconns++
	sc := &simConn{id: s.nconns, nc: tc, base: base, at: time.Now(), host: tc.ConnectionState().ServerName}
	s.conns[sc.id] = sc
	s.bumpLocked()
	if s.ctx.Err() != nil { // Close ran during the handshake
		_ = tc.Close()
	}
	s.mu.Unlock()
	ln := newOneConnListener(tc)
	base.BaseContext = func(net.Listener) context.Context { return context.WithValue(s.ctx, connKey{}, sc) }
	base.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed || st == http.StateHijacked {
			ln.ended()
		}
	}
	_ = base.Serve(ln) // returns once the connection has ended, or at Shutdown (GOAWAY)
	<-ln.connDone      // a connection kept open after GOAWAY is still served
	s.mu.Lock()
	delete(s.conns, sc.id)
	if sc.dc != nil {
		sc.dc.close()
	}
	if s.current == sc {
		s.current = nil
	}
	s.bumpLocked()
	s.mu.Unlock()
}

// chanListener hands HTTP/1.1 connections to an http.Server.
type chanListener struct {
	ch   chan net.Conn
	addr net.Addr
	done chan struct{}
	once sync.Once
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}
func (l *chanListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// bumpLocked wakes every waiter (WaitForState, WaitForEvent).
func (s *Server) bumpLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Handler serves the AVS paths and LWA (/auth/o2/…, and the authorize and
// consent pages under /ap/oa) on the TLS listener.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v20160207/directives", s.serveDirectives)
	mux.HandleFunc("/v20160207/events", s.serveEvents)
	mux.HandleFunc("/ping", s.servePing)
	mux.Handle("/auth/o2/", s.lwa.Handler())
	mux.Handle(lwatest.AuthorizePath, s.lwa.Handler())
	mux.Handle(lwatest.ConsentPath, s.lwa.Handler())
	return mux
}

// State returns the connection state.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stateLocked()
}

func (s *Server) stateLocked() State {
	st := State{Connections: s.nconns, Downchannels: s.dcs, LastPing: s.lastPing, Pings: s.pings, Events: s.nevents,
		Endpoints: len(s.endpoints), OpenEventStreams: s.open, MaxEventStreams: s.maxOpen, HeldStreams: s.held,
		Profile: s.opts.Profile, Violations: append([]string{}, s.violations...)}
	for _, f := range s.faults {
		st.PendingFaults += f.Count
	}
	if c := s.current; c != nil {
		st.Connected = c.dc != nil
		st.Connection = c.id
		st.Host = c.host
		st.ConnectedAt = c.at
		st.GatewayVerified = c.verified
		st.PostConnectDone = c.verified && c.synced
		st.PostConnectSequence = append([]string(nil), c.sequence...)
	}
	return st
}

// Endpoints returns the endpoints as Alexa now knows them, sorted by id.
func (s *Server) Endpoints() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.endpoints))
	for id := range s.endpoints {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]json.RawMessage, len(ids))
	for i, id := range ids {
		out[i] = s.endpoints[id]
	}
	return out
}

// Endpoint returns one endpoint by id.
func (s *Server) Endpoint(id string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.endpoints[id]
	return e, ok
}

// Events returns the events received (oldest first, at most MaxEvents).
func (s *Server) Events() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records...)
}

// WaitForState waits until cond holds for the state or ctx ends.
func (s *Server) WaitForState(ctx context.Context, cond func(State) bool) (State, error) {
	for {
		s.mu.Lock()
		st, ch := s.stateLocked(), s.changed
		s.mu.Unlock()
		if cond(st) {
			return st, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return st, fmt.Errorf("avstest: state condition not met: %w", ctx.Err())
		}
	}
}

// WaitForEvent waits for the first recorded event, at index from or later,
// matching cond, and returns it with its index.
func (s *Server) WaitForEvent(ctx context.Context, from int, cond func(Record) bool) (Record, int, error) {
	for {
		s.mu.Lock()
		recs, ch := s.records, s.changed
		s.mu.Unlock()
		for i := from; i < len(recs); i++ {
			if cond(recs[i]) {
				return recs[i], i, nil
			}
		}
		from = max(from, len(recs))
		select {
		case <-ch:
		case <-ctx.Done():
			return Record{}, -1, fmt.Errorf("avstest: no matching event: %w", ctx.Err())
		}
	}
}

// Named matches records by "namespace.name" and, optionally, HTTP status (0 = any).
func Named(name string, status int) func(Record) bool {
	return func(r Record) bool { return r.Name() == name && (status == 0 || r.Status == status) }
}

// record stores one event and appends it to the record file.
func (s *Server) record(r Record) {
	s.mu.Lock()
	s.records = append(s.records, r)
	if len(s.records) > s.opts.MaxEvents {
		s.records = s.records[len(s.records)-s.opts.MaxEvents:]
	}
	s.nevents++
	s.bumpLocked()
	s.mu.Unlock()
	if s.opts.Record == nil || r.Event == nil {
		return
	}
	line, err := json.Marshal(r)
	if err != nil {
		return
	}
	s.recordMu.Lock()
	_, err = s.opts.Record.Write(append(line, '\n'))
	s.recordMu.Unlock()
	if err != nil {
		s.log.Warn("record file", "err", err)
	}
}

func (s *Server) violation(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.log.Warn("protocol violation by the client", "violation", msg)
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	s.bumpLocked()
	s.mu.Unlock()
}

// errNoDownchannel is returned when a directive cannot be delivered.
var errNoDownchannel = errors.New("avstest: no downchannel open")

// oneConnListener hands http.Server exactly one, already accepted connection;
// Accept then blocks until the listener is closed (Shutdown) or the connection
// has ended.
type oneConnListener struct {
	conn      net.Conn
	accepted  atomic.Bool
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	connDone  chan struct{} // closed by ended
	endOnce   sync.Once
}

func newOneConnListener(c net.Conn) *oneConnListener {
	return &oneConnListener{conn: c, done: make(chan struct{}), connDone: make(chan struct{})}
}

// Accept returns the connection once, then waits until the listener is closed
// or the connection has ended.
func (l *oneConnListener) Accept() (net.Conn, error) {
	if !l.accepted.Swap(true) {
		return l.conn, nil
	}
	select {
	case <-l.done:
	case <-l.connDone:
	}
	return nil, net.ErrClosed
}

// Close ends Accept (http.Server.Shutdown calls it).
func (l *oneConnListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

// ended records that the connection has ended.
func (l *oneConnListener) ended() { l.endOnce.Do(func() { close(l.connDone) }) }

// Addr is the connection's local address.
func (l *oneConnListener) Addr() net.Addr { return l.conn.LocalAddr() }
