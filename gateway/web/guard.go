package web

import (
	"net"
	"net/http"
	"strings"
)

// AllowHosts adds host names the status page answers to besides IP addresses
// and localhost (for example the name it is reached by on the LAN). It must be
// called before Handler.
func (s *Server) AllowHosts(names ...string) {
	for _, n := range names {
		if n = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), ".")); n != "" {
			s.hosts = append(s.hosts, n)
		}
	}
}

// hostAllowed reports whether a request's Host header names this hub: an IP
// address (a DNS rebinding attack needs a name it controls), localhost, or a
// configured name.
func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" {
		return false
	}
	if net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, n := range s.hosts {
		if host == n {
			return true
		}
	}
	return false
}

// guard protects the status page's TCP listener against DNS rebinding and
// cross-site requests: a request whose Host is not an allowed name gets 421
// (Misdirected Request), whatever its method, and a state-changing request
// (any method but GET, HEAD, OPTIONS) must come from the page itself
// (Sec-Fetch-Site same-origin or none, else an Origin equal to the Host).
func (s *Server) guard(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.log.Warn("status page: cross-origin request refused", "method", r.Method, "path", r.URL.Path,
			"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"), "remote", r.RemoteAddr)
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin request refused"})
	}))
	protected := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			s.log.Warn("status page: request for an unknown host name refused (DNS rebinding?); add it to status.allowedHosts if it is this hub's",
				"host", r.Host, "path", r.URL.Path, "remote", r.RemoteAddr)
			http.Error(w, "421 misdirected request: this hub does not answer to the host name "+r.Host+
				" (allowed: IP addresses, localhost and status.allowedHosts)", http.StatusMisdirectedRequest)
			return
		}
		protected.ServeHTTP(w, r)
	})
}
