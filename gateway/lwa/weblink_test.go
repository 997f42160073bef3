package lwa

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

// webConsent follows a started link to the emulator's consent page and
// presses Allow (or Cancel): it returns the callback's query.
func webConsent(t *testing.T, authorize string, allow bool) url.Values {
	t.Helper()
	resp, err := http.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `id="allow"`) || !strings.Contains(string(page), "avshub_test") || !strings.Contains(string(page), "hub-serial-1") {
		t.Fatalf("consent page %d:\n%s", resp.StatusCode, page)
	}
	u, _ := url.Parse(authorize)
	q := u.Query()
	form := url.Values{"decision": {map[bool]string{true: "allow", false: "deny"}[allow]}}
	for _, k := range []string{"client_id", "redirect_uri", "state", "code_challenge"} {
		form.Set(k, q.Get(k))
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	back, err := noFollow.PostForm(u.Scheme+"://"+u.Host+lwatest.ConsentPath, form)
	if err != nil {
		t.Fatal(err)
	}
	back.Body.Close()
	loc, err := url.Parse(back.Header.Get("Location"))
	if back.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), q.Get("redirect_uri")+"?") {
		t.Fatalf("consent answered %d to %q", back.StatusCode, back.Header.Get("Location"))
	}
	return loc.Query()
}

// TestWebLinkPKCE links from a browser's point of view against the LWA
// emulator: the authorize URL carries alexa:all, the product id and serial
// number in scope_data, response_type code and an S256 challenge; the code
// from the consent page is exchanged with the verifier and the refresh token
// stored; a wrong verifier, a callback state never handed out and a
// refused consent all fail.
func TestWebLinkPKCE(t *testing.T) {
	const callback = "http://localhost:8080/link/callback"
	emu := lwatest.New(lwatest.Options{ClientID: "amzn1.application-oa2-client.test", ReturnURLs: []string{callback}})
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	dir := t.TempDir()
	wl, err := NewWebLinker(Config{ClientID: "amzn1.application-oa2-client.test", ProductID: "avshub_test", SerialNumber: "hub-serial-1",
		DataDir: dir, BaseURL: srv.URL}, "")
	if err != nil {
		t.Fatal(err)
	}
	start, state, err := wl.Start(callback)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(start)
	q := u.Query()
	if u.Path != lwatest.AuthorizePath || q.Get("scope") != "alexa:all" || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		!strings.Contains(q.Get("scope_data"), `"productID":"avshub_test"`) || !strings.Contains(q.Get("scope_data"), `"deviceSerialNumber":"hub-serial-1"`) ||
		q.Get("redirect_uri") != callback || q.Get("code_verifier") != "" || q.Get("state") != state || len(state) < 32 {
		t.Fatalf("authorize URL %s", start)
	}
	back := webConsent(t, start, true)
	if back.Get("state") != q.Get("state") || back.Get("code") == "" {
		t.Fatalf("callback %v", back)
	}
	if err := wl.Finish(context.Background(), back.Get("state"), back.Get("code")); err != nil {
		t.Fatalf("finishing the link: %v", err)
	}
	st, err := newStore(dir).load()
	if err != nil || st.Source != SourceWeb || !emu.ValidRefreshToken(st.RefreshToken) {
		t.Fatalf("stored %+v %v", st, err)
	}
	if err := wl.Finish(context.Background(), back.Get("state"), back.Get("code")); !errors.Is(err, ErrUnknownLinkState) {
		t.Errorf("a state used twice: %v", err)
	}

	// A wrong verifier: LWA refuses the code.
	start, _, _ = wl.Start(callback)
	back = webConsent(t, start, true)
	wl.mu.Lock()
	l := wl.pending[back.Get("state")]
	l.verifier = randomURLSafe(48)
	wl.pending[back.Get("state")] = l
	wl.mu.Unlock()
	if err := wl.Finish(context.Background(), back.Get("state"), back.Get("code")); err == nil || !strings.Contains(err.Error(), "code verifier does not match") {
		t.Errorf("a wrong verifier: %v", err)
	}
	// Cancel on the consent page.
	start, _, _ = wl.Start(callback)
	if back = webConsent(t, start, false); back.Get("error") != "access_denied" || back.Get("code") != "" {
		t.Errorf("cancelled consent came back with %v", back)
	}
	if !wl.Cancel(back.Get("state")) || wl.Cancel(back.Get("state")) {
		t.Errorf("cancelling a waiting link: the first Cancel must find it, the second not")
	}
	// A return URL the profile does not list is refused by the authorize page.
	start, _, _ = wl.Start("http://hub.lan:8080/link/callback")
	if resp, err := http.Get(start); err != nil || resp.StatusCode != 400 {
		t.Errorf("an unregistered return URL: %v %v", resp.Status, err)
	}
}

// refreshWatcher calls during for every refresh_token request it carries.
type refreshWatcher struct {
	during func()
}

func (rw refreshWatcher) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		if form, _ := url.ParseQuery(string(b)); form.Get("grant_type") == "refresh_token" {
			rw.during()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestLinkStoresOnlyTestedTokens: while a new link tests its refresh token,
// the token file does not hold that token (a running hub takes up whatever
// the file holds; refreshing it too, against an LWA that rotates refresh
// tokens, one of the two was told the authorization is invalid, and a link
// from the page left the hub "needs to be linked again"). Afterwards the file
// holds the token the test returned, which LWA accepts.
func TestLinkStoresOnlyTestedTokens(t *testing.T) {
	const callback = "http://localhost:8080/link/callback"
	emu := lwatest.New(lwatest.Options{ClientID: "amzn1.application-oa2-client.test", ReturnURLs: []string{callback}})
	srv := httptest.NewServer(emu.Handler())
	defer srv.Close()
	dir := t.TempDir()
	var during []string
	client := &http.Client{Transport: refreshWatcher{during: func() {
		st, err := newStore(dir).load()
		if err != nil {
			during = append(during, "unreadable: "+err.Error())
			return
		}
		during = append(during, st.RefreshToken)
	}}}
	wl, err := NewWebLinker(Config{ClientID: "amzn1.application-oa2-client.test", ProductID: "avshub_test", SerialNumber: "hub-serial-1",
		DataDir: dir, BaseURL: srv.URL, HTTPClient: client}, "")
	if err != nil {
		t.Fatal(err)
	}
	start, _, err := wl.Start(callback)
	if err != nil {
		t.Fatal(err)
	}
	back := webConsent(t, start, true)
	if err := wl.Finish(context.Background(), back.Get("state"), back.Get("code")); err != nil {
		t.Fatalf("finishing the link: %v", err)
	}
	if len(during) != 1 || during[0] != "" {
		t.Errorf("while its refresh token was tested the token file held %q, want no token", during)
	}
	st, err := newStore(dir).load()
	if err != nil || !emu.ValidRefreshToken(st.RefreshToken) {
		t.Fatalf("stored %+v %v: want the token the test returned", st, err)
	}
}
