// Package hub wires avshub together: the store, the device registry, the
// Alexa profile, the router, the AVS connection and Login with Amazon, the bridge
// supervisors, the embedded MQTT broker and the dashboard publisher, and the
// status page. cmd/avshub and the end-to-end tests use it.
package hub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/cacerts"
	"github.com/avshub/avshub/gateway/alexa"
	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/dashboard"
	"github.com/avshub/avshub/gateway/dashboard/broker"
	"github.com/avshub/avshub/gateway/logging"
	"github.com/avshub/avshub/gateway/metrics"
	"github.com/avshub/avshub/gateway/router"
	"github.com/avshub/avshub/gateway/store"
	"github.com/avshub/avshub/gateway/web"
)

// Options are what the caller adds to the configuration.
type Options struct {
	// Version of the hub, shown in status and sent in dashboard origin blocks.
	Version string
	// Logs hands out per-component loggers (default: text on stderr at info).
	Logs *logging.Factory
	// Dev runs every bridge in dev mode (config.Bridge.Dev): rebuilt binaries are
	// adopted instead of refused.
	Dev bool
	// Self is the executable whose `bridge NAME` command serves the bundled
	// bridges (config.Bridge without a path); default: the hub's own
	// executable. Tests set it to a built avshub.
	Self string
}

// Hub is one running avshub.
type Hub struct {
	cfg     *config.Config
	opts    Options
	log     *slog.Logger
	metrics *metrics.Metrics
	store   *store.Bolt
	reg     *discovery.Registry
	manager *discovery.Manager
	profile alexa.Profile
	router  *router.Router
	conn    road
	web     *web.Server
	started time.Time

	bridges *bridgeSet
	recent  *recentEvents
	pairing *pairings

	mu       sync.Mutex
	brokerOn bool
	// recorder receives every dashboard message when dashboard.recordFile is set.
	recorder *os.File
}

// New builds a hub from cfg. Nothing runs until Run.
func New(cfg *config.Config, opts Options) (*Hub, error) {
	if opts.Logs == nil {
		opts.Logs = logging.New(os.Stderr, logging.Options{Level: slog.LevelInfo})
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	h := &Hub{cfg: cfg, opts: opts, log: opts.Logs.Root(), metrics: metrics.New(), started: time.Now(), recent: newRecentEvents(8),
		pairing: newPairings()}
	if err := os.MkdirAll(cfg.Hub.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := store.Open(cfg.Hub.DataDir, store.Options{Migrations: migrations})
	if err != nil {
		return nil, err
	}
	h.store = st
	adoptLegacyView(st, h.log)
	h.reg = discovery.NewRegistry(cfg.Hub.SerialNumber, discovery.WithStore(st), discovery.WithLogger(opts.Logs.For("discovery")),
		discovery.WithBridgeLimits(bridgeLimits(cfg.Bridges)))
	prof, err := alexa.ProfileByName(cfg.Hub.Profile, alexa.ProfileOptions{Locales: cfg.Hub.Locales})
	if err != nil {
		st.Close()
		return nil, err
	}
	h.profile = prof
	h.bridges = newBridgeSet(h)
	conn, err := newRoad(h)
	if err != nil {
		st.Close()
		return nil, err
	}
	h.conn = conn
	h.manager, err = discovery.NewManager(h.reg, discovery.ManagerOptions{
		Store:   st,
		Render:  prof.Endpoint,
		Static:  conn.static(),
		Logger:  opts.Logs.For("discovery"),
		Bridges: h.bridges.names(cfg),
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	h.router, err = router.New(router.Options{
		Registry:        h.reg,
		Profile:         prof,
		Bridges:         h.bridges,
		Events:          conn,
		Logger:          opts.Logs.For("router"),
		Metrics:         h.metrics,
		Timeout:         cfg.Router.Deadline,
		DeferredTimeout: cfg.Router.DeferredDeadline,
		CoalesceWindow:  cfg.Router.ChangeReportWindow,
		Unhandled:       conn.unhandled(),
		Store:           st,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	h.web = web.New(h, h.metrics.Registry, opts.Logs.For("web"))
	h.web.AllowHosts(cfg.Status.AllowedHosts...)
	if host, _, err := net.SplitHostPort(cfg.Status.Listen); err == nil {
		h.web.AllowHosts(host) // the name it was told to listen on
	}
	if c, ok := conn.(*connection); ok && c.linker != nil && cfg.Status.Listen != "off" {
		h.web.EnableLinking(c, cfg.Status.PublicURL)
	}
	return h, nil
}

// linkPage is the status page where a person links the hub ("" without one).
func (h *Hub) linkPage() string {
	if h.cfg.Status.PublicURL != "" {
		return strings.TrimRight(h.cfg.Status.PublicURL, "/") + "/"
	}
	host, port, err := net.SplitHostPort(h.cfg.Status.Listen)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// migrations upgrade older data directories (none yet: format 1 is the first).
var migrations []store.Migration

// legacyViewBucket is where hubs before the router kept what Alexa was told
// (the same encoding as router.StoreBucket).
const legacyViewBucket = "alexa-view"

// adoptLegacyView moves the record of what Alexa was told from the hub's
// former bucket to the router's, keeping the router's where both have an
// endpoint, then empties the old bucket. Adding a bucket changes no existing
// data, so the store's format version stays; an older hub reading this data
// directory finds its bucket empty and merely re-syncs nothing once. A
// failure is logged: the record only saves a re-sync after a restart.
func adoptLegacyView(st store.Store, log *slog.Logger) {
	old, err := st.List(legacyViewBucket)
	if err != nil || len(old) == 0 {
		if err != nil {
			log.Warn("cannot read the former record of what Alexa was told; ignoring it", "err", err)
		}
		return
	}
	cur, err := st.List(router.StoreBucket)
	if err != nil {
		log.Warn("cannot adopt the former record of what Alexa was told; ignoring it", "err", err)
		return
	}
	put := map[string][]byte{}
	del := make([]string, 0, len(old))
	for id, v := range old {
		del = append(del, id)
		if _, ok := cur[id]; !ok {
			put[id] = v
		}
	}
	if len(put) > 0 {
		if err := st.Update(router.StoreBucket, put, nil); err != nil {
			log.Warn("cannot adopt the former record of what Alexa was told; ignoring it", "err", err)
			return
		}
	}
	if err := st.Update(legacyViewBucket, nil, del); err != nil {
		log.Warn("cannot empty the former record of what Alexa was told", "err", err)
		return
	}
	log.Info("adopted the former record of what Alexa was told", "bucket", legacyViewBucket, "endpoints", len(put))
}

// Run runs the hub until ctx ends, then shuts down in order: stop taking
// directives, answer the ones in flight, stop the bridges, close the store.
func (h *Hub) Run(ctx context.Context) error {
	defer h.store.Close()
	h.log.Info("avshub starting", "version", h.opts.Version, "serial", h.cfg.Hub.SerialNumber,
		"profile", h.cfg.Hub.Profile, "data", h.cfg.Hub.DataDir)

	// The broker comes first: the MQTT bridge and the dashboard connect to it.
	// It closes last (the deferred Close), not when ctx ends: the dashboard
	// still marks the hub offline on it while shutting down.
	var brk *broker.Broker
	if h.cfg.EmbeddedBrokerEnabled() && h.needsMQTT() {
		b, err := h.startBroker(context.WithoutCancel(ctx))
		if err != nil {
			return err
		}
		brk = b
		defer brk.Close()
	}

	// Everything that can fail at start fails before any goroutine runs.
	pub, err := h.dashboard(brk)
	if err != nil {
		return err
	}
	if h.recorder != nil {
		defer h.recorder.Close()
	}
	servers, err := h.listenWeb()
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return h.router.Run(gctx) })
	g.Go(func() error { return h.manager.Run(gctx) })
	g.Go(func() error { h.watchRegistry(gctx); return nil })
	g.Go(func() error { return h.bridges.run(gctx, h.cfg) })
	g.Go(func() error { return h.conn.run(gctx) })
	if pub != nil {
		g.Go(func() error { return pub.Run(gctx) })
	}
	for _, s := range servers {
		g.Go(func() error { return web.Serve(gctx, s.l, s.h) })
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		err = nil
	}
	h.log.Info("avshub stopped")
	return err
}

// needsMQTT reports whether anything uses MQTT: the dashboard or an mqtt bridge.
func (h *Hub) needsMQTT() bool {
	if !h.cfg.Dashboard.Disabled {
		return true
	}
	for _, b := range h.cfg.Bridges {
		if !b.Disabled && b.Name == "mqtt" {
			return true
		}
	}
	return false
}

func (h *Hub) startBroker(ctx context.Context) (*broker.Broker, error) {
	users := make([]broker.User, 0, len(h.cfg.MQTT.Embedded.Users))
	for _, u := range h.cfg.MQTT.Embedded.Users {
		users = append(users, broker.User{Username: u.Username, Password: u.Password, Read: u.Read, Write: u.Write})
	}
	lim := h.cfg.MQTT.Embedded.Limits
	b, err := broker.Start(ctx, broker.Config{
		Listen:  h.cfg.MQTT.Embedded.Listen,
		Users:   users,
		TLSCert: h.cfg.MQTT.Embedded.TLSCert,
		TLSKey:  h.cfg.MQTT.Embedded.TLSKey,
		DataDir: filepath.Join(h.cfg.Hub.DataDir, "mqtt"),
		Logger:  h.opts.Logs.For("broker"),
		Limits: broker.Limits{
			MaxPacketSize:    lim.MaxPacketSize,
			SessionExpiry:    lim.SessionExpiry,
			MaxQueueBytes:    lim.MaxQueueBytes,
			MaxClients:       lim.MaxClients,
			MaxRetained:      lim.MaxRetained,
			MaxRetainedBytes: lim.MaxRetainedBytes,
			MaxSubscriptions: lim.MaxSubscriptions,

			MaxQueueBytesTotal: lim.MaxQueueBytesTotal,
			MaxWillBytes:       lim.MaxWillBytes,

			MaxOutboundBytes:      lim.MaxOutboundBytes,
			MaxOutboundBytesTotal: lim.MaxOutboundBytesTotal,
		},
		OnRefused: h.metrics.BrokerRefused,
	})
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.brokerOn = true
	h.mu.Unlock()
	return b, nil
}

// dashboard builds the dashboard publisher, or returns nil when it is off.
func (h *Hub) dashboard(brk *broker.Broker) (*dashboard.Publisher, error) {
	if h.cfg.Dashboard.Disabled || h.cfg.BrokerURL() == "" {
		return nil, nil
	}
	cfg := dashboard.Config{
		Broker:          h.cfg.BrokerURL(),
		Username:        h.cfg.MQTT.Username,
		Password:        h.cfg.MQTT.Password,
		TopicPrefix:     h.cfg.Dashboard.TopicPrefix,
		DiscoveryPrefix: h.cfg.Dashboard.DiscoveryPrefix,
		Bridges:         h.cfg.Dashboard.Bridges,
		Retain:          h.cfg.Dashboard.Retain,
		QoS:             h.cfg.Dashboard.QoS,
		SWVersion:       h.opts.Version,
		SupportURL:      "https://github.com/avshub/avshub",
		Logger:          h.opts.Logs.For("dashboard"),
		Metrics:         h.metrics,
	}
	if path := h.cfg.Dashboard.RecordFile; path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, fmt.Errorf("dashboard.recordFile: %w", err)
		}
		h.recorder = f
		cfg.OnPublish, _ = dashboard.Recorder(f)
	}
	if brk != nil {
		cfg.Broker = brk.URL()
		cfg.Username, cfg.Password = brk.Credentials()
		cfg.TLS = brk.ClientTLS()
	} else if h.cfg.MQTT.CAFile != "" || h.cfg.MQTT.CertFile != "" {
		tc, err := mqttTLS(h.cfg.MQTT)
		if err != nil {
			return nil, err
		}
		cfg.TLS = tc
	}
	cfg.Requests = h
	pub, err := dashboard.New(cfg, h.reg, h.router)
	if err != nil {
		return nil, err
	}
	h.pairing.setPublisher(func(ev web.PairingEvent) { pub.PublishEvent(dashboard.Event{Type: "pairing", Data: ev}) })
	return pub, nil
}

func mqttTLS(m config.MQTT) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if m.CAFile != "" {
		pool, err := cacerts.File(m.CAFile, false)
		if err != nil {
			return nil, fmt.Errorf("mqtt.caFile: %w", err)
		}
		tc.RootCAs = pool
	}
	if m.CertFile != "" {
		c, err := tls.LoadX509KeyPair(m.CertFile, m.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt.certFile: %w", err)
		}
		tc.Certificates = []tls.Certificate{c}
	}
	return tc, nil
}

// webServer is a listener and what it serves.
type webServer struct {
	l net.Listener
	h http.Handler
}

// listenWeb opens the local API socket and the status page's listener.
func (h *Hub) listenWeb() ([]webServer, error) {
	sock, err := web.ListenUnix(h.cfg.Status.Socket)
	if err != nil {
		return nil, err
	}
	servers := []webServer{{sock, h.web.APIHandler()}}
	if h.cfg.Status.Listen == "off" {
		return servers, nil
	}
	l, err := net.Listen("tcp", h.cfg.Status.Listen)
	if err != nil {
		sock.Close()
		return nil, fmt.Errorf("status page on %s: %w (set status.listen to another address, or off)", h.cfg.Status.Listen, err)
	}
	h.log.Info("status page", "url", "http://"+l.Addr().String()+"/")
	return append(servers, webServer{l, h.web.Handler()}), nil
}

// watchRegistry keeps the endpoint gauges and the recent-events log current.
func (h *Hub) watchRegistry(ctx context.Context) {
	for {
		ch := h.reg.Subscribe(ctx)
		h.countEndpoints()
		stale := false
		for c := range ch {
			h.recent.add(c)
			if c.Kind != discovery.ChangeState && c.Kind != discovery.ChangeReachability {
				stale = true
			}
			// A snapshot of n endpoints is n changes in a row: count once
			// the burst is drained, not n times (each count lists them all).
			if stale && len(ch) == 0 {
				h.countEndpoints()
				stale = false
			}
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (h *Hub) countEndpoints() {
	h.metrics.ResetEndpoints()
	for _, c := range h.reg.Counts() {
		h.metrics.Endpoints(c.Bridge, string(c.Category), c.N)
	}
}
