package skilltest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/avshub/avshub/gateway/alexa/schema"
	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

// Options configure the emulator.
type Options struct {
	// ClientID and ClientSecret are the skill's Alexa Skill Messaging
	// credentials: LWA exchanges grant codes only for them.
	ClientID, ClientSecret string
	// CertDir, when set, receives ca.pem (the certificate of the TLS listener).
	CertDir string
	// Record receives every record as one JSON line.
	Record io.Writer
	// Validate checks events (default schema.Validate; events the schema does
	// not cover pass).
	Validate func(event []byte) error
	// AnswerWithin is how long Alexa waits for a skill's answer (default 8 s).
	AnswerWithin time.Duration
	// MaxRecords bounds the records kept in memory (default 10000).
	MaxRecords int
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Record is one message the emulator received: a synchronous answer through
// the Lambda, or an event on the gateway.
type Record struct {
	ReceivedAt time.Time       `json:"receivedAt"`
	Via        string          `json:"via"` // "lambda" or "gateway"
	Status     int             `json:"status"`
	Error      string          `json:"error,omitempty"`
	Event      json.RawMessage `json:"event"`
}

// Name returns the event's "namespace.name".
func (r Record) Name() string {
	h := header(r.Event)
	return h.Namespace + "." + h.Name
}

// State is what the emulator knows.
type State struct {
	Linked        bool     `json:"linked"`        // AcceptGrant answered with AcceptGrant.Response
	Discovered    bool     `json:"discovered"`    // a Discover was answered
	SkillDisabled bool     `json:"skillDisabled"` // fault: the gateway answers SKILL_DISABLED_EXCEPTION
	LambdaReady   bool     `json:"lambdaReady"`   // a forwarder is polling the Runtime API
	Invocations   int      `json:"invocations"`
	Events        int      `json:"events"` // gateway requests
	Endpoints     int      `json:"endpoints"`
	PendingFaults int      `json:"pendingFaults"`
	User          string   `json:"user"`
	Violations    []string `json:"violations"`
}

// Server is the emulator.
type Server struct {
	opts   Options
	log    *slog.Logger
	lwa    *lwatest.Server
	tls    *http.Server
	tlsURL string
	caPEM  []byte
	caFile string
	rt     *runtimeAPI

	mu         sync.Mutex
	changed    chan struct{}
	records    []Record
	events     int
	endpoints  map[string]json.RawMessage
	order      []string
	linked     bool
	discovered bool
	disabled   bool
	faults     []int // statuses for the next gateway requests
	linkTok    string
	linkToks   map[string]bool // every account-linking token minted
	deferred   map[string]bool // correlation tokens answered DeferredResponse, not yet completed
	waiters    map[string]chan json.RawMessage
	violations []string
	recordMu   sync.Mutex
}

// New starts the emulator's TLS listener (LWA and the event gateway) and the
// Lambda Runtime API on loopback.
func New(opts Options) (*Server, error) {
	if opts.ClientID == "" || opts.ClientSecret == "" {
		return nil, errors.New("skilltest: the skill's ClientID and ClientSecret are required")
	}
	if opts.Validate == nil {
		opts.Validate = schema.Validate
	}
	if opts.AnswerWithin <= 0 {
		opts.AnswerWithin = 8 * time.Second
	}
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = 10000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, log: opts.Logger, changed: make(chan struct{}),
		lwa:       lwatest.New(lwatest.Options{ClientSecret: opts.ClientSecret, KeepRefreshTokens: false}),
		endpoints: map[string]json.RawMessage{}, linkToks: map[string]bool{}, deferred: map[string]bool{},
		waiters: map[string]chan json.RawMessage{}}
	cert, caPEM, err := selfSigned()
	if err != nil {
		return nil, err
	}
	s.caPEM = caPEM
	if opts.CertDir != "" {
		if err := os.MkdirAll(opts.CertDir, 0o700); err != nil {
			return nil, fmt.Errorf("skilltest: cert dir: %w", err)
		}
		s.caFile = filepath.Join(opts.CertDir, "ca.pem")
		if err := os.WriteFile(s.caFile, caPEM, 0o644); err != nil {
			return nil, fmt.Errorf("skilltest: write CA: %w", err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	lh := s.lwa.Handler()
	mux.Handle(lwatest.TokenPath, lh)
	mux.Handle(lwatest.ProfilePath, lh)
	mux.HandleFunc("/v3/events", s.serveEvent)
	s.tls = &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.tlsURL = "https://" + l.Addr().String()
	go func() { _ = s.tls.ServeTLS(l, "", "") }()
	s.rt, err = newRuntimeAPI(s.log)
	if err != nil {
		s.tls.Close()
		return nil, err
	}
	return s, nil
}

// selfSigned makes a self-signed P-256 certificate for 127.0.0.1 and localhost.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	sn, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: sn, Subject: pkix.Name{CommonName: "skill-sim"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(2 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("skilltest: certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// URL is the TLS listener's base URL: LWA (lwa.url) and, with EventsPath, the
// event gateway (skill.eventGatewayUrl).
func (s *Server) URL() string { return s.tlsURL }

// EventGatewayURL is the event gateway's URL.
func (s *Server) EventGatewayURL() string { return s.tlsURL + "/v3/events" }

// CAFile is ca.pem in Options.CertDir ("" without one).
func (s *Server) CAFile() string { return s.caFile }

// CAPEM is the TLS listener's certificate.
func (s *Server) CAPEM() []byte { return s.caPEM }

// LWA is the Login with Amazon emulator.
func (s *Server) LWA() *lwatest.Server { return s.lwa }

// RuntimeAPI is the Lambda Runtime API's host:port (AWS_LAMBDA_RUNTIME_API).
func (s *Server) RuntimeAPI() string { return s.rt.addr }

// Close stops the listeners (the caller stops the forwarder processes it started).
func (s *Server) Close() {
	s.tls.Close()
	s.rt.close()
}

func (s *Server) bumpLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// State returns what the emulator knows.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return State{Linked: s.linked, Discovered: s.discovered, SkillDisabled: s.disabled, LambdaReady: s.rt.polling() > 0,
		Invocations: s.rt.count(), Events: s.events, Endpoints: len(s.endpoints), PendingFaults: len(s.faults),
		User: lwatest.DefaultUserID, Violations: append([]string{}, s.violations...)}
}

// Endpoints returns the endpoints Alexa knows, in the order they were first told.
func (s *Server) Endpoints() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]json.RawMessage, 0, len(s.order))
	for _, id := range s.order {
		if e, ok := s.endpoints[id]; ok {
			out = append(out, e)
		}
	}
	return out
}

// Endpoint returns one endpoint Alexa knows.
func (s *Server) Endpoint(id string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.endpoints[id]
	return e, ok
}

// Records returns every record so far.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.records...)
}

// WaitFor waits until cond holds for a record from index from on, and returns it.
func (s *Server) WaitFor(ctx context.Context, from int, cond func(Record) bool) (Record, int, error) {
	for {
		s.mu.Lock()
		for i := from; i < len(s.records); i++ {
			if cond(s.records[i]) {
				r := s.records[i]
				s.mu.Unlock()
				return r, i, nil
			}
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Record{}, -1, fmt.Errorf("skilltest: no matching record: %w", ctx.Err())
		}
	}
}

// WaitForState waits until cond holds.
func (s *Server) WaitForState(ctx context.Context, cond func(State) bool) (State, error) {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if st := s.State(); cond(st) {
			return st, nil
		}
		select {
		case <-ch:
		case <-time.After(100 * time.Millisecond): // the Lambda's polling has no feed of its own
		case <-ctx.Done():
			return s.State(), fmt.Errorf("skilltest: state not reached: %w", ctx.Err())
		}
	}
}

func (s *Server) record(r Record) {
	s.mu.Lock()
	s.records = append(s.records, r)
	if len(s.records) > s.opts.MaxRecords {
		s.records = s.records[len(s.records)-s.opts.MaxRecords:]
	}
	s.bumpLocked()
	s.mu.Unlock()
	if s.opts.Record == nil {
		return
	}
	line, err := json.Marshal(r)
	if err != nil {
		return
	}
	s.recordMu.Lock()
	_, _ = s.opts.Record.Write(append(line, '\n'))
	s.recordMu.Unlock()
}

func (s *Server) violation(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.log.Warn("skill-sim: protocol violation by the skill", "violation", msg)
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	s.bumpLocked()
	s.mu.Unlock()
}

// hdr is an event or directive header.
type hdr struct {
	Namespace        string `json:"namespace"`
	Name             string `json:"name"`
	Instance         string `json:"instance,omitempty"`
	MessageID        string `json:"messageId"`
	CorrelationToken string `json:"correlationToken,omitempty"`
	PayloadVersion   string `json:"payloadVersion"`
}

func header(event []byte) hdr {
	var e struct {
		Event struct {
			Header hdr `json:"header"`
		} `json:"event"`
	}
	_ = json.Unmarshal(event, &e)
	return e.Event.Header
}

func compact(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return json.RawMessage(b)
	}
	return buf.Bytes()
}
