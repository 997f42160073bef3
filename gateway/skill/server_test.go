package skill

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa"
	"github.com/avshub/avshub/gateway/lwa"
	"github.com/avshub/avshub/gateway/skill/sign"
	"github.com/avshub/avshub/gateway/skilltest"
)

const testSecret = "0123456789abcdef0123456789abcdef"

// fakeRouter answers like the router: the first answer through Send with the
// directive's context.
type fakeRouter struct {
	s     *Server
	block chan struct{} // when set, HandleDirective waits for it before answering
}

func (f *fakeRouter) HandleDirective(ctx context.Context, d *alexa.Directive) error {
	if f.block != nil {
		<-f.block
	}
	ev, err := alexa.NewResponse(d, d.EndpointID(), []alexa.Property{{Namespace: "Alexa.PowerController", Name: "powerState", Value: "ON", TimeOfSample: time.Now()}})
	if err != nil {
		return err
	}
	return f.s.Send(ctx, ev)
}

// fakeDiscovery has nothing to report.
type fakeDiscovery struct {
	mu       sync.Mutex
	answered int
	changed  chan struct{}
}

func (f *fakeDiscovery) Snapshot(context.Context) ([]json.RawMessage, error) { return nil, nil }
func (f *fakeDiscovery) Answered(context.Context, []json.RawMessage) error {
	f.mu.Lock()
	f.answered++
	f.mu.Unlock()
	return nil
}
func (f *fakeDiscovery) Pending(context.Context) ([]discovery.Report, error) { return nil, nil }
func (f *fakeDiscovery) Delivered(context.Context, discovery.Report) error   { return nil }
func (f *fakeDiscovery) Changed() <-chan struct{}                            { return f.changed }

type harness struct {
	t   *testing.T
	sim *skilltest.Server
	s   *Server
	r   *fakeRouter
	h   http.Handler
}

func newHarness(t *testing.T, answerWithin time.Duration) *harness {
	t.Helper()
	sim, err := skilltest.New(skilltest.Options{ClientID: "client", ClientSecret: "client-secret", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(sim.CAPEM())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsWith(pool)}, Timeout: 10 * time.Second}
	r := &fakeRouter{}
	s, err := New(Options{
		Secret:       []byte(testSecret),
		LWA:          lwa.Config{ClientID: "client", ClientSecret: "client-secret", DataDir: t.TempDir(), BaseURL: sim.URL(), HTTPClient: client},
		EventGateway: sim.EventGatewayURL(),
		HTTPClient:   client,
		Directives:   r,
		Discovery:    &fakeDiscovery{changed: make(chan struct{})},
		AnswerWithin: answerWithin,
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	return &harness{t: t, sim: sim, s: s, r: r, h: s.Handler()}
}

// post sends body with header sig (signed now when sig is "sign").
func (h *harness) post(body []byte, sig string) (int, []byte) {
	h.t.Helper()
	if sig == "sign" {
		sig = sign.Sign([]byte(testSecret), time.Now(), body)
	}
	req := httptest.NewRequest(http.MethodPost, "/alexa/skill", bytes.NewReader(body))
	if sig != "" {
		req.Header.Set(sign.Header, sig)
	}
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

func directive(ns, name, token string) []byte {
	d := map[string]any{"header": map[string]string{"namespace": ns, "name": name, "payloadVersion": "3", "messageId": "m-" + name, "correlationToken": "c-" + name},
		"endpoint": map[string]any{"endpointId": "e1", "scope": map[string]string{"type": "BearerToken", "token": token}}, "payload": map[string]any{}}
	b, _ := json.Marshal(map[string]any{"directive": d})
	return b
}

func answerType(t *testing.T, b []byte) (string, string) {
	t.Helper()
	var ev struct {
		Event struct {
			Header  struct{ Name string }
			Payload struct{ Type string }
		}
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return ev.Event.Header.Name, ev.Event.Payload.Type
}

// TestEndpointAuthentication: the HMAC, its time window and replays, and the
// Amazon user behind the account-linking token.
func TestEndpointAuthentication(t *testing.T) {
	h := newHarness(t, 2*time.Second)
	user := h.sim.LWA().Issue().AccessToken
	other := h.sim.LWA().IssueUser("amzn1.account.SOMEONEELSE").AccessToken
	ok := directive("Alexa.PowerController", "TurnOn", user)
	old := sign.Sign([]byte(testSecret), time.Now().Add(-10*time.Minute), ok)
	replayed := sign.Sign([]byte(testSecret), time.Now(), ok)
	for _, tc := range []struct {
		name     string
		body     []byte
		sig      string
		status   int
		wantName string
		wantType string
	}{
		{"unsigned", ok, "", 401, "", ""},
		{"wrong secret", ok, sign.Sign([]byte("another secret of thirty-two chars!"), time.Now(), ok), 401, "", ""},
		{"too old", ok, old, 401, "", ""},
		{"malformed directive", []byte(`{"directive":{}}`), "sign", 400, "", ""},
		{"no token", directive("Alexa.PowerController", "TurnOn", ""), "sign", 200, "ErrorResponse", "INVALID_AUTHORIZATION_CREDENTIAL"},
		{"unknown token", directive("Alexa.PowerController", "TurnOn", "Atza|nobody"), "sign", 200, "ErrorResponse", "INVALID_AUTHORIZATION_CREDENTIAL"},
		{"the first user links", ok, replayed, 200, "Response", ""},
		{"a replay", ok, replayed, 401, "", ""},
		{"another Amazon user", directive("Alexa.PowerController", "TurnOn", other), "sign", 200, "ErrorResponse", "INVALID_AUTHORIZATION_CREDENTIAL"},
		{"the linked user again", directive("Alexa.PowerController", "TurnOff", user), "sign", 200, "Response", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.post(tc.body, tc.sig)
			if status != tc.status {
				t.Fatalf("status %d, want %d (%s)", status, tc.status, body)
			}
			if tc.wantName == "" {
				return
			}
			name, typ := answerType(t, body)
			if name != tc.wantName || typ != tc.wantType {
				t.Errorf("answered %s %s, want %s %s", name, typ, tc.wantName, tc.wantType)
			}
		})
	}
	if st := h.s.Status(); st.User != "amzn1.account.AVSHUBSIMULATEDUSER0000000001" {
		t.Errorf("linked user %q", st.User)
	}
	if n := h.sim.LWA().Stats().Profiles; n != 3 {
		t.Errorf("LWA profile asked %d times; want once per distinct token (3)", n)
	}
}

// TestAnswerDeadline: a directive the router does not answer in time gets
// ENDPOINT_UNREACHABLE, and the late answer goes nowhere (not to the gateway).
func TestAnswerDeadline(t *testing.T) {
	h := newHarness(t, 300*time.Millisecond)
	h.r.block = make(chan struct{})
	tok := h.sim.LWA().Issue().AccessToken
	start := time.Now()
	status, body := h.post(directive("Alexa.PowerController", "TurnOn", tok), "sign")
	if name, typ := answerType(t, body); status != 200 || name != "ErrorResponse" || typ != "ENDPOINT_UNREACHABLE" {
		t.Fatalf("answered %d %s %s", status, name, typ)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the answer took %s", d)
	}
	before := len(h.sim.Records())
	close(h.r.block) // the router answers late
	time.Sleep(100 * time.Millisecond)
	if n := len(h.sim.Records()); n != before {
		t.Errorf("the late answer reached the event gateway")
	}
}

// TestEventGateway: AcceptGrant, then events to the gateway through its
// documented errors: 5xx and 429 retried, 401 refreshed, 403
// SKILL_DISABLED_EXCEPTION stops everything until the next AcceptGrant.
func TestEventGateway(t *testing.T) {
	h := newHarness(t, 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	report := func() []byte {
		b, err := alexa.NewChangeReport("e1", model.CausePhysical,
			[]alexa.Property{{Namespace: "Alexa.PowerController", Name: "powerState", Value: "ON", TimeOfSample: time.Now()}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if err := h.s.Send(ctx, report()); !errors.Is(err, ErrNotLinked) {
		t.Fatalf("Send before AcceptGrant: %v, want ErrNotLinked", err)
	}
	go func() { _ = h.s.auth.Run(ctx) }()
	// The grant, through the endpoint as Alexa sends it.
	code := h.sim.LWA().IssueGrantCode("client")
	grant, _ := json.Marshal(map[string]any{"directive": map[string]any{
		"header":  map[string]string{"namespace": "Alexa.Authorization", "name": "AcceptGrant", "payloadVersion": "3", "messageId": "g"},
		"payload": map[string]any{"grant": map[string]string{"type": "OAuth2.AuthorizationCode", "code": code}, "grantee": map[string]string{"type": "BearerToken", "token": h.sim.LWA().Issue().AccessToken}},
	}})
	if _, body := h.post(grant, "sign"); !strings.Contains(string(body), "AcceptGrant.Response") {
		t.Fatalf("AcceptGrant answered %s", body)
	}
	if st := h.s.Status(); st.State != StateLinked {
		t.Fatalf("state %s after AcceptGrant", st.State)
	}
	for _, f := range []skilltest.Fault{{Kind: "status", Status: 503}, {Kind: "status", Status: 429}, {Kind: "expire-token"}} {
		if err := h.sim.Inject(f); err != nil {
			t.Fatal(err)
		}
		if err := h.s.Send(ctx, report()); err != nil {
			t.Fatalf("after %+v: %v", f, err)
		}
	}
	var statuses []int
	for _, r := range h.sim.Records() {
		statuses = append(statuses, r.Status)
	}
	if want := []int{503, 202, 429, 202, 401, 202}; !equalInts(statuses, want) {
		t.Errorf("gateway saw %v, want %v", statuses, want)
	}
	if err := h.sim.Inject(skilltest.Fault{Kind: "skill-disabled"}); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Send(ctx, report()); !errors.Is(err, ErrSkillDisabled) {
		t.Fatalf("Send with the skill disabled: %v", err)
	}
	n := len(h.sim.Records())
	if err := h.s.Send(ctx, report()); !errors.Is(err, ErrSkillDisabled) || len(h.sim.Records()) != n {
		t.Fatalf("after SKILL_DISABLED the hub must not send (err %v, %d requests more)", err, len(h.sim.Records())-n)
	}
	if st := h.s.Status(); st.State != StateSkillDisabled {
		t.Errorf("state %s", st.State)
	}
	if v := h.sim.State().Violations; len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDoctor: the public URL through TLS with the right secret, the tokens and
// the clock; a wrong secret is found.
func TestDoctor(t *testing.T) {
	h := newHarness(t, 2*time.Second)
	ts := httptest.NewTLSServer(h.h)
	defer ts.Close()
	ctx := context.Background()
	opts := DoctorOptions{PublicURL: ts.URL + "/alexa/skill", Secret: []byte(testSecret), LWA: h.s.opts.LWA, HTTPClient: ts.Client()}
	checks := Doctor(ctx, opts)
	got := map[string]Check{}
	for _, c := range checks {
		got[c.Name] = c
	}
	for name, ok := range map[string]bool{"HMAC secret": true, "public URL": true, "certificate": true, "clock": true, "event gateway tokens": false} {
		if c, found := got[name]; !found || c.OK != ok {
			t.Errorf("%s: %+v, want ok=%t", name, c, ok)
		}
	}
	opts.Secret = []byte("a different secret of thirty-two+ chars")
	for _, c := range Doctor(ctx, opts) {
		if c.Name == "public URL" && c.OK {
			t.Errorf("a wrong secret passed: %+v", c)
		}
	}
}

func tlsWith(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
