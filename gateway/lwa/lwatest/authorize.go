package lwatest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
)

// pkceChallenge is the S256 code challenge of a verifier (RFC 7636).
func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

var consentPage = template.Must(template.New("").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Amazon Sign-In (emulated)</title></head>
<body><main><h1>Allow this device to use Alexa?</h1>
<p>Product <strong id="product">{{.Product}}</strong>, serial number <strong id="serial">{{.Serial}}</strong>, asks for Alexa (alexa:all).</p>
<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<button type="submit" id="allow" name="decision" value="allow">Allow</button>
<button type="submit" id="deny" name="decision" value="deny">Cancel</button>
</form></main></body></html>`))

// returnURLAllowed applies the security profile's Allowed Return URLs.
func (s *Server) returnURLAllowed(raw string) bool {
	if len(s.opts.ReturnURLs) > 0 {
		return slices.Contains(s.opts.ReturnURLs, raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1"))
}

// serveAuthorize is LWA's authorize page for AVS (response_type code,
// scope alexa:all with scope_data, PKCE S256): it checks the request and
// shows a consent page whose Allow button a browser test presses.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.checkClient(w, q.Get("client_id")) {
		return
	}
	var sd struct {
		All struct {
			ProductID  string `json:"productID"`
			Attributes struct {
				Serial string `json:"deviceSerialNumber"`
			} `json:"productInstanceAttributes"`
		} `json:"alexa:all"`
	}
	switch {
	case q.Get("response_type") != "code":
		writeError(w, http.StatusBadRequest, "unsupported_response_type", "The response_type must be code")
	case q.Get("scope") != "alexa:all":
		writeError(w, http.StatusBadRequest, "invalid_scope", "The scope must be alexa:all")
	case json.Unmarshal([]byte(q.Get("scope_data")), &sd) != nil || sd.All.ProductID == "" || sd.All.Attributes.Serial == "":
		writeError(w, http.StatusBadRequest, "invalid_scope", "The scope_data must carry the productID and deviceSerialNumber")
	case !s.returnURLAllowed(q.Get("redirect_uri")):
		writeError(w, http.StatusBadRequest, "invalid_request", "The redirect_uri is not an Allowed Return URL of the security profile")
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		writeError(w, http.StatusBadRequest, "invalid_request", "The code_challenge must be an S256 challenge")
	default:
		hidden := map[string]string{}
		for _, k := range []string{"client_id", "redirect_uri", "state", "code_challenge"} {
			hidden[k] = q.Get(k)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = consentPage.Execute(w, map[string]any{"Product": sd.All.ProductID, "Serial": sd.All.Attributes.Serial, "Action": ConsentPath, "Hidden": hidden})
	}
}

// serveConsent takes the consent page's answer and sends the browser back
// to the redirect_uri with a code (Allow) or error=access_denied (Cancel).
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	form, ok := s.parseForm(w, r)
	if !ok {
		return
	}
	redirect := form.Get("redirect_uri")
	if !s.returnURLAllowed(redirect) || form.Get("code_challenge") == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "The consent form is incomplete")
		return
	}
	back := url.Values{"state": {form.Get("state")}}
	if form.Get("decision") == "allow" {
		s.mu.Lock()
		code := "ANSi" + randHex(16)
		s.codes[code] = grantCode{clientID: form.Get("client_id"), user: s.opts.UserID, expiry: s.opts.Now().Add(s.opts.GrantCodeLifetime),
			challenge: form.Get("code_challenge"), redirect: redirect}
		s.mu.Unlock()
		back.Set("code", code)
		back.Set("scope", "alexa:all")
	} else {
		back.Set("error", "access_denied")
		back.Set("error_description", "The user denied the request")
	}
	http.Redirect(w, r, redirect+"?"+back.Encode(), http.StatusFound)
}
