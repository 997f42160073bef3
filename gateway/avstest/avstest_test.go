//lint:file-ignore SA1019 issue #2 asks for golang.org/x/net/http2 (deprecated in x/net v0.62 in favour of net/http's own HTTP/2).

package avstest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/net/http2"

	"github.com/avshub/avshub/gateway/avstest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newSim(t *testing.T, opts avstest.Options) *avstest.Server {
	t.Helper()
	opts.Logger = quiet
	s, err := avstest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// raw is a plain HTTP/2 client of the emulator (no avs package involved).
type raw struct {
	sim   *avstest.Server
	c     *http.Client
	token string
}

func newRaw(t *testing.T, sim *avstest.Server) *raw {
	tr := &http2.Transport{TLSClientConfig: sim.ClientTLS()}
	t.Cleanup(tr.CloseIdleConnections)
	return &raw{sim: sim, c: &http.Client{Transport: tr}, token: sim.LWA().Issue().AccessToken}
}

func (r *raw) post(t *testing.T, event string) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="metadata"`)
	h.Set("Content-Type", "application/json; charset=UTF-8")
	pw, _ := mw.CreatePart(h)
	_, _ = io.WriteString(pw, event)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, r.sim.URL()+"/v20160207/events", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// downchannel opens GET /v20160207/directives.
func (r *raw) downchannel(t *testing.T) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.sim.URL()+"/v20160207/directives", nil)
	req.Header.Set("Authorization", "Bearer "+r.token)
	resp, err := r.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func event(ns, name string, extraHeader string, payload string) string {
	return fmt.Sprintf(`{"event":{"header":{"namespace":%q,"name":%q,"messageId":%q%s},"payload":%s}}`, ns, name, uuid.NewString(), extraHeader, payload)
}

func TestDownchannelFraming(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	r := newRaw(t, sim)
	resp := r.downchannel(t)
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	m := regexp.MustCompile(`^multipart/related; boundary=(------[0-9a-f]{16}); type=application/json$`).FindStringSubmatch(ct)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("downchannel: %d %q (want AVS's unquoted type=)", resp.StatusCode, ct)
	}
	b := m[1]
	res, err := sim.SendDirective(context.Background(), avstest.DirectiveRequest{Namespace: "Alexa.PowerController", Name: "TurnOn", EndpointID: "sw-1"}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := "--" + b + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" + string(res.Directive) + "\r\n--" + b + "\r\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(resp.Body, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("downchannel bytes\n got %q\nwant %q", got, want)
	}
	var d struct {
		Directive struct {
			Header   map[string]string
			Endpoint struct{ EndpointID string }
		}
	}
	if err := json.Unmarshal(res.Directive, &d); err != nil {
		t.Fatal(err)
	}
	h := d.Directive.Header
	if h["payloadVersion"] != "3" || h["messageId"] == "" || h["correlationToken"] == "" || d.Directive.Endpoint.EndpointID != "sw-1" {
		t.Errorf("directive = %s", res.Directive)
	}
	if st := sim.State(); !st.Connected || st.Downchannels != 1 {
		t.Errorf("state = %+v", st)
	}
}

func TestAuthorization(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	r := newRaw(t, sim)
	for _, tok := range []string{"", "Atza|forged"} {
		r.token = tok
		status, body := r.post(t, event("System", "SynchronizeState", "", "{}"))
		if status != 403 || !strings.Contains(string(body), `"code":"UNAUTHORIZED_REQUEST_EXCEPTION"`) {
			t.Errorf("token %q: %d %s", tok, status, body)
		}
	}
	r.token = sim.LWA().Issue().AccessToken
	if status, body := r.post(t, event("System", "SynchronizeState", "", "{}")); status != 204 {
		t.Errorf("valid token: %d %s", status, body)
	}
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultExpireToken}); err != nil {
		t.Fatal(err)
	}
	if status, _ := r.post(t, event("System", "SynchronizeState", "", "{}")); status != 403 {
		t.Errorf("expired token: %d", status)
	}
}

// endpoint returns a connected endpoint with fields overridden by edit.
func endpoint(id string, edit func(map[string]any)) map[string]any {
	e := map[string]any{
		"endpointId": id, "friendlyName": "Lamp", "description": "A lamp", "manufacturerName": "avshub",
		"displayCategories": []string{"LIGHT"},
		"capabilities": []any{
			map[string]any{"type": "AlexaInterface", "interface": "Alexa", "version": "3"},
			map[string]any{"type": "AlexaInterface", "interface": "Alexa.PowerController", "version": "3",
				"properties": map[string]any{"supported": []any{map[string]string{"name": "powerState"}}, "proactivelyReported": true, "retrievable": true}},
		},
	}
	if edit != nil {
		edit(e)
	}
	return e
}

func report(t *testing.T, token, name string, eps []map[string]any) string {
	t.Helper()
	p, err := json.Marshal(map[string]any{"scope": map[string]string{"type": "BearerToken", "token": token}, "endpoints": eps})
	if err != nil {
		t.Fatal(err)
	}
	return event("Alexa.Discovery", name, `,"payloadVersion":"3","eventCorrelationToken":"`+uuid.NewString()+`"`, string(p))
}

func TestDiscoveryLimits(t *testing.T) {
	many := func(n int, prefix string) []map[string]any {
		var out []map[string]any
		for i := range n {
			out = append(out, endpoint(fmt.Sprintf("%s-%d", prefix, i), nil))
		}
		return out
	}
	brightness := func(e map[string]any) {
		e["capabilities"] = append(e["capabilities"].([]any), map[string]any{"type": "AlexaInterface", "interface": "Alexa.BrightnessController", "version": "3",
			"properties": map[string]any{"supported": []any{map[string]string{"name": "brightness"}}, "proactivelyReported": true, "retrievable": true}})
	}
	cases := []struct {
		name    string
		profile string
		eps     []map[string]any
		status  int
		desc    string // part of the System.Exception description
	}{
		{"accepted", "", many(3, "ok"), 202, ""},
		{"301 endpoints", "", many(301, "x"), 400, "limit per report is 300"},
		{"endpointId charset", "", []map[string]any{endpoint("lamp one", nil)}, 400, "endpointId has ' '"},
		{"endpointId length", "", []map[string]any{endpoint(strings.Repeat("a", 257), nil)}, 400, "endpointId is 257 characters"},
		{"friendlyName length", "", []map[string]any{endpoint("l", func(e map[string]any) { e["friendlyName"] = strings.Repeat("n", 129) })}, 400, "friendlyName is 129 characters"},
		{"no description", "", []map[string]any{endpoint("l", func(e map[string]any) { delete(e, "description") })}, 400, "description must be 1 to 128"},
		{"attribute length", "", []map[string]any{endpoint("l", func(e map[string]any) {
			e["additionalAttributes"] = map[string]string{"model": strings.Repeat("m", 257)}
		})}, 400, "additionalAttributes.model"},
		{"cookie size", "", []map[string]any{endpoint("l", func(e map[string]any) { e["cookie"] = map[string]string{"k": strings.Repeat("c", 5000)} })}, 400, "cookie is"},
		{"duplicate id", "", []map[string]any{endpoint("l", nil), endpoint("l", nil)}, 400, "appears twice"},
		{"no Alexa interface", "", []map[string]any{endpoint("l", func(e map[string]any) { e["capabilities"] = e["capabilities"].([]any)[1:] })}, 400, "must also list the Alexa interface"},
		{"avs profile refuses BrightnessController", "avs", []map[string]any{endpoint("l", brightness)}, 400, "Alexa.BrightnessController is not documented for AVS"},
		{"smarthome profile accepts it", "smarthome", []map[string]any{endpoint("l", brightness)}, 202, ""},
		{"schema", "", []map[string]any{endpoint("l", func(e map[string]any) { e["displayCategories"] = []string{"FLYING_CAR"} })}, 400, "schema"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim := newSim(t, avstest.Options{Profile: tc.profile})
			r := newRaw(t, sim)
			status, body := r.post(t, report(t, r.token, "AddOrUpdateReport", tc.eps))
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.status == 400 && (!strings.Contains(string(body), "INVALID_REQUEST_EXCEPTION") || !strings.Contains(string(body), tc.desc)) {
				t.Errorf("body %s, want INVALID_REQUEST_EXCEPTION mentioning %q", body, tc.desc)
			}
			want := 0
			if tc.status == 202 {
				want = len(tc.eps)
			}
			if n := len(sim.Endpoints()); n != want {
				t.Errorf("Alexa knows %d endpoints, want %d", n, want)
			}
		})
	}
}

func TestEndpointListAsAlexaKeepsIt(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	r := newRaw(t, sim)
	var first []map[string]any
	for i := range 200 {
		first = append(first, endpoint(fmt.Sprintf("a-%d", i), nil))
	}
	if s, b := r.post(t, report(t, r.token, "AddOrUpdateReport", first)); s != 202 {
		t.Fatalf("%d %s", s, b)
	}
	// Replaces a-0 and adds 99 more: 299 in all.
	renamed := endpoint("a-0", func(e map[string]any) { e["friendlyName"] = "Renamed" })
	second := []map[string]any{renamed}
	for i := range 99 {
		second = append(second, endpoint(fmt.Sprintf("b-%d", i), nil))
	}
	if s, b := r.post(t, report(t, r.token, "AddOrUpdateReport", second)); s != 202 {
		t.Fatalf("%d %s", s, b)
	}
	if e, _ := sim.Endpoint("a-0"); !strings.Contains(string(e), "Renamed") {
		t.Errorf("a-0 not replaced: %s", e)
	}
	// Two more would make 301 in the account.
	if s, b := r.post(t, report(t, r.token, "AddOrUpdateReport", []map[string]any{endpoint("c-1", nil), endpoint("c-2", nil)})); s != 400 || !strings.Contains(string(b), "at most 300") {
		t.Errorf("over the account limit: %d %s", s, b)
	}
	if s, b := r.post(t, report(t, r.token, "DeleteReport", []map[string]any{{"endpointId": "a-1"}, {"endpointId": "zz"}})); s != 202 {
		t.Fatalf("DeleteReport: %d %s", s, b)
	}
	if _, ok := sim.Endpoint("a-1"); ok || len(sim.Endpoints()) != 298 {
		t.Errorf("after DeleteReport: %d endpoints", len(sim.Endpoints()))
	}
	// An event over 256 KB.
	big := []map[string]any{endpoint("big", func(e map[string]any) { e["description"] = strings.Repeat("d", 128) })}
	for i := range 1200 {
		big = append(big, endpoint(fmt.Sprintf("big-%d-%s", i, strings.Repeat("x", 200)), nil))
	}
	if s, b := r.post(t, report(t, r.token, "AddOrUpdateReport", big)); s != 400 || !strings.Contains(string(b), "262144-byte limit") {
		t.Errorf("oversized event: %d %.200s", s, b)
	}
}

func TestEventsValidated(t *testing.T) {
	cases := []struct {
		name, profile, event string
		status               int
	}{
		{"valid Response", "", `{"context":{"properties":[{"namespace":"Alexa.PowerController","name":"powerState","value":"ON","timeOfSample":"2024-01-01T12:00:00.00Z","uncertaintyInMilliseconds":0}]},"event":{"header":{"namespace":"Alexa","name":"Response","messageId":"5f8a426e-01e4-4cc9-8b79-65f8bd0fd8a4","correlationToken":"c","payloadVersion":"3"},"endpoint":{"endpointId":"l"},"payload":{}}}`, 204},
		{"Response with a bad value", "", `{"context":{"properties":[{"namespace":"Alexa.PowerController","name":"powerState","value":"MAYBE","timeOfSample":"2024-01-01T12:00:00.00Z","uncertaintyInMilliseconds":0}]},"event":{"header":{"namespace":"Alexa","name":"Response","messageId":"5f8a426e-01e4-4cc9-8b79-65f8bd0fd8a4","correlationToken":"c","payloadVersion":"3"},"endpoint":{"endpointId":"l"},"payload":{}}}`, 400},
		{"EndpointHealth in profile avs", "avs", `{"context":{"properties":[{"namespace":"Alexa.EndpointHealth","name":"connectivity","value":{"value":"OK"},"timeOfSample":"2024-01-01T12:00:00.00Z","uncertaintyInMilliseconds":0}]},"event":{"header":{"namespace":"Alexa","name":"Response","messageId":"5f8a426e-01e4-4cc9-8b79-65f8bd0fd8a4","correlationToken":"c","payloadVersion":"3"},"endpoint":{"endpointId":"l"},"payload":{}}}`, 400},
		{"EndpointHealth in profile smarthome", "smarthome", `{"context":{"properties":[{"namespace":"Alexa.EndpointHealth","name":"connectivity","value":{"value":"OK"},"timeOfSample":"2024-01-01T12:00:00.00Z","uncertaintyInMilliseconds":0}]},"event":{"header":{"namespace":"Alexa","name":"Response","messageId":"5f8a426e-01e4-4cc9-8b79-65f8bd0fd8a4","correlationToken":"c","payloadVersion":"3"},"endpoint":{"endpointId":"l"},"payload":{}}}`, 204},
		{"no messageId", "", `{"event":{"header":{"namespace":"System","name":"SynchronizeState"},"payload":{}}}`, 400},
		{"unknown namespace", "", event("Acme", "Thing", "", "{}"), 400},
		{"not JSON", "", `{"event":`, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim := newSim(t, avstest.Options{Profile: tc.profile})
			r := newRaw(t, sim)
			if s, b := r.post(t, tc.event); s != tc.status {
				t.Errorf("status %d, want %d: %s", s, tc.status, b)
			}
		})
	}
}

func TestRecordFile(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	sim := newSim(t, avstest.Options{Record: lockedWriter{&mu, &buf}})
	r := newRaw(t, sim)
	r.post(t, event("Alexa.ApiGateway", "VerifyGateway", "", "{}"))
	r.post(t, event("Acme", "Thing", "", "{}"))
	mu.Lock()
	defer mu.Unlock()
	sc := bufio.NewScanner(&buf)
	var statuses []int
	for sc.Scan() {
		var line map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("record line %q: %v", sc.Text(), err)
		}
		if len(line) != 3 || line["receivedAt"] == nil || line["event"] == nil {
			t.Errorf("record line keys: %s", sc.Text())
		}
		var st int
		_ = json.Unmarshal(line["status"], &st)
		statuses = append(statuses, st)
	}
	if fmt.Sprint(statuses) != "[204 400]" {
		t.Errorf("recorded statuses %v", statuses)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func TestAdminAPI(t *testing.T) {
	sim := newSim(t, avstest.Options{SetGateway: "https://alexa.eu.gateway.devices.a2z.com"})
	admin := httptest.NewServer(sim.AdminHandler())
	defer admin.Close()
	call := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, admin.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	s, body := call("POST", "/sim/tokens/issue", "")
	var tok avstest.IssuedToken
	if err := json.Unmarshal([]byte(body), &tok); s != 200 || err != nil || !sim.LWA().ValidAccessToken(tok.AccessToken) || tok.ExpiresIn <= 0 {
		t.Fatalf("issue: %d %s", s, body)
	}
	r := newRaw(t, sim)
	r.token = tok.AccessToken
	// SetGateway configured: VerifyGateway gets 200 with the directive in a multipart body.
	st, b := r.post(t, event("Alexa.ApiGateway", "VerifyGateway", "", "{}"))
	if st != 200 || !strings.Contains(string(b), `"name":"SetGateway"`) || !strings.Contains(string(b), `"gateway":"https://alexa.eu.gateway.devices.a2z.com"`) {
		t.Errorf("VerifyGateway with SetGateway: %d %s", st, b)
	}
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/sim/state", "", 200, `"profile": "avs"`},
		{"GET", "/sim/endpoints", "", 200, "[]"},
		{"GET", "/sim/events", "", 200, `"status": 200`},
		{"GET", "/sim/events?since=1", "", 200, "[]"},
		{"POST", "/sim/fault", `{"kind":"status","status":429,"count":3}`, 200, "ok"},
		{"POST", "/sim/fault", `{"kind":"meteor"}`, 400, "unknown fault kind"},
		{"POST", "/sim/fault", `{"kind":"status","status":200}`, 400, "not an HTTP error status"},
		{"POST", "/sim/directive", `{"namespace":"Alexa","name":"ReportState","endpointId":"l"}`, 409, "no downchannel"},
		{"POST", "/sim/directive?wait=forever", `{"namespace":"Alexa","name":"ReportState"}`, 400, "wait must be"},
		{"POST", "/sim/directive", `{"name":"ReportState"}`, 400, "namespace"},
		{"POST", "/sim/cbl/approve", ``, 404, "no pending code pair"},
	} {
		s, body := call(tc.method, tc.path, tc.body)
		if s != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %d %s, want %d with %q", tc.method, tc.path, s, body, tc.status, tc.want)
		}
	}
}

func TestNoEventLostInRecording(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	r := newRaw(t, sim)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { r.post(t, event("System", "UserInactivityReport", "", `{"inactiveTimeInSeconds":1}`)) })
	}
	wg.Wait()
	if _, _, err := sim.WaitForEvent(ctx, 19, avstest.Named("System.UserInactivityReport", 204)); err != nil {
		t.Fatal(err)
	}
	if st := sim.State(); st.Events != 20 || st.MaxEventStreams < 1 {
		t.Errorf("state %+v", st)
	}
}

// TestStatusBurst: a FaultStatus burst answers exactly its Count events with
// its status (429 with AVS's THROTTLING_EXCEPTION body), and State counts
// what is still armed.
func TestStatusBurst(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	r := newRaw(t, sim)
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultStatus, Status: 429, Count: 2}); err != nil {
		t.Fatal(err)
	}
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultStatus, Status: 503, Target: avstest.TargetPing}); err != nil {
		t.Fatal(err)
	}
	if n := sim.State().PendingFaults; n != 3 {
		t.Fatalf("PendingFaults = %d after arming 2 + 1, want 3", n)
	}
	sync := event("System", "SynchronizeState", "", "{}")
	for i, want := range []int{429, 429, 204} {
		s, b := r.post(t, sync)
		if s != want {
			t.Fatalf("event %d: status %d, want %d: %s", i, s, want, b)
		}
		if want == 429 && !strings.Contains(string(b), "THROTTLING_EXCEPTION") {
			t.Errorf("429 body %s, want a System.Exception THROTTLING_EXCEPTION", b)
		}
	}
	if n := sim.State().PendingFaults; n != 1 {
		t.Errorf("PendingFaults = %d with the ping fault still armed, want 1", n)
	}
	if err := sim.Inject(avstest.Fault{Kind: avstest.FaultClear}); err != nil {
		t.Fatal(err)
	}
	if n := sim.State().PendingFaults; n != 0 {
		t.Errorf("PendingFaults = %d after clear, want 0", n)
	}
}

// A part counts as delivered only once written to the downchannel: parts
// still waiting when the stream ends (here: a client that stopped reading
// resets it) are reported as not delivered, so a caller may send them again.
func TestDownchannelUnwrittenPartsNotDelivered(t *testing.T) {
	sim := newSim(t, avstest.Options{})
	r := newRaw(t, sim)
	resp := r.downchannel(t)
	// More than the client's flow-control window: the write blocks while the
	// client does not read.
	big := []byte(`"` + strings.Repeat("x", 8<<20) + `"`)
	errs := make(chan error, 2)
	go func() { errs <- sim.SendRaw(big) }()
	// Once the big part's first bytes arrive it is being written; the
	// directive then waits behind it. Then the client resets the stream.
	if _, err := io.ReadFull(resp.Body, make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := sim.SendDirective(context.Background(), avstest.DirectiveRequest{Namespace: "Alexa.PowerController", Name: "TurnOn", EndpointID: "sw-1"}, false)
		errs <- err
	}()
	resp.Body.Close()
	for range 2 {
		select {
		case err := <-errs:
			if err == nil {
				t.Error("a part the client never received was reported delivered")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a push did not return after the downchannel ended")
		}
	}
}
