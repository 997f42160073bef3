package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/avshub/avshub/gateway/lwa"
	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

// webLinker is the hub's Linker over lwa's WebLinker: it marks the link as
// linked in the source once the tokens are stored.
type webLinker struct {
	wl  *lwa.WebLinker
	src *hubSource
}

func (l webLinker) StartLink(redirect string) (string, string, error) { return l.wl.Start(redirect) }
func (l webLinker) CancelLink(state string)                           { l.wl.Cancel(state) }
func (l webLinker) FinishLink(ctx context.Context, state, code string) error {
	if err := l.wl.Finish(ctx, state, code); err != nil {
		if errors.Is(err, lwa.ErrUnknownLinkState) {
			return fmt.Errorf("%w: %w", ErrLinkState, err)
		}
		return err
	}
	l.src.mu.Lock()
	l.src.status.Link = LinkStatus{Linked: true}
	l.src.mu.Unlock()
	return nil
}

// linkRig is a status page with linking enabled against the LWA emulator.
type linkRig struct {
	t    *testing.T
	src  *hubSource
	page *httptest.Server
	emu  *lwatest.Server
	lwa  *httptest.Server
	dir  string
}

func newLinkRig(t *testing.T) *linkRig {
	t.Helper()
	emu := lwatest.New(lwatest.Options{ClientID: "amzn1.application-oa2-client.webtest"})
	lsrv := httptest.NewServer(emu.Handler())
	t.Cleanup(lsrv.Close)
	dir := t.TempDir()
	wl, err := lwa.NewWebLinker(lwa.Config{ClientID: "amzn1.application-oa2-client.webtest", ProductID: "avshub_test", SerialNumber: "web-serial-1",
		DataDir: dir, BaseURL: lsrv.URL, Logger: slog.New(slog.DiscardHandler)}, "")
	if err != nil {
		t.Fatal(err)
	}
	src := newSource()
	src.status.Link = LinkStatus{}
	s := New(src, nil, slog.New(slog.DiscardHandler))
	s.EnableLinking(webLinker{wl: wl, src: src}, "")
	page := httptest.NewServer(s.Handler())
	t.Cleanup(page.Close)
	return &linkRig{t: t, src: src, page: page, emu: emu, lwa: lsrv, dir: dir}
}

// noFollow is a client that shows redirects instead of following them.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends a request to the page with headers (Host among them) and returns
// the status, the Location and the link cookie set, if any.
func (r *linkRig) do(method, path string, hdr map[string]string) (int, string, *http.Cookie) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.page.URL+path, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == linkCookie {
			c = k
		}
	}
	return resp.StatusCode, resp.Header.Get("Location"), c
}

// start presses Link with Amazon (a same-origin form POST) and returns the
// authorize URL and the cookie.
func (r *linkRig) start() (*url.URL, *http.Cookie) {
	r.t.Helper()
	code, loc, c := r.do("POST", LinkStartPath, map[string]string{"Sec-Fetch-Site": "same-origin"})
	u, err := url.Parse(loc)
	if code != http.StatusSeeOther || err != nil || c == nil {
		r.t.Fatalf("start: %d to %q, cookie %v", code, loc, c)
	}
	return u, c
}

// consent answers the emulator's consent page and returns the callback's
// path and query on the hub.
func (r *linkRig) consent(authorize *url.URL, decision string) string {
	r.t.Helper()
	q := authorize.Query()
	form := url.Values{"decision": {decision}}
	for _, k := range []string{"client_id", "redirect_uri", "state", "code_challenge"} {
		form.Set(k, q.Get(k))
	}
	resp, err := noFollow.PostForm(r.lwa.URL+lwatest.ConsentPath, form)
	if err != nil {
		r.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		r.t.Fatalf("consent: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.RequestURI()
}

func cookieHdr(c *http.Cookie) map[string]string {
	return map[string]string{"Cookie": c.Name + "=" + c.Value, "Sec-Fetch-Site": "cross-site"}
}

// TestLinkFromThePage: Link with Amazon sends the browser to LWA's authorize
// URL with the hub's own callback, binds the state to the browser with an
// HttpOnly SameSite=Lax cookie, and the callback (a cross-site navigation
// from Amazon) stores the tokens and says Linked on the page; the page then
// no longer offers the button.
func TestLinkFromThePage(t *testing.T) {
	r := newLinkRig(t)
	if _, body := get(t, r.page.URL+"/"); !strings.Contains(body, `id="link-amazon"`) || !strings.Contains(body, "Not linked to Amazon") {
		t.Fatalf("an unlinked hub's page offers no Link with Amazon:\n%s", body)
	}
	authorize, c := r.start()
	q := authorize.Query()
	if authorize.Path != lwatest.AuthorizePath || q.Get("redirect_uri") != r.page.URL+LinkCallbackPath || q.Get("state") != c.Value ||
		q.Get("code_verifier") != "" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/link/" {
		t.Fatalf("authorize URL %s, cookie %+v", authorize, c)
	}
	back := r.consent(authorize, "allow")
	code, loc, cleared := r.do("GET", back, cookieHdr(c))
	if code != http.StatusSeeOther || loc != "/?link=ok" || cleared == nil || cleared.MaxAge >= 0 {
		t.Fatalf("callback: %d to %q, cookie %+v", code, loc, cleared)
	}
	if st, err := lwa.LoadStatus(lwa.Config{ClientID: "x", DataDir: r.dir}); err != nil || !st.Linked || st.Source != lwa.SourceWeb {
		t.Fatalf("tokens stored: %+v %v", st, err)
	}
	_, body := get(t, r.page.URL+loc)
	if !strings.Contains(body, "Linked with Amazon.") || strings.Contains(body, `id="link-amazon"`) {
		t.Fatalf("the page after the link:\n%s", body)
	}
	if _, body := get(t, r.page.URL+"/?link=<script>"); strings.Contains(body, "link-message") {
		t.Error("an unknown ?link= value shows a message")
	}
	// Linked: pressing the button again (an old tab) changes nothing.
	if code, loc, _ := r.do("POST", LinkStartPath, map[string]string{"Sec-Fetch-Site": "same-origin"}); code != http.StatusSeeOther || loc != "/?link=already" {
		t.Errorf("start while linked: %d to %q", code, loc)
	}
}

// TestLinkCallbackRefusals: every callback that is not the answer to a link
// this browser began is refused with a message a person understands, and
// tokens are stored only for the genuine one.
func TestLinkCallbackRefusals(t *testing.T) {
	tests := []struct {
		name string
		// callback returns the request's path and headers from a fresh start.
		callback func(r *linkRig, authorize *url.URL, c *http.Cookie) (string, map[string]string)
		code     int
		want     string
	}{
		{"missing state", func(r *linkRig, a *url.URL, c *http.Cookie) (string, map[string]string) {
			u, _ := url.Parse(r.consent(a, "allow"))
			q := u.Query()
			q.Del("state")
			return LinkCallbackPath + "?" + q.Encode(), cookieHdr(c)
		}, http.StatusSeeOther, "/?link=expired"},
		{"guessed state with a matching cookie", func(r *linkRig, a *url.URL, c *http.Cookie) (string, map[string]string) {
			u, _ := url.Parse(r.consent(a, "allow"))
			q := u.Query()
			q.Set("state", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
			return LinkCallbackPath + "?" + q.Encode(), cookieHdr(&http.Cookie{Name: linkCookie, Value: q.Get("state")})
		}, http.StatusSeeOther, "/?link=expired"},
		{"another browser (no cookie)", func(r *linkRig, a *url.URL, c *http.Cookie) (string, map[string]string) {
			return r.consent(a, "allow"), map[string]string{"Sec-Fetch-Site": "cross-site"}
		}, http.StatusSeeOther, "/?link=expired"},
		{"cancelled on Amazon's page", func(r *linkRig, a *url.URL, c *http.Cookie) (string, map[string]string) {
			return r.consent(a, "deny"), cookieHdr(c)
		}, http.StatusSeeOther, "/?link=denied"},
		{"LWA error", func(r *linkRig, a *url.URL, c *http.Cookie) (string, map[string]string) {
			return LinkCallbackPath + "?" + url.Values{"state": {c.Value}, "error": {"invalid_scope"}, "error_description": {"<b>bad</b>"}}.Encode(), cookieHdr(c)
		}, http.StatusSeeOther, "/?link=refused"},
		{"code LWA does not know", func(r *linkRig, a *url.URL, c *http.Cookie) (string, map[string]string) {
			return LinkCallbackPath + "?" + url.Values{"state": {c.Value}, "code": {"ANSiforged"}}.Encode(), cookieHdr(c)
		}, http.StatusSeeOther, "/?link=failed"},
		{"wrong Host", func(r *linkRig, a *url.URL, c *http.Cookie) (string, map[string]string) {
			h := cookieHdr(c)
			h["Host"] = "evil.example"
			return r.consent(a, "allow"), h
		}, http.StatusMisdirectedRequest, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newLinkRig(t)
			authorize, c := r.start()
			path, hdr := tt.callback(r, authorize, c)
			code, loc, _ := r.do("GET", path, hdr)
			if code != tt.code || loc != tt.want {
				t.Fatalf("callback %s: %d to %q, want %d to %q", path, code, loc, tt.code, tt.want)
			}
			if st, err := lwa.LoadStatus(lwa.Config{ClientID: "x", DataDir: r.dir}); err != nil || st.Linked {
				t.Fatalf("tokens stored after a refused callback: %+v %v", st, err)
			}
			if _, body := get(t, r.page.URL+tt.want); tt.want != "" && !strings.Contains(body, `id="link-message"`) {
				t.Errorf("no message on the page for %s", tt.want)
			}
		})
	}
}

// TestLinkStateSingleUse: a callback replayed after it linked, or after a
// cancel, finds its state gone.
func TestLinkStateSingleUse(t *testing.T) {
	r := newLinkRig(t)
	authorize, c := r.start()
	back := r.consent(authorize, "allow")
	if code, loc, _ := r.do("GET", back, cookieHdr(c)); code != http.StatusSeeOther || loc != "/?link=ok" {
		t.Fatalf("first callback: %d to %q", code, loc)
	}
	r.src.mu.Lock()
	r.src.status.Link = LinkStatus{} // as if unlinked again: the replay must still fail
	r.src.mu.Unlock()
	if code, loc, _ := r.do("GET", back, cookieHdr(c)); code != http.StatusSeeOther || loc != "/?link=expired" {
		t.Fatalf("replayed callback: %d to %q", code, loc)
	}

	authorize, c = r.start()
	denied := r.consent(authorize, "deny")
	if _, loc, _ := r.do("GET", denied, cookieHdr(c)); loc != "/?link=denied" {
		t.Fatalf("cancel: %q", loc)
	}
	code := url.Values{"state": {c.Value}, "code": {"ANSianything"}}.Encode()
	if _, loc, _ := r.do("GET", LinkCallbackPath+"?"+code, cookieHdr(c)); loc != "/?link=expired" {
		t.Fatalf("a code for a cancelled link: %q", loc)
	}
}

// TestLinkStartGuarded: starting a link changes state, so it is refused from
// another site (Sec-Fetch-Site or Origin) and for a host name that is not
// the hub's (DNS rebinding); a GET does not start one.
func TestLinkStartGuarded(t *testing.T) {
	r := newLinkRig(t)
	for _, tt := range []struct {
		name   string
		method string
		hdr    map[string]string
		code   int
	}{
		{"cross-site form", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign origin", "POST", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"rebound host name", "POST", map[string]string{"Host": "evil.example:80", "Sec-Fetch-Site": "same-origin"}, http.StatusMisdirectedRequest},
		{"GET", "GET", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusMethodNotAllowed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, loc, c := r.do(tt.method, LinkStartPath, tt.hdr)
			if code != tt.code || c != nil || strings.Contains(loc, lwatest.AuthorizePath) {
				t.Fatalf("%d to %q with cookie %v, want %d and no link", code, loc, c, tt.code)
			}
		})
	}
}

// TestLinkPublicURL: with status.publicUrl, the callback is on that address;
// pressing the button on another address sends the person there first (the
// cookie must belong to the address Amazon returns to).
func TestLinkPublicURL(t *testing.T) {
	src := newSource()
	src.status.Link = LinkStatus{}
	var got string
	s := New(src, nil, slog.New(slog.DiscardHandler))
	s.EnableLinking(linkerFunc(func(redirect string) { got = redirect }), "https://hub.example.com/")
	page := httptest.NewServer(s.Handler())
	defer page.Close()
	r := &linkRig{t: t, page: page}
	if code, loc, c := r.do("POST", LinkStartPath, map[string]string{"Sec-Fetch-Site": "same-origin"}); code != http.StatusSeeOther ||
		loc != "https://hub.example.com/?link=elsewhere" || c != nil {
		t.Fatalf("start on the LAN address: %d to %q, cookie %v", code, loc, c)
	}
	code, _, c := r.do("POST", LinkStartPath, map[string]string{"Host": "hub.example.com", "Sec-Fetch-Site": "same-origin"})
	if code != http.StatusSeeOther || got != "https://hub.example.com/link/callback" || c == nil || !c.Secure {
		t.Fatalf("start on the public address: %d, return URL %q, cookie %+v", code, got, c)
	}
}

// linkerFunc records the return URL of StartLink.
type linkerFunc func(redirect string)

func (f linkerFunc) StartLink(redirect string) (string, string, error) {
	f(redirect)
	return "https://www.amazon.com/ap/oa?state=s", "s", nil
}
func (f linkerFunc) FinishLink(context.Context, string, string) error { return nil }
func (f linkerFunc) CancelLink(string)                                {}
