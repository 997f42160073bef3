package avstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/avshub/avshub/gateway/alexa/schema"
	"github.com/avshub/avshub/internal/hoptrace"
)

// MaxEventSize is AVS's payload limit for one event (256 KB).
const MaxEventSize = 256 << 10

type hdr struct {
	Namespace             string `json:"namespace"`
	Name                  string `json:"name"`
	Instance              string `json:"instance,omitempty"`
	MessageID             string `json:"messageId"`
	CorrelationToken      string `json:"correlationToken,omitempty"`
	EventCorrelationToken string `json:"eventCorrelationToken,omitempty"`
	PayloadVersion        string `json:"payloadVersion,omitempty"`
}

// header returns an event's header (zero when absent).
func header(event []byte) hdr {
	var env struct {
		Event struct {
			Header hdr `json:"header"`
		} `json:"event"`
	}
	_ = json.Unmarshal(event, &env)
	return env.Event.Header
}

// writeException writes a System.Exception JSON body (not multipart) with status.
func writeException(w http.ResponseWriter, status int, description string) {
	body := map[string]any{
		"header": map[string]string{"namespace": "System", "name": "Exception", "messageId": uuid.NewString()},
		"payload": map[string]any{
			"code":        exceptionCodes[status],
			"description": description,
		},
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func connOf(r *http.Request) *simConn {
	c, _ := r.Context().Value(connKey{}).(*simConn)
	return c
}

// authorized checks the bearer token against the LWA emulator.
func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.lwa.ValidAccessToken(tok)
}

// boundary returns a boundary in AVS's style.
func boundary() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("------%x", b)
}

// relatedContentType is AVS's multipart/related header, with the unquoted type=.
func relatedContentType(b string) string {
	return "multipart/related; boundary=" + b + "; type=application/json"
}

// jsonPart is one JSON part (without the leading boundary line).
func jsonPart(body []byte) []byte {
	var b bytes.Buffer
	b.WriteString("Content-Type: application/json; charset=UTF-8\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

func (s *Server) serveDirectives(w http.ResponseWriter, r *http.Request) {
	sc := connOf(r)
	if r.Method != http.MethodGet || sc == nil {
		writeException(w, http.StatusBadRequest, "The downchannel is GET /v20160207/directives over HTTP/2.")
		return
	}
	if !s.admit(w, r, TargetDirectives) {
		return
	}
	dc := newDownchannel()
	s.mu.Lock()
	if sc.dc != nil {
		sc.dc.close()
	}
	sc.dc = dc
	if sc.host == "" || r.Host != "" {
		sc.host = r.Host
	}
	s.current = sc
	s.dcs++
	s.bumpLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if sc.dc == dc {
			sc.dc = nil
		}
		s.bumpLocked()
		s.mu.Unlock()
	}()
	b := boundary()
	w.Header().Set("Content-Type", relatedContentType(b))
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	defer dc.shut()
	first := true
	for {
		select {
		case <-dc.wake:
		case <-dc.end:
			return
		case <-r.Context().Done():
			return
		}
		q := dc.take()
		for i, p := range q {
			var buf bytes.Buffer
			if first {
				buf.WriteString("--" + b + "\r\n")
				first = false
			}
			buf.Write(p.data)
			buf.WriteString("\r\n--" + b + "\r\n") // AVS ends each part with the next delimiter at once
			_, err := w.Write(buf.Bytes())
			if err == nil {
				err = rc.Flush()
			}
			if err != nil {
				for _, p := range q[i:] {
					p.sent <- errNoDownchannel
				}
				return
			}
			p.sent <- nil
		}
	}
}

// admit answers a request to target that an armed fault or a missing or
// invalid token stops (403), and tells whether the handler goes on.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, target string) bool {
	if f, ok := s.takeFault(target); ok {
		if f.Kind == FaultStall {
			s.hold(r)
			return false
		}
		writeFaultStatus(w, f.Status)
		return false
	}
	if !s.authorized(r) {
		writeException(w, http.StatusForbidden, exceptionText[http.StatusForbidden])
		return false
	}
	return true
}

func (s *Server) servePing(w http.ResponseWriter, r *http.Request) {
	if !s.admit(w, r, TargetPing) {
		return
	}
	s.mu.Lock()
	s.lastPing = time.Now()
	s.pings++
	s.bumpLocked()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// reply is the emulator's answer to one event.
type reply struct {
	status int
	desc   string   // System.Exception description for 4xx
	parts  [][]byte // directives for a 200
	after  func()   // runs after the answer is written
}

func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	sc := connOf(r)
	s.mu.Lock()
	s.open++
	s.maxOpen = max(s.maxOpen, s.open)
	s.bumpLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.open--
		s.bumpLocked()
		s.mu.Unlock()
	}()
	if r.Method != http.MethodPost || sc == nil {
		writeException(w, http.StatusBadRequest, "Events are POST /v20160207/events over HTTP/2.")
		return
	}
	fault, faulted := s.takeFault(TargetEvents)
	if faulted && fault.Kind == FaultStall && fault.Phase == "headers" {
		s.hold(r)
		return
	}
	event, perr := readEvent(r)
	if hoptrace.On() && event != nil {
		hoptrace.At(header(event).CorrelationToken, "emu-event")
	}
	rep := reply{}
	switch {
	case perr != nil:
		rep = reply{status: perr.status, desc: perr.msg}
	case faulted && fault.Kind == FaultStatus:
		rep = reply{status: fault.Status, desc: exceptionText[fault.Status]}
	case !s.authorized(r):
		rep = reply{status: http.StatusForbidden, desc: exceptionText[http.StatusForbidden]}
	default:
		rep = s.process(r, sc, event)
	}
	if event != nil {
		s.record(Record{ReceivedAt: time.Now().UTC(), Status: rep.status, Event: event, Conn: sc.id, Error: rep.desc})
	}
	if faulted && fault.Kind == FaultStall && fault.Phase == "body" {
		b := boundary()
		w.Header().Set("Content-Type", relatedContentType(b))
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
		s.hold(r)
		_, _ = io.WriteString(w, "--"+b+"--\r\n")
		return
	}
	switch {
	case rep.status == http.StatusOK:
		b := boundary()
		w.Header().Set("Content-Type", relatedContentType(b))
		w.WriteHeader(http.StatusOK)
		var buf bytes.Buffer
		for _, p := range rep.parts {
			buf.WriteString("--" + b + "\r\n")
			buf.Write(jsonPart(p))
			buf.WriteString("\r\n")
		}
		buf.WriteString("--" + b + "--\r\n")
		_, _ = w.Write(buf.Bytes())
	case rep.status == http.StatusServiceUnavailable:
		w.WriteHeader(rep.status)
	case rep.status >= 400:
		writeException(w, rep.status, rep.desc)
	default:
		w.WriteHeader(rep.status)
	}
	if rep.after != nil {
		_ = http.NewResponseController(w).Flush()
		rep.after()
	}
}

type parseError struct {
	status int
	msg    string
}

// readEvent reads the multipart/form-data body and returns the metadata part.
func readEvent(r *http.Request) (json.RawMessage, *parseError) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, &parseError{http.StatusUnsupportedMediaType, "The Content-Type must be multipart/form-data with a boundary."}
	}
	mr := multipart.NewReader(http.MaxBytesReader(nil, r.Body, 4<<20), params["boundary"])
	var meta []byte
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &parseError{http.StatusBadRequest, "The multipart body is malformed: " + err.Error()}
		}
		if p.FormName() != "metadata" {
			_, _ = io.Copy(io.Discard, p)
			continue
		}
		if pm, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pm != "application/json" {
			return nil, &parseError{http.StatusBadRequest, "The metadata part must be application/json."}
		}
		meta, err = io.ReadAll(io.LimitReader(p, MaxEventSize+1))
		if err != nil {
			return nil, &parseError{http.StatusBadRequest, "The metadata part could not be read: " + err.Error()}
		}
		if len(meta) > MaxEventSize {
			return nil, &parseError{http.StatusBadRequest, fmt.Sprintf("The event is larger than the %d-byte limit.", MaxEventSize)}
		}
	}
	if meta == nil {
		return nil, &parseError{http.StatusBadRequest, "The request has no metadata part."}
	}
	if !json.Valid(meta) {
		return nil, &parseError{http.StatusBadRequest, "The metadata part is not valid JSON."}
	}
	return json.RawMessage(meta), nil
}

// postConnectEvents may go out before System.SynchronizeState on a connection.
var postConnectEvents = map[string]bool{
	"Alexa.ApiGateway.VerifyGateway": true, "Alexa.Discovery.AddOrUpdateReport": true,
	"Alexa.Discovery.DeleteReport": true, "System.SynchronizeState": true,
}

// process answers one authorised, well-formed event.
func (s *Server) process(r *http.Request, sc *simConn, event json.RawMessage) reply {
	h := header(event)
	if h.Namespace == "" || h.Name == "" || h.MessageID == "" {
		return reply{status: http.StatusBadRequest, desc: "event.header needs namespace, name and messageId."}
	}
	name := h.Namespace + "." + h.Name
	s.mu.Lock()
	sc.sequence = append(sc.sequence, name)
	verified, synced := sc.verified, sc.synced
	s.mu.Unlock()
	if name != "Alexa.ApiGateway.VerifyGateway" && !verified {
		s.violation("connection %d: %s before Alexa.ApiGateway.VerifyGateway", sc.id, name)
	}
	if !postConnectEvents[name] && !synced {
		s.violation("connection %d: %s before System.SynchronizeState", sc.id, name)
	}
	switch {
	case name == "Alexa.ApiGateway.VerifyGateway":
		if g := s.opts.SetGateway; g != "" && !sameHost(g, r.Host) {
			d := directive(hdr{Namespace: "Alexa.ApiGateway", Name: "SetGateway", MessageID: uuid.NewString()}, nil,
				map[string]string{"gateway": g})
			return reply{status: http.StatusOK, parts: [][]byte{d}}
		}
		s.mu.Lock()
		sc.verified = true
		s.bumpLocked()
		s.mu.Unlock()
		return reply{status: http.StatusNoContent}
	case name == "System.SynchronizeState":
		s.mu.Lock()
		sc.synced = true
		s.bumpLocked()
		s.mu.Unlock()
		return reply{status: http.StatusNoContent}
	case h.Namespace == "Alexa.Discovery":
		return s.discovery(sc, h, event)
	case h.Namespace == "System":
		switch h.Name {
		case "ExceptionEncountered", "UserInactivityReport", "SoftwareInfo":
			return reply{status: http.StatusNoContent}
		}
		return reply{status: http.StatusBadRequest, desc: "Unknown System event " + h.Name + "."}
	case h.Namespace == "Alexa" || strings.HasPrefix(h.Namespace, "Alexa."):
		if err := s.validate(event); err != nil {
			return reply{status: http.StatusBadRequest, desc: err.Error()}
		}
		if err := s.checkProfileEvent(event); err != nil {
			return reply{status: http.StatusBadRequest, desc: err.Error()}
		}
		if h.CorrelationToken != "" {
			s.mu.Lock()
			ch := s.waiters[h.CorrelationToken]
			s.mu.Unlock()
			if ch != nil {
				select {
				case ch <- event:
				default:
				}
			}
		}
		return reply{status: http.StatusNoContent}
	}
	return reply{status: http.StatusBadRequest, desc: "Unknown event namespace " + h.Namespace + "."}
}

// validate runs Options.Validate; events the schema does not cover pass.
func (s *Server) validate(event []byte) error {
	err := s.opts.Validate(event)
	if err == nil || errors.Is(err, schema.ErrNotCovered) {
		return nil
	}
	return err
}

func sameHost(gateway, host string) bool {
	g := strings.TrimPrefix(strings.TrimSuffix(gateway, "/"), "https://")
	return strings.EqualFold(g, host)
}

// directive builds {"directive":{"header","endpoint","payload"}}.
func directive(h hdr, endpoint any, payload any) []byte {
	d := map[string]any{"header": h, "payload": payload}
	if payload == nil {
		d["payload"] = struct{}{}
	}
	if endpoint != nil {
		d["endpoint"] = endpoint
	}
	b, _ := json.Marshal(map[string]any{"directive": d})
	return b
}

// push sends one part on the current downchannel and waits until it was
// written (nil) or the downchannel ended first (errNoDownchannel: the part was
// not delivered and may be sent again).
func (s *Server) push(ctx context.Context, part []byte) error {
	s.mu.Lock()
	c := s.current
	var dc *downchannel
	if c != nil {
		dc = c.dc
	}
	s.mu.Unlock()
	if dc == nil {
		return errNoDownchannel
	}
	sent, err := dc.offer(jsonPart(part))
	if err != nil {
		return err
	}
	select {
	case err := <-sent:
		return err
	case <-ctx.Done():
		return fmt.Errorf("avstest: downchannel not written: %w", ctx.Err())
	}
}

// SendRaw sends part as one application/json part on the downchannel, as is
// (for tests of what a client does with bad directives).
func (s *Server) SendRaw(part []byte) error { return s.push(s.ctx, part) }

// DirectiveRequest is a directive to send (POST /sim/directive).
type DirectiveRequest struct {
	Namespace  string          `json:"namespace"`
	Name       string          `json:"name"`
	EndpointID string          `json:"endpointId,omitempty"`
	Instance   string          `json:"instance,omitempty"`
	Payload    json.RawMessage `json:"payload,omitempty"`
}

// DirectiveResult is the directive sent and the events answering it.
type DirectiveResult struct {
	Directive json.RawMessage   `json:"directive"`
	Events    []json.RawMessage `json:"events"`
	// Complete is true once a final answer (anything but DeferredResponse) arrived.
	Complete bool `json:"complete"`
}

// SendDirective sends a directive on the downchannel, filling messageId,
// correlationToken, payloadVersion "3" and the endpoint's cookie. With wait it
// collects the events carrying that correlationToken until a final one (a
// DeferredResponse is followed by the real answer) or ctx ends.
func (s *Server) SendDirective(ctx context.Context, req DirectiveRequest, wait bool) (DirectiveResult, error) {
	if req.Namespace == "" || req.Name == "" {
		return DirectiveResult{}, errors.New("avstest: a directive needs a namespace and a name")
	}
	payload := req.Payload
	if len(bytes.TrimSpace(payload)) == 0 {
		payload = json.RawMessage("{}")
	}
	if !json.Valid(payload) {
		return DirectiveResult{}, errors.New("avstest: payload is not valid JSON")
	}
	h := hdr{Namespace: req.Namespace, Name: req.Name, Instance: req.Instance, MessageID: uuid.NewString(),
		CorrelationToken: correlationToken(), PayloadVersion: "3"}
	var endpoint any
	if req.EndpointID != "" {
		ep := map[string]any{"endpointId": req.EndpointID}
		if raw, ok := s.Endpoint(req.EndpointID); ok {
			var e struct {
				Cookie map[string]any `json:"cookie"`
			}
			if json.Unmarshal(raw, &e) == nil && len(e.Cookie) > 0 {
				ep["cookie"] = e.Cookie
			}
		}
		endpoint = ep
	}
	d := directive(h, endpoint, payload)
	res := DirectiveResult{Directive: d, Events: []json.RawMessage{}}
	var ch chan json.RawMessage
	if wait {
		ch = make(chan json.RawMessage, 16)
		s.mu.Lock()
		s.waiters[h.CorrelationToken] = ch
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.waiters, h.CorrelationToken)
			s.mu.Unlock()
		}()
	}
	if err := s.push(ctx, d); err != nil {
		return res, err
	}
	if !wait {
		return res, nil
	}
	for {
		select {
		case ev := <-ch:
			res.Events = append(res.Events, ev)
			if header(ev).Name != "DeferredResponse" {
				res.Complete = true
				return res, nil
			}
		case <-ctx.Done():
			return res, fmt.Errorf("avstest: no final answer to %s.%s: %w", req.Namespace, req.Name, ctx.Err())
		}
	}
}

// correlationToken returns an opaque token in Alexa's style.
func correlationToken() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}
