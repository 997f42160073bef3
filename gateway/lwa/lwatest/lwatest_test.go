package lwatest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

const clientID = "amzn1.application-oa2-client.test"

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type env struct {
	t   *testing.T
	sim *lwatest.Server
	srv *httptest.Server
	clk *clock
}

func newEnv(t *testing.T, opts lwatest.Options) *env {
	clk := &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	opts.Now = clk.Now
	if opts.ClientID == "" {
		opts.ClientID = clientID
	}
	sim := lwatest.New(opts)
	mux := http.NewServeMux()
	mux.Handle("/auth/", sim.Handler())
	mux.Handle("/sim/", sim.AdminHandler())
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return &env{t: t, sim: sim, srv: srv, clk: clk}
}

// post sends a form and decodes the JSON answer, checking LWA's headers.
func (e *env) post(path string, form url.Values) (int, map[string]any) {
	e.t.Helper()
	resp, err := e.srv.Client().PostForm(e.srv.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		e.t.Errorf("%s: Content-Type %q", path, ct)
	}
	if resp.ProtoMajor != 2 {
		e.t.Errorf("%s: %s, want HTTP/2", path, resp.Proto)
	}
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		e.t.Fatalf("%s: body is not JSON: %v", path, err)
	}
	return resp.StatusCode, v
}

func (e *env) admin(path, body string) (int, map[string]any) {
	e.t.Helper()
	resp, err := e.srv.Client().Post(e.srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

const scopeData = `{"alexa:all":{"productID":"p1","productInstanceAttributes":{"deviceSerialNumber":"SN1"}}}`

func codePairForm() url.Values {
	return url.Values{"response_type": {"device_code"}, "client_id": {clientID}, "scope": {"alexa:all"}, "scope_data": {scopeData}}
}

func (e *env) codePair() (userCode, deviceCode string) {
	e.t.Helper()
	st, v := e.post(lwatest.CodePairPath, codePairForm())
	if st != 200 {
		e.t.Fatalf("codepair: %d %v", st, v)
	}
	return v["user_code"].(string), v["device_code"].(string)
}

func pollForm(uc, dc string) url.Values {
	return url.Values{"grant_type": {"device_code"}, "device_code": {dc}, "user_code": {uc}}
}

func errorOf(v map[string]any) string {
	s, _ := v["error"].(string)
	if _, ok := v["error_description"].(string); !ok {
		return s + " (no error_description)"
	}
	return s
}

func TestCodePairResponse(t *testing.T) {
	e := newEnv(t, lwatest.Options{CodePairLifetime: 7 * time.Minute, PollInterval: 3 * time.Second})
	st, v := e.post(lwatest.CodePairPath, codePairForm())
	if st != 200 {
		t.Fatalf("HTTP %d %v", st, v)
	}
	if v["verification_uri"] != "https://amazon.com/us/code" || v["expires_in"] != 420.0 || v["interval"] != 3.0 {
		t.Errorf("answer %v", v)
	}
	if uc, _ := v["user_code"].(string); len(uc) != 6 {
		t.Errorf("user_code %q", uc)
	}
	if dc, _ := v["device_code"].(string); dc == "" {
		t.Error("no device_code")
	}
}

func TestCodePairRejects(t *testing.T) {
	e := newEnv(t, lwatest.Options{})
	for _, tc := range []struct {
		name   string
		change func(url.Values)
		code   string
	}{
		{"no client_id", func(v url.Values) { v.Del("client_id") }, "invalid_request"},
		{"wrong client_id", func(v url.Values) { v.Set("client_id", "other") }, "invalid_client"},
		{"response_type", func(v url.Values) { v.Set("response_type", "code") }, "unsupported_response_type"},
		{"scope", func(v url.Values) { v.Set("scope", "profile") }, "invalid_scope"},
		{"no scope_data", func(v url.Values) { v.Del("scope_data") }, "invalid_request"},
		{"scope_data not JSON", func(v url.Values) { v.Set("scope_data", "{") }, "invalid_request"},
		{"no serial", func(v url.Values) { v.Set("scope_data", `{"alexa:all":{"productID":"p"}}`) }, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := codePairForm()
			tc.change(f)
			st, v := e.post(lwatest.CodePairPath, f)
			if st != 400 || errorOf(v) != tc.code {
				t.Errorf("HTTP %d %v, want 400 %s", st, v, tc.code)
			}
		})
	}
	resp, err := e.srv.Client().Post(e.srv.URL+lwatest.TokenPath, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("JSON body: HTTP %d, want 400", resp.StatusCode)
	}
	resp, err = e.srv.Client().Get(e.srv.URL + lwatest.TokenPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: HTTP %d, want 405", resp.StatusCode)
	}
}

// TestPollLifecycle: pending, slow_down when polled faster than the
// interval, approval via the admin API, then the pair is used up.
func TestPollLifecycle(t *testing.T) {
	e := newEnv(t, lwatest.Options{PollInterval: 5 * time.Second})
	uc, dc := e.codePair()
	steps := []struct {
		advance time.Duration
		approve bool
		want    string
	}{
		{5 * time.Second, false, "authorization_pending"},
		{2 * time.Second, false, "slow_down"},
		{5 * time.Second, false, "authorization_pending"},
		{5 * time.Second, true, ""},
		{5 * time.Second, false, "invalid_code_pair"},
	}
	for i, s := range steps {
		e.clk.Add(s.advance)
		if s.approve {
			if st, v := e.admin(lwatest.ApprovePath, ""); st != 200 || v["user_code"] != uc {
				t.Fatalf("approve: %d %v", st, v)
			}
		}
		st, v := e.post(lwatest.TokenPath, pollForm(uc, dc))
		if s.want == "" {
			at, _ := v["access_token"].(string)
			rt, _ := v["refresh_token"].(string)
			if st != 200 || !strings.HasPrefix(at, "Atza|") || !strings.HasPrefix(rt, "Atzr|") || v["token_type"] != "bearer" || v["expires_in"] != 3600.0 {
				t.Fatalf("step %d: %d %v", i, st, v)
			}
			if !e.sim.ValidAccessToken(at) || !e.sim.ValidRefreshToken(rt) {
				t.Fatal("issued tokens are not valid")
			}
			continue
		}
		if st != 400 || errorOf(v) != s.want {
			t.Fatalf("step %d: %d %v, want 400 %s", i, st, v, s.want)
		}
	}
	if got := e.sim.Stats().Polls; got != len(steps) {
		t.Errorf("polls = %d, want %d", got, len(steps))
	}
}

func TestPollExpiryDenialAndBadRequests(t *testing.T) {
	e := newEnv(t, lwatest.Options{CodePairLifetime: time.Minute})
	uc, dc := e.codePair()
	e.clk.Add(time.Minute)
	if st, v := e.post(lwatest.TokenPath, pollForm(uc, dc)); st != 400 || errorOf(v) != "invalid_code_pair" {
		t.Errorf("expired: %d %v", st, v)
	}
	if st, _ := e.admin(lwatest.ApprovePath, ""); st != 404 {
		t.Errorf("approve with nothing pending: HTTP %d, want 404", st)
	}
	uc, dc = e.codePair()
	uc2, _ := e.codePair()
	if st, v := e.admin(lwatest.DenyPath, `{"user_code":"`+uc+`"}`); st != 200 || v["user_code"] != uc {
		t.Fatalf("deny: %d %v", st, v)
	}
	if st, v := e.post(lwatest.TokenPath, pollForm(uc, dc)); st != 400 || errorOf(v) != "access_denied" {
		t.Errorf("denied: %d %v", st, v)
	}
	if got := e.sim.PendingUserCodes(); len(got) != 1 || got[0] != uc2 {
		t.Errorf("pending = %v, want [%s]", got, uc2)
	}
	for _, tc := range []struct {
		form url.Values
		code string
	}{
		{url.Values{"grant_type": {"device_code"}, "device_code": {dc}}, "invalid_request"},
		{pollForm(uc2, dc), "invalid_code_pair"},
		{url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc}, "user_code": {uc}}, "unsupported_grant_type"},
		{url.Values{}, "invalid_request"},
	} {
		if st, v := e.post(lwatest.TokenPath, tc.form); st != 400 || errorOf(v) != tc.code {
			t.Errorf("%v: %d %v, want %s", tc.form, st, v, tc.code)
		}
	}
	if st, _ := e.admin(lwatest.ApprovePath, `not json`); st != 400 {
		t.Errorf("approve with a bad body: HTTP %d", st)
	}
}

// TestRefreshRotationRevocation: refresh rotates the refresh token (the old
// one dies), revocation gives invalid_grant, lifetimes are honoured.
func TestRefreshRotationRevocation(t *testing.T) {
	e := newEnv(t, lwatest.Options{AccessTokenLifetime: 90 * time.Second})
	tok := e.sim.Issue()
	refresh := func(rt string) (int, map[string]any) {
		return e.post(lwatest.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}})
	}
	st, v := refresh(tok.RefreshToken)
	if st != 200 || v["expires_in"] != 90.0 {
		t.Fatalf("refresh: %d %v", st, v)
	}
	rt2 := v["refresh_token"].(string)
	at2 := v["access_token"].(string)
	if rt2 == tok.RefreshToken || e.sim.ValidRefreshToken(tok.RefreshToken) {
		t.Error("refresh token not rotated")
	}
	if st, v := refresh(tok.RefreshToken); st != 400 || errorOf(v) != "invalid_grant" {
		t.Errorf("old refresh token: %d %v", st, v)
	}
	e.clk.Add(89 * time.Second)
	if !e.sim.ValidAccessToken(at2) {
		t.Error("access token died early")
	}
	e.clk.Add(time.Second)
	if e.sim.ValidAccessToken(at2) {
		t.Error("access token outlived its lifetime")
	}
	if st, v := e.post(lwatest.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt2}}); st != 400 || errorOf(v) != "invalid_request" {
		t.Errorf("refresh without client_id: %d %v", st, v)
	}
	if st, v := e.admin(lwatest.RevokePath, ""); st != 200 || v["revoked"] != 1.0 {
		t.Fatalf("revoke: %d %v", st, v)
	}
	if st, v := refresh(rt2); st != 400 || errorOf(v) != "invalid_grant" {
		t.Errorf("revoked: %d %v", st, v)
	}
	if got := e.sim.Stats().Refreshes; got != 4 {
		t.Errorf("refreshes = %d, want 4", got)
	}
}

func TestKeepRefreshTokensAndRemote(t *testing.T) {
	e := newEnv(t, lwatest.Options{KeepRefreshTokens: true, ClientSecret: "sec"})
	tok := e.sim.IssueRemote()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {clientID}}
	if st, v := e.post(lwatest.TokenPath, form); st != 400 || !strings.Contains(v["error_description"].(string), "client_secret") {
		t.Errorf("remote token without secret: %d %v", st, v)
	}
	form.Set("client_secret", "wrong")
	if st, v := e.post(lwatest.TokenPath, form); st != 401 || errorOf(v) != "invalid_client" {
		t.Errorf("wrong secret: %d %v", st, v)
	}
	form.Set("client_secret", "sec")
	st, v := e.post(lwatest.TokenPath, form)
	if st != 200 || v["refresh_token"] != tok.RefreshToken {
		t.Errorf("kept refresh token: %d %v", st, v)
	}
	if e.sim.ValidAccessToken(tok.AccessToken) != true {
		t.Error("refresh killed the previous access token")
	}
	if !e.sim.Revoke(tok.RefreshToken) || e.sim.ValidAccessToken(v["access_token"].(string)) {
		t.Error("Revoke did not kill the latest access token")
	}
}

func TestFaultsAndExpireAll(t *testing.T) {
	e := newEnv(t, lwatest.Options{})
	e.sim.FailNext(2, 503)
	for range 2 {
		if st, v := e.post(lwatest.CodePairPath, codePairForm()); st != 503 || v["error"] == nil {
			t.Errorf("fault: %d %v", st, v)
		}
	}
	e.codePair()
	e.sim.FailNextGrant("refresh_token", 1, 0)
	tok := e.sim.Issue()
	uc, dc := e.codePair()
	if st, v := e.post(lwatest.TokenPath, pollForm(uc, dc)); st != 400 || errorOf(v) != "authorization_pending" {
		t.Errorf("poll not faulted: %d %v", st, v)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {clientID}}
	if st, _ := e.post(lwatest.TokenPath, form); st != 500 {
		t.Errorf("refresh fault: HTTP %d", st)
	}
	if st, _ := e.post(lwatest.TokenPath, form); st != 200 {
		t.Errorf("after the fault: HTTP %d", st)
	}
	s := e.sim.Stats()
	if s.Faults != 3 || s.CodePairs != 4 || s.Polls != 1 || s.Refreshes != 1 || s.TokenRequests != 3 {
		t.Errorf("stats %+v", s)
	}
	tok = e.sim.Issue()
	e.sim.ExpireAccessTokens()
	if e.sim.ValidAccessToken(tok.AccessToken) {
		t.Error("ExpireAccessTokens left a token valid")
	}
}
