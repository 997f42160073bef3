package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Linker links the hub to an Amazon account from the status page, as AVS's
// companion website does (gateway/lwa's WebLinker through the hub).
type Linker interface {
	// StartLink begins a link whose callback is redirectURI: it returns Login
	// with Amazon's authorize URL and the link's single-use state.
	StartLink(redirectURI string) (authorizeURL, state string, err error)
	// FinishLink exchanges the code the callback brought for tokens and stores
	// them; an error wrapping ErrLinkState means the state is not waiting.
	FinishLink(ctx context.Context, state, code string) error
	// CancelLink forgets a link the person cancelled on Amazon's page.
	CancelLink(state string)
}

// ErrLinkState is wrapped by FinishLink's error for a state this hub did not
// hand out, handed out too long ago, or already used.
var ErrLinkState = errors.New("unknown or used link state")

// Link routes and the cookie that binds a link to the browser that began it.
const (
	LinkStartPath    = "/link/start"
	LinkCallbackPath = "/link/callback"
	linkCookie       = "avshub_link"
	linkCookieLife   = 10 * time.Minute
)

// linkMessages are what the page says after a link ends (?link=KEY): fixed
// text, never anything the request carried.
var linkMessages = map[string]struct{ Text, Class string }{
	"ok":        {"Linked with Amazon. The hub is connecting to Alexa.", "ok"},
	"already":   {"This hub is already linked with Amazon.", "ok"},
	"denied":    {"Not linked: the link was cancelled on Amazon's page. Press Link with Amazon to try again.", "warn"},
	"expired":   {"Not linked: this sign-in was not started from this browser, was already used, or took more than 10 minutes. Press Link with Amazon to try again.", "bad"},
	"refused":   {"Not linked: Amazon refused the request. Check lwa.clientId, hub.productId and that this page's address is an Allowed Return URL of the security profile (the hub's log has the details).", "bad"},
	"failed":    {"Not linked: the hub could not finish the link with Amazon (the hub's log has the details). Press Link with Amazon to try again.", "bad"},
	"busy":      {"Not linked: too many sign-ins are waiting. Finish one, or wait ten minutes.", "bad"},
	"elsewhere": {"Amazon sends you back to this address: press Link with Amazon here.", "warn"},
}

// linkFlash is the page's message for ?link=KEY ("" for none or an unknown key).
type linkFlash struct{ Text, Class string }

func linkFlashFor(r *http.Request) linkFlash {
	m, ok := linkMessages[r.URL.Query().Get("link")]
	if !ok {
		return linkFlash{}
	}
	return linkFlash(m)
}

// EnableLinking adds the Link with Amazon button and its routes (start and
// callback) to the status page. publicURL, when set, is the address people
// open the page at (status.publicUrl): the callback is publicURL +
// LinkCallbackPath; otherwise it is the address the page was opened at.
// It must be called before Handler.
func (s *Server) EnableLinking(l Linker, publicURL string) {
	s.linker = l
	s.publicURL = strings.TrimRight(publicURL, "/")
	if u, err := url.Parse(s.publicURL); err == nil && u.Hostname() != "" {
		s.AllowHosts(u.Hostname())
	}
}

// linkRoutes serves the link routes on the page's mux (behind guard: the
// Host check for both, the cross-origin check for the POST).
func (s *Server) linkRoutes(mux *http.ServeMux) {
	if s.linker == nil {
		return
	}
	mux.HandleFunc("POST "+LinkStartPath, s.linkStart)
	mux.HandleFunc("GET "+LinkCallbackPath, s.linkCallback)
}

// back sends the browser to the page with a message.
func back(w http.ResponseWriter, r *http.Request, key string) {
	http.Redirect(w, r, "/?link="+key, http.StatusSeeOther)
}

// linkStart begins a link: a POST from the page's form (guard refuses it from
// any other site), answered by a redirect to Login with Amazon.
func (s *Server) linkStart(w http.ResponseWriter, r *http.Request) {
	if st := s.src.Status().Link; st.Linked && !st.NeedsRelink {
		back(w, r, "already")
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	redirect := scheme + "://" + r.Host + LinkCallbackPath
	if s.publicURL != "" {
		pu, _ := url.Parse(s.publicURL)
		if !strings.EqualFold(pu.Host, r.Host) {
			// The cookie below belongs to this address; Amazon returns to the other.
			http.Redirect(w, r, s.publicURL+"/?link=elsewhere", http.StatusSeeOther)
			return
		}
		redirect = s.publicURL + LinkCallbackPath
		scheme = pu.Scheme
	}
	authorize, state, err := s.linker.StartLink(redirect)
	if err != nil {
		s.log.Warn("link with amazon: cannot start", "err", err)
		back(w, r, "busy")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: linkCookie, Value: state, Path: "/link/", MaxAge: int(linkCookieLife / time.Second),
		HttpOnly: true, Secure: scheme == "https", SameSite: http.SameSiteLaxMode})
	s.log.Info("link with amazon: sending the browser to Login with Amazon", "return_url", redirect)
	http.Redirect(w, r, authorize, http.StatusSeeOther)
}

// linkCallback is where Login with Amazon sends the browser back: the state
// must be one this hub handed out to this very browser (its cookie), and is
// used once; the code is exchanged for tokens with the verifier, which never
// left the hub.
func (s *Server) linkCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	http.SetCookie(w, &http.Cookie{Name: linkCookie, Value: "", Path: "/link/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	c, err := r.Cookie(linkCookie)
	if state == "" || err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		s.log.Warn("link with amazon: a callback whose state this browser was not given; ignored", "remote", r.RemoteAddr)
		back(w, r, "expired")
		return
	}
	if e := q.Get("error"); e != "" {
		s.linker.CancelLink(state)
		if e == "access_denied" {
			s.log.Info("link with amazon: cancelled on Amazon's page")
			back(w, r, "denied")
			return
		}
		s.log.Warn("link with amazon: Login with Amazon refused the request", "error", e, "description", q.Get("error_description"))
		back(w, r, "refused")
		return
	}
	if err := s.linker.FinishLink(r.Context(), state, q.Get("code")); err != nil {
		if errors.Is(err, ErrLinkState) {
			s.log.Warn("link with amazon: a callback for a link that is not waiting (used, or older than 10 minutes)")
			back(w, r, "expired")
			return
		}
		s.log.Error("link with amazon: finishing the link failed", "err", err)
		back(w, r, "failed")
		return
	}
	s.log.Info("link with amazon: linked from the status page")
	back(w, r, "ok")
}
