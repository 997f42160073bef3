package skill

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa"
	"github.com/avshub/avshub/gateway/lwa"
	"github.com/avshub/avshub/gateway/skill/sign"
)

// DirectiveHandler answers controller directives and ReportState (the router).
type DirectiveHandler interface {
	// HandleDirective hands the first answer to the Server's Send with the
	// context it was given, then returns.
	HandleDirective(ctx context.Context, d *alexa.Directive) error
}

// Discovery is what the Server needs of the discovery manager.
type Discovery interface {
	Snapshot(ctx context.Context) ([]json.RawMessage, error)
	Answered(ctx context.Context, endpoints []json.RawMessage) error
	Pending(ctx context.Context) ([]discovery.Report, error)
	Delivered(ctx context.Context, r discovery.Report) error
	Changed() <-chan struct{}
}

// Options configures a Server.
type Options struct {
	// Listen is the directive endpoint's address; Path its path.
	Listen, Path string
	// TLS serves HTTPS when set (the hub's own certificate).
	TLS *tls.Config
	// Secret is the HMAC secret shared with the Lambda (required).
	Secret []byte
	// LWA is the skill's Login with Amazon client (ClientID and ClientSecret
	// of the skill's Alexa Skill Messaging credentials); DataDir is where the
	// event gateway tokens and the linked user are kept (required).
	LWA lwa.Config
	// EventGateway is the event gateway URL (required; see EventGateway).
	EventGateway string
	// HTTPClient for the event gateway (default: 30 s timeout, system roots).
	HTTPClient *http.Client
	// UserID pins the Amazon user accepted ("" = the first one linked).
	UserID string
	// Directives answers controller directives (required).
	Directives DirectiveHandler
	// Discovery answers Discover and sends AddOrUpdateReport/DeleteReport (required).
	Discovery Discovery
	// AnswerWithin bounds the synchronous answer (default 7.5 s, under
	// Alexa's 8 s); a directive not answered by then gets ENDPOINT_UNREACHABLE.
	AnswerWithin time.Duration
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (tests).
	Now func() time.Time
}

// States of the skill road.
const (
	StateWaitingForGrant = "WAITING_FOR_ACCEPT_GRANT"
	StateLinked          = "LINKED"
	StateSkillDisabled   = "SKILL_DISABLED"
	StateNeedsRelink     = "NEEDS_RELINK"
	StateNeedsPermission = "NEEDS_PERMISSION"
)

// Transition is one change of state.
type Transition struct {
	At     time.Time
	State  string
	Reason string
}

// Status is the skill road's state for the status page.
type Status struct {
	State         string
	Since         time.Time
	User          string // the linked Amazon user (amzn1.account.…)
	EventGateway  string
	LastDirective time.Time
	LastEvent     time.Time
	Queued        int
	Directives    int64
	EventsSent    int64
	History       []Transition
}

// Server is the hub's Smart Home skill road: the directive endpoint, the
// event gateway client and the Login with Amazon tokens behind it.
type Server struct {
	opts  Options
	log   *slog.Logger
	auth  *lwa.Authorizer
	users *userCache
	seen  *replayGuard

	queued     atomic.Int64
	sent       atomic.Int64
	directives atomic.Int64
	grants     chan struct{}

	mu      sync.Mutex
	user    string // the linked user
	state   string
	since   time.Time
	reason  string
	history []Transition
	lastDir time.Time
	lastEv  time.Time
}

// userFile keeps the linked Amazon user id under Options.LWA.DataDir.
const userFile = "skill-user.json"

// New returns a Server; nothing listens until Run.
func New(opts Options) (*Server, error) {
	switch {
	case len(opts.Secret) < 32:
		return nil, errors.New("skill: the HMAC secret must be at least 32 bytes")
	case opts.EventGateway == "":
		return nil, errors.New("skill: no event gateway URL")
	case opts.Directives == nil || opts.Discovery == nil:
		return nil, errors.New("skill: Directives and Discovery are required")
	case opts.LWA.ClientSecret == "":
		return nil, errors.New("skill: the skill's client secret is required")
	}
	if opts.Path == "" {
		opts.Path = "/alexa/skill"
	}
	if opts.AnswerWithin <= 0 {
		opts.AnswerWithin = 7500 * time.Millisecond
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.LWA.Logger = opts.Logger
	a, err := lwa.NewAuthorizer(opts.LWA)
	if err != nil {
		return nil, err
	}
	lwaBase := opts.LWA.BaseURL
	if lwaBase == "" {
		lwaBase = lwa.DefaultBaseURL
	}
	lwaClient := opts.LWA.HTTPClient
	if lwaClient == nil {
		lwaClient = &http.Client{Timeout: 30 * time.Second}
	}
	s := &Server{
		opts:   opts,
		log:    slog.New(lwa.NewRedactingHandler(opts.Logger.Handler())),
		auth:   a,
		users:  newUserCache(lwaBase+"/user/profile", lwaClient, opts.Now),
		seen:   newReplayGuard(),
		grants: make(chan struct{}, 1),
	}
	s.user = opts.UserID
	if s.user == "" {
		s.user = s.loadUser()
	}
	s.state, s.since = s.initialState(), opts.Now()
	return s, nil
}

func (s *Server) initialState() string {
	switch err := s.auth.Ready(); {
	case err == nil:
		return StateLinked
	case errors.Is(err, lwa.ErrNeedsRelink):
		return StateNeedsRelink
	}
	return StateWaitingForGrant
}

// Authorizer returns the event gateway token source (status, doctor).
func (s *Server) Authorizer() *lwa.Authorizer { return s.auth }

// Run serves the directive endpoint, keeps the event gateway tokens fresh and
// sends discovery reports until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	l, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("skill endpoint on %s: %w (set skill.listen to another address)", s.opts.Listen, err)
	}
	return s.Serve(ctx, l)
}

// Serve is Run on an open listener.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	scheme := "http"
	if s.opts.TLS != nil {
		scheme = "https"
	}
	s.log.Info("Smart Home skill endpoint", "url", scheme+"://"+l.Addr().String()+s.opts.Path, "eventGateway", s.opts.EventGateway)
	srv := &http.Server{Handler: s.Handler(), TLSConfig: s.opts.TLS, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 20 * time.Second, WriteTimeout: 20 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	wg.Add(3)
	go func() {
		defer wg.Done()
		var err error
		if s.opts.TLS != nil {
			err = srv.ServeTLS(l, "", "")
		} else {
			err = srv.Serve(l)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			errc <- err
			cancel()
		}
	}()
	go func() { defer wg.Done(); _ = s.auth.Run(ctx) }()
	go func() { defer wg.Done(); s.reports(ctx) }()
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), 9*time.Second)
	_ = srv.Shutdown(sctx) // answers in flight finish (Alexa waits 8 s at most)
	scancel()
	wg.Wait()
	if lc := s.opts.LWA.HTTPClient; lc != nil {
		lc.CloseIdleConnections() // no socket of the hub outlives Serve
	}
	s.opts.HTTPClient.CloseIdleConnections()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// Handler serves POST Options.Path.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+s.opts.Path, s.serveDirective)
	return mux
}

// maxBody bounds a directive request.
const maxBody = alexa.MaxDirectiveSize

func (s *Server) serveDirective(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	if _, err := sign.Verify(s.opts.Secret, r.Header.Get(sign.Header), body, s.opts.Now()); err != nil {
		s.log.Warn("skill: refused a request without a valid signature (is skill.secret the Lambda's AVSHUB_SECRET?)", "err", err, "remote", r.RemoteAddr)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if !s.seen.first(r.Header.Get(sign.Header), s.opts.Now()) {
		s.log.Warn("skill: refused a replayed request", "remote", r.RemoteAddr)
		http.Error(w, "replayed request", http.StatusUnauthorized)
		return
	}
	d, err := alexa.ParseDirective(body)
	if err != nil {
		s.log.Warn("skill: malformed directive", "err", err)
		http.Error(w, "malformed directive", http.StatusBadRequest)
		return
	}
	s.directives.Add(1)
	s.mu.Lock()
	s.lastDir = s.opts.Now()
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.AnswerWithin)
	defer cancel()
	answer := s.answer(ctx, d)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(answer)
}

// answer returns the synchronous answer to d.
func (s *Server) answer(ctx context.Context, d *alexa.Directive) []byte {
	h := d.Header
	grant := h.Namespace == alexa.NamespaceAuthorization && h.Name == "AcceptGrant"
	if err := s.authenticate(ctx, d); err != nil {
		s.log.Warn("skill: refused a directive", "directive", h.Namespace+"."+h.Name, "err", err)
		if grant {
			return must(alexa.NewAcceptGrantError(d, err.Error()))
		}
		return s.errorAnswer(d, "INVALID_AUTHORIZATION_CREDENTIAL", err.Error())
	}
	switch {
	case grant:
		return s.acceptGrant(ctx, d)
	case h.Namespace == alexa.NamespaceDiscovery && h.Name == "Discover":
		return s.discover(ctx, d)
	}
	return s.route(ctx, d)
}

// authenticate checks the directive's bearer token belongs to the linked
// Amazon user (linking the first one when none is pinned).
func (s *Server) authenticate(ctx context.Context, d *alexa.Directive) error {
	tok := alexa.BearerToken(d)
	if tok == "" {
		return errors.New("the directive carries no bearer token")
	}
	user, err := s.users.lookup(ctx, tok)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.user == "":
		if err := s.saveUser(user); err != nil {
			s.log.Error("skill: cannot record the linked Amazon user", "err", err)
		}
		s.user = user
		s.log.Info("skill: linked to the Amazon user of this directive", "user", user)
		return nil
	case s.user != user:
		return fmt.Errorf("the token belongs to another Amazon user (%s); this hub is linked to %s", user, s.user)
	}
	return nil
}

func (s *Server) acceptGrant(ctx context.Context, d *alexa.Directive) []byte {
	code, err := alexa.GrantCode(d)
	if err != nil {
		return must(alexa.NewAcceptGrantError(d, err.Error()))
	}
	if err := lwa.ExchangeGrantCode(ctx, s.opts.LWA, code); err != nil {
		s.log.Error("skill: AcceptGrant: the authorization code could not be exchanged", "err", err)
		return must(alexa.NewAcceptGrantError(d, "Login with Amazon refused the grant: "+lwa.Redact(err.Error())))
	}
	if err := s.auth.Reload(); err != nil {
		s.log.Error("skill: AcceptGrant: cannot read the stored tokens", "err", err)
	}
	s.setState(StateLinked, "AcceptGrant")
	s.log.Info("skill: AcceptGrant: event gateway tokens stored; ChangeReports and deferred answers go to Alexa now")
	select {
	case s.grants <- struct{}{}:
	default:
	}
	return must(alexa.NewAcceptGrantResponse(d))
}

func (s *Server) discover(ctx context.Context, d *alexa.Directive) []byte {
	eps, err := s.opts.Discovery.Snapshot(ctx)
	if err != nil {
		s.log.Error("skill: Discover: cannot list endpoints", "err", err)
		return s.errorAnswer(d, "INTERNAL_ERROR", "the hub cannot list its endpoints")
	}
	b, err := alexa.NewDiscoverResponse(d, eps)
	if err != nil {
		return s.errorAnswer(d, "INTERNAL_ERROR", err.Error())
	}
	// Record it before answering: a report racing this answer is diffed
	// against what Alexa is about to know.
	if err := s.opts.Discovery.Answered(context.WithoutCancel(ctx), eps); err != nil {
		s.log.Warn("skill: Discover: cannot record the answer; changes may be reported twice", "err", err)
	}
	s.log.Info("skill: Discover answered", "endpoints", len(eps))
	return b
}

// replyKey marks the context of a directive whose answer goes back in the
// HTTP response.
type replyKey struct{}

// replySlot takes the first answer sent with its context.
type replySlot struct {
	ch     chan []byte
	mu     sync.Mutex
	closed bool
}

// offer hands ev to the waiting request; false when the request already
// answered (a late answer).
func (r *replySlot) offer(ev []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.closed = true
	r.ch <- ev
	return true
}

func (r *replySlot) close() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	was := r.closed
	r.closed = true
	return !was
}

// route hands a controller directive or ReportState to the router and returns
// its first answer (a DeferredResponse's final answer goes to the event gateway).
func (s *Server) route(ctx context.Context, d *alexa.Directive) []byte {
	slot := &replySlot{ch: make(chan []byte, 1)}
	rctx := context.WithValue(ctx, replyKey{}, slot)
	done := make(chan error, 1)
	go func() { done <- s.opts.Directives.HandleDirective(rctx, d) }()
	select {
	case ev := <-slot.ch:
		return ev
	case err := <-done:
		select {
		case ev := <-slot.ch:
			return ev
		default:
		}
		slot.close()
		if err == nil {
			err = errors.New("no answer")
		}
		s.log.Warn("skill: directive not answered by the router", "directive", d.Header.Namespace+"."+d.Header.Name, "err", err)
		return s.errorAnswer(d, "INVALID_DIRECTIVE", "the hub does not handle "+d.Header.Namespace+"."+d.Header.Name)
	case <-ctx.Done():
		if !slot.close() {
			return <-slot.ch
		}
		s.log.Warn("skill: no answer within Alexa's time; answering ENDPOINT_UNREACHABLE", "directive", d.Header.Namespace+"."+d.Header.Name,
			"endpoint", d.EndpointID())
		return s.errorAnswer(d, "ENDPOINT_UNREACHABLE", "the device did not answer in time")
	}
}

// errorAnswer builds an Alexa.ErrorResponse of errType.
func (s *Server) errorAnswer(d *alexa.Directive, errType, msg string) []byte {
	kind := model.ErrorKind(errType)
	switch errType {
	case "ENDPOINT_UNREACHABLE":
		kind = model.ErrUnreachable
	case "INVALID_DIRECTIVE":
		kind = model.ErrNotSupported
	}
	b, err := alexa.NewErrorResponse(d, d.EndpointID(), &model.Error{Kind: kind, Message: msg}, "")
	if err != nil {
		return []byte(`{"event":{"header":{"namespace":"Alexa","name":"ErrorResponse","payloadVersion":"3","messageId":"` +
			fmt.Sprintf("%x", sha256.Sum256([]byte(msg)))[:32] + `"},"payload":{"type":"INTERNAL_ERROR","message":"internal error"}}}`)
	}
	if errType == "INVALID_AUTHORIZATION_CREDENTIAL" {
		return rewriteErrorType(b, errType)
	}
	return b
}

// rewriteErrorType sets payload.type of an ErrorResponse built for another kind
// (alexa has no discovery kind for INVALID_AUTHORIZATION_CREDENTIAL).
func rewriteErrorType(b []byte, errType string) []byte {
	var ev map[string]map[string]json.RawMessage
	if json.Unmarshal(b, &ev) != nil {
		return b
	}
	var p map[string]any
	if json.Unmarshal(ev["event"]["payload"], &p) != nil {
		return b
	}
	p["type"] = errType
	ev["event"]["payload"], _ = json.Marshal(p)
	out, err := json.Marshal(ev)
	if err != nil {
		return b
	}
	return out
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err) // the builders fail only on values this package controls
	}
	return b
}

// Send implements router.EventSender: the first answer to a directive goes
// back in its HTTP response; everything else (ChangeReports, the final answer
// after a DeferredResponse, discovery reports) to the event gateway.
func (s *Server) Send(ctx context.Context, ev []byte) error {
	if slot, ok := ctx.Value(replyKey{}).(*replySlot); ok {
		if !slot.offer(ev) {
			s.log.Warn("skill: an answer came after Alexa's deadline; dropped (Alexa was told ENDPOINT_UNREACHABLE)")
		}
		return nil
	}
	return s.send(ctx, ev)
}

// reports sends AddOrUpdateReport/DeleteReport whenever the endpoints change.
func (s *Server) reports(ctx context.Context) {
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.opts.Discovery.Changed():
		case <-s.grants:
		case <-retry.C:
		}
		if s.sendReports(ctx) {
			failures = 0
			continue
		}
		failures++
		retry.Reset(retryPolicy.Delay(failures))
	}
}

// sendReports sends what Alexa has not been told; false when it must retry.
func (s *Server) sendReports(ctx context.Context) bool {
	if s.auth.Ready() != nil || s.disabled() {
		return true // nothing to do until AcceptGrant
	}
	rs, err := s.opts.Discovery.Pending(ctx)
	if err != nil {
		s.log.Warn("skill: cannot compute discovery reports", "err", err)
		return false
	}
	for _, r := range rs {
		ev, err := alexa.NewDiscoveryReport(r.Name, r.Endpoints)
		if err != nil {
			s.log.Error("skill: cannot build a discovery report", "err", err)
			continue
		}
		if err := s.send(ctx, ev); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("skill: discovery report not delivered", "report", r.Name, "err", err)
			}
			return errors.Is(err, ErrSkillDisabled) || errors.Is(err, ErrNotLinked)
		}
		if err := s.opts.Discovery.Delivered(ctx, r); err != nil {
			s.log.Warn("skill: cannot record a delivered discovery report", "err", err)
			return false
		}
		s.log.Info("skill: discovery report delivered", "report", r.Name, "endpoints", len(r.Endpoints))
	}
	return true
}

func (s *Server) disabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == StateSkillDisabled
}

func (s *Server) setDisabled(why string) {
	s.mu.Lock()
	was := s.state == StateSkillDisabled
	s.mu.Unlock()
	if !was {
		s.log.Error("Alexa says the skill was disabled (SKILL_DISABLED_EXCEPTION): the hub stops sending events; enable the skill and link the account again in the Alexa app", "detail", why)
	}
	s.setState(StateSkillDisabled, "SKILL_DISABLED_EXCEPTION")
}

func (s *Server) setState(st, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == st {
		return
	}
	now := s.opts.Now()
	s.state, s.since, s.reason = st, now, reason
	s.history = append(s.history, Transition{At: now, State: st, Reason: reason})
	if len(s.history) > 50 {
		s.history = s.history[len(s.history)-50:]
	}
}

func (s *Server) noteSent() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastEv = s.opts.Now()
}

// Status returns the skill road's state.
func (s *Server) Status() Status {
	st := s.auth.Status()
	s.mu.Lock()
	defer s.mu.Unlock()
	state := s.state
	if st.NeedsRelink && state != StateSkillDisabled {
		state = StateNeedsRelink
	}
	return Status{State: state, Since: s.since, User: s.user, EventGateway: s.opts.EventGateway, LastDirective: s.lastDir,
		LastEvent: s.lastEv, Queued: int(s.queued.Load()), Directives: s.directives.Load(), EventsSent: s.sent.Load(),
		History: append([]Transition(nil), s.history...)}
}

func (s *Server) userPath() string { return filepath.Join(s.opts.LWA.DataDir, "lwa", userFile) }

func (s *Server) loadUser() string {
	b, err := os.ReadFile(s.userPath())
	if err != nil {
		return ""
	}
	var v struct {
		UserID string `json:"user_id"`
	}
	if json.Unmarshal(b, &v) != nil {
		s.log.Warn("skill: the linked user file is unreadable; the next directive's user is linked", "file", s.userPath())
		return ""
	}
	return v.UserID
}

func (s *Server) saveUser(user string) error {
	dir := filepath.Dir(s.userPath())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(struct {
		UserID   string    `json:"user_id"`
		LinkedAt time.Time `json:"linked_at"`
	}{user, s.opts.Now()})
	tmp, err := os.CreateTemp(dir, ".user-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), s.userPath())
}
