// Package web serves what a person or a tool looks at on a running hub: the
// status page (server-rendered, live via server-sent events), /metrics,
// /healthz, /readyz and the local JSON API that the avshub CLI uses over a
// unix socket.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
)

// Status is the hub's state as the status page, the API and the CLI show it.
type Status struct {
	Version   string         `json:"version"`
	StartedAt time.Time      `json:"startedAt"`
	Ready     bool           `json:"ready"`
	AVS       AVSStatus      `json:"avs"`
	Link      LinkStatus     `json:"link"`
	Bridges   []BridgeStatus `json:"bridges"`
	MQTT      MQTTStatus     `json:"mqtt"`
	Endpoints int            `json:"endpoints"`
	// LeftOut lists endpoints not published to Alexa (over the 300 limit): the
	// first MaxLeftOut of LeftOutCount.
	LeftOut      []string `json:"leftOut,omitempty"`
	LeftOutCount int      `json:"leftOutCount,omitempty"`
}

// AVSStatus is the AVS connection's state.
type AVSStatus struct {
	State    string       `json:"state"`
	Since    time.Time    `json:"since"`
	Gateway  string       `json:"gateway"`
	LastPing time.Time    `json:"lastPing,omitzero"`
	Queued   int          `json:"queued"`
	History  []Transition `json:"history,omitempty"`
}

// Transition is one change of the AVS connection's state.
type Transition struct {
	At     time.Time `json:"at"`
	State  string    `json:"state"`
	Reason string    `json:"reason,omitempty"`
}

// LinkStatus is the Login with Amazon state.
type LinkStatus struct {
	Linked      bool      `json:"linked"`
	NeedsRelink bool      `json:"needsRelink"`
	Reason      string    `json:"reason,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
	// LinkPage is the status page whose Link with Amazon button links the
	// hub (unlinked hubs with a status page only).
	LinkPage string `json:"linkPage,omitempty"`
}

// BridgeStatus is one bridge's state.
type BridgeStatus struct {
	Name        string `json:"name"`
	State       string `json:"state"`
	Health      string `json:"health"`
	Description string `json:"description,omitempty"`
	Restarts    int    `json:"restarts"`
	LastError   string `json:"lastError,omitempty"`
	Pairing     bool   `json:"pairing"`
	Endpoints   int    `json:"endpoints"`
	PID         int    `json:"pid,omitempty"`
}

// MQTTStatus is the broker the hub uses.
type MQTTStatus struct {
	Broker   string `json:"broker,omitempty"`
	Embedded bool   `json:"embedded"`
	// Anonymous is set when the embedded broker takes clients without a login:
	// any local process may then control devices and add endpoints.
	Anonymous bool `json:"anonymous,omitempty"`
}

// Endpoint is one endpoint with its live state and recent events. Its JSON
// keys are lowerCamelCase, like every other key of the API.
type Endpoint struct {
	Endpoint  model.Endpoint `json:"endpoint"`
	State     model.State    `json:"state"`
	Reachable bool           `json:"reachable"`
	Updated   time.Time      `json:"updated,omitzero"`
	// Link is the radio link as the bridge last reported it (quality, last
	// seen), when the bridge knows it.
	Link *model.Link `json:"link,omitempty"`
	// Settings are what a person set on the hub (name, area, hidden).
	Settings discovery.Settings `json:"settings,omitzero"`
	Recent   []EventLine        `json:"recent,omitempty"`
}

// EndpointOf returns the web view of a registry entry.
func EndpointOf(e discovery.Entry, recent []EventLine) Endpoint {
	return Endpoint{Endpoint: e.Endpoint, State: e.State, Reachable: e.Reachable, Updated: e.Updated, Link: e.Link.Clone(), Settings: e.Settings, Recent: recent}
}

// EventLine is one recent event of an endpoint.
type EventLine struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// Page is one page of endpoints in endpoint-id order (GET
// /api/v1/endpoints?limit=N&after=ID): Next is the after of the next page, empty
// on the last; Total is how many endpoints the hub holds.
type Page struct {
	Endpoints []Endpoint `json:"endpoints"`
	Next      string     `json:"next,omitempty"`
	Total     int        `json:"total"`
}

// MaxLeftOut is how many left-out endpoint ids Status lists.
const MaxLeftOut = 100

// DefaultPageSize and MaxPageSize bound a page of endpoints.
const (
	DefaultPageSize = 500
	MaxPageSize     = 2000
)

// Pager is a Source that can page through its endpoints without listing them
// all (the hub; a Source without it is paged from Endpoints).
type Pager interface {
	EndpointPage(after string, limit int) Page
}

// Source is what the web layer reads from and acts on: the hub.
type Source interface {
	Status() Status
	Endpoints() []Endpoint
	// Changes signals (coalesced) that something shown changed; closed when ctx ends.
	Changes(ctx context.Context) <-chan struct{}
	Pair(ctx context.Context, bridge string, d time.Duration) error
}

// Revisioner is a Source that names the state the page shows: Revision
// changes whenever Changes would signal. The page then refreshes when its live
// stream opens only if the hub changed since the page (or its last refresh)
// was rendered; without it the page refreshes every time the stream opens.
type Revisioner interface {
	Revision() string
}

// RevisionHeader carries the revision of a /fragment response.
const RevisionHeader = "X-Avshub-Revision"

//go:embed templates/*.html
var templates embed.FS

// pageTmpl returns the page's templates, parsed on first use rather than by
// the package's initialiser: every process of the one executable runs the
// initialisers, and a bundled bridge, which never renders a page, paid
// 0.3 MB of heap for them (GODEBUG=inittrace=1; issue 19 point 3). The
// package's tests render every template, so a broken one still fails them.
var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"since":  since,
		"ago":    Ago,
		"traits": func(t model.Traits) []string { return t.Names() },
		"state":  StateText,
		"lower":  strings.ToLower,
		// bridgeTrouble: a bridge's last error in words (the error itself goes
		// behind "Technical details").
		"bridgeTrouble": BridgeTrouble,
	}).Funcs(deviceFuncs).Funcs(pairingFuncs).ParseFS(templates, "templates/*.html"))
})

// Server serves the status page, metrics, health and the JSON API.
type Server struct {
	src   Source
	reg   *prometheus.Registry
	log   *slog.Logger
	hosts []string // host names answered besides IPs and localhost (AllowHosts)

	linker    Linker // nil: no Link with Amazon on the page (EnableLinking)
	publicURL string // status.publicUrl without a trailing slash
}

// New returns a server over src; reg may be nil (no /metrics).
func New(src Source, reg *prometheus.Registry, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{src: src, reg: reg, log: log}
}

// Handler returns the full handler: page, SSE, metrics, health and API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /fragment", s.fragment)
	mux.HandleFunc("GET /device/{id}", s.devicePage)
	mux.HandleFunc("GET /logs", s.logPage)
	mux.HandleFunc("GET /live", s.live)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", s.ready)
	s.linkRoutes(mux)
	if s.reg != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	}
	s.api(mux)
	return securityHeaders(s.guard(mux))
}

// Snapshotter is a Source that can write a consistent copy of its database
// (for `avshub backup` while the hub runs).
type Snapshotter interface {
	// SnapshotDB writes the database to w and returns its size and file name.
	SnapshotDB(w io.Writer) (int64, error)
	// DBName is the database's file name inside the data directory.
	DBName() string
}

// APIHandler returns the JSON API only (for the unix socket), with the
// database snapshot only the socket's owner may take.
func (s *Server) APIHandler() http.Handler {
	mux := http.NewServeMux()
	s.api(mux)
	if snap, ok := s.src.(Snapshotter); ok {
		mux.HandleFunc("GET /api/v1/backup/db", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("X-Avshub-Db-Name", snap.DBName())
			if _, err := snap.SnapshotDB(w); err != nil {
				// Headers are gone: cut the stream so that the client sees a short body.
				s.log.Error("database snapshot for a backup failed", "err", err)
				panic(http.ErrAbortHandler)
			}
		})
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	return mux
}

func (s *Server) api(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/status", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, s.src.Status()) })
	mux.HandleFunc("GET /api/v1/endpoints", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Has("limit") || q.Has("after") {
			limit := DefaultPageSize
			if v := q.Get("limit"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > MaxPageSize {
					writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("limit must be 1 to %d", MaxPageSize)})
					return
				}
				limit = n
			}
			writeJSON(w, http.StatusOK, s.endpointPage(q.Get("after"), limit))
			return
		}
		writeJSON(w, http.StatusOK, s.src.Endpoints())
	})
	mux.HandleFunc("GET /api/v1/logs", s.logs)
	mux.HandleFunc("POST /api/v1/bridges/{name}/pair", s.pair)
	mux.HandleFunc("POST /api/v1/endpoints/{ref}/settings", s.configure)
	mux.HandleFunc("POST /api/v1/endpoints/{ref}/command", s.command)
	s.pairingAPI(mux)
}

// Configurer is a Source whose endpoints people can rename, place in an area
// and hide from Alexa or the dashboards.
type Configurer interface {
	Configure(id string, p discovery.SettingsPatch) error
}

// Resolve finds the endpoint ref names: its id, its friendly name (any case),
// or its device id when that is unique. The error says what matched.
func Resolve(eps []Endpoint, ref string) (Endpoint, error) {
	var byName, byDevice []Endpoint
	for _, e := range eps {
		if e.Endpoint.ID == ref {
			return e, nil
		}
		if strings.EqualFold(e.Endpoint.FriendlyName, ref) {
			byName = append(byName, e)
		}
		if e.Endpoint.DeviceID == ref || e.Endpoint.Bridge+"_"+e.Endpoint.DeviceID == ref {
			byDevice = append(byDevice, e)
		}
	}
	for _, m := range [][]Endpoint{byName, byDevice} {
		switch len(m) {
		case 0:
		case 1:
			return m[0], nil
		default:
			var ids []string
			for _, e := range m {
				ids = append(ids, e.Endpoint.ID)
			}
			return Endpoint{}, fmt.Errorf("%q names %d endpoints: use the endpoint id (%s)", ref, len(m), strings.Join(ids, ", "))
		}
	}
	return Endpoint{}, fmt.Errorf("no endpoint %q: give its id or its name (avshub endpoints lists them)", ref)
}

// configure changes an endpoint's settings: POST {"name":…, "area":…,
// "hiddenFromAlexa":…, "hiddenFromDashboards":…} (fields left out stay).
func (s *Server) configure(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Avshub") == "" {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "missing X-Avshub header"})
		return
	}
	cf, ok := s.src.(Configurer)
	if !ok {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "this hub cannot change endpoint settings"})
		return
	}
	var p discovery.SettingsPatch
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "the body must be JSON with name, area, hiddenFromAlexa or hiddenFromDashboards: " + err.Error()})
		return
	}
	ep, err := Resolve(s.src.Endpoints(), r.PathValue("ref"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	}
	if err := cf.Configure(ep.Endpoint.ID, p); err != nil {
		code := http.StatusInternalServerError
		var de *model.Error
		if errors.As(err, &de) && (de.Kind == model.ErrInvalidValue || de.Kind == model.ErrNotSupported) {
			code = http.StatusBadRequest
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	after, _ := Resolve(s.src.Endpoints(), ep.Endpoint.ID)
	writeJSON(w, http.StatusOK, after)
}

func (s *Server) pair(w http.ResponseWriter, r *http.Request) {
	// A custom header cannot be sent by a cross-site form: this keeps the
	// page's pairing button from being triggered by another site.
	if r.Header.Get("X-Avshub") == "" {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "missing X-Avshub header"})
		return
	}
	d := 60 * time.Second
	if v := r.URL.Query().Get("for"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d <= 0 || d > 10*time.Minute {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "for: a duration up to 10m, like 60s"})
			return
		}
	}
	name := r.PathValue("name")
	if err := s.src.Pair(r.Context(), name, d); err != nil {
		code := http.StatusBadGateway
		var de *model.Error
		if errors.As(err, &de) && de.Kind == model.ErrNotSupported {
			code = http.StatusBadRequest
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	s.log.Info("pairing started", "bridge", name, "for", d)
	writeJSON(w, http.StatusOK, map[string]string{"bridge": name, "for": d.String()})
}

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	st := s.src.Status()
	if !st.Ready {
		http.Error(w, "not ready: AVS "+st.AVS.State, http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// endpointPage pages through the source's endpoints in id order.
func (s *Server) endpointPage(after string, limit int) Page {
	if p, ok := s.src.(Pager); ok {
		return p.EndpointPage(after, limit)
	}
	eps := s.src.Endpoints()
	sort.Slice(eps, func(i, j int) bool { return eps[i].Endpoint.ID < eps[j].Endpoint.ID })
	i := sort.Search(len(eps), func(i int) bool { return eps[i].Endpoint.ID > after })
	end := min(i+limit, len(eps))
	pg := Page{Endpoints: eps[i:end], Total: len(eps)}
	if end < len(eps) && end > i {
		pg.Next = eps[end-1].Endpoint.ID
	}
	return pg
}

type pageData struct {
	Status    Status
	Endpoints []Endpoint
	Now       time.Time
	// Pairing are the bridges' pairing sessions (the pairing panel).
	Pairing []PairingSession
	// CanLink shows the Link with Amazon button while the hub is not linked.
	CanLink bool
	// Flash is the message after a link ended (the page only).
	Flash linkFlash
	// Revision is the Source's revision read before the rest ("" without a
	// Revisioner): a change while the page renders makes the page older than
	// the hub, never newer.
	Revision string
}

func (s *Server) revision() string {
	if rv, ok := s.src.(Revisioner); ok {
		return rv.Revision()
	}
	return ""
}

func (s *Server) data() pageData {
	rev := s.revision()
	eps := s.src.Endpoints()
	sort.Slice(eps, func(i, j int) bool { return eps[i].Endpoint.FriendlyName < eps[j].Endpoint.FriendlyName })
	d := pageData{Status: s.src.Status(), Endpoints: eps, Now: time.Now(), CanLink: s.linker != nil, Revision: rev}
	if ps, ok := s.src.(PairingSource); ok {
		d.Pairing = ps.Pairing()
	}
	return d
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	d := s.data()
	d.Flash = linkFlashFor(r)
	if err := pageTmpl().ExecuteTemplate(w, "page.html", d); err != nil {
		s.log.Error("status page", "err", err)
	}
}

func (s *Server) fragment(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	d := s.data()
	if d.Revision != "" {
		w.Header().Set(RevisionHeader, d.Revision)
	}
	if err := pageTmpl().ExecuteTemplate(w, "body", d); err != nil {
		s.log.Error("status fragment", "err", err)
	}
}

// live streams a server-sent event each time something shown changes. A
// Revisioner's stream starts with "event: hello" carrying the revision as of
// the subscription ({"revision": "..."}): the page refreshes only if it
// differs from the one it shows, and every later change is an
// "event: changed".
func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := s.src.Changes(r.Context()) // subscribed before the revision is read
	var hello string
	if rev := s.revision(); rev != "" {
		b, _ := json.Marshal(map[string]string{"revision": rev})
		hello = "event: hello\ndata: " + string(b)
	}
	streamEvents(w, fl, r, "live", hello, ch, func(struct{}) string { return "event: changed\ndata: {}" })
}

// streamEvents serves ch as server-sent events until the request or ch ends:
// first, if not "", is the first event, event renders one value as its lines
// ("" skips it), and a comment every 25 s keeps proxies and browsers from
// closing an idle stream.
func streamEvents[T any](w http.ResponseWriter, fl http.Flusher, r *http.Request, name, first string, ch <-chan T, event func(T) string) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprintf(w, ": %s\n\n", name)
	if first != "" {
		fmt.Fprintf(w, "%s\n\n", first)
	}
	fl.Flush()
	keep := time.NewTicker(25 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case v, ok := <-ch:
			if !ok {
				return
			}
			e := event(v)
			if e == "" {
				continue
			}
			fmt.Fprintf(w, "%s\n\n", e)
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		}
		fl.Flush()
	}
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'")
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// ListenUnix listens on a unix socket only the owner can use (0600), replacing a
// stale socket file left by a previous run.
func ListenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("local API socket: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("local API socket %s: another avshub is running", path)
	}
	_ = os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("local API socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("local API socket: %w", err)
	}
	return l, nil
}

// Serve serves h on l until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, l net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-errc
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// Ago says how long ago t was in the words of the page and the CLI ("just
// now", "40 s ago", "2 min ago", "3 h ago", "2 days ago"; "never" for zero).
func Ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
}

// LastSeen is when the endpoint's device was last heard from: its bridge's
// link report, else its last change.
func (e Endpoint) LastSeen() time.Time {
	if e.Link != nil && !e.Link.LastSeen.IsZero() {
		return e.Link.LastSeen
	}
	return e.Updated
}

// SignalText is the link quality in words ("72 %"), empty when unknown.
func (e Endpoint) SignalText() string {
	if e.Link == nil || e.Link.Quality == nil {
		return ""
	}
	return fmt.Sprintf("%d %%", *e.Link.Quality)
}

func since(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t).Round(time.Second)
	if d < time.Second {
		return "just now"
	}
	return d.String() + " ago"
}

// StateText renders a state compactly for people ("on, 40%, 2700 K"), each
// trait in its own words (trait_<kind>.go).
func StateText(s model.State) string {
	var p []string
	for _, w := range orderedWords() {
		p = append(p, w.text(s)...)
	}
	if len(p) == 0 {
		return "—"
	}
	return strings.Join(p, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}
