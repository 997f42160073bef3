package hub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/cacerts"
	"github.com/avshub/avshub/gateway/alexa"
	"github.com/avshub/avshub/gateway/avs"
	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/lwa"
	"github.com/avshub/avshub/gateway/router"
	"github.com/avshub/avshub/gateway/store"
	"github.com/avshub/avshub/gateway/web"
)

// road is the hub's road to Alexa: the AVS connection (connection) or the
// owner's Smart Home skill (skillRoad, alexa.transport: skill). The registry,
// the router, the profile, the discovery manager and the dashboards are the
// same on both; the router sends every event through the road.
type road interface {
	router.EventSender
	// run keeps the road open until ctx ends.
	run(ctx context.Context) error
	// static lists the endpoints published besides the registry's.
	static() []discovery.StaticEndpoint
	// unhandled lists endpoint ids whose directives the router leaves alone.
	unhandled() []string
	// avsStatus and linkStatus describe the road for the status page.
	avsStatus() web.AVSStatus
	linkStatus() web.LinkStatus
}

// newRoad builds the road alexa.transport names.
func newRoad(h *Hub) (road, error) {
	if h.cfg.Alexa.Transport == config.TransportSkill {
		return newSkillRoad(h)
	}
	return newConnection(h)
}

// connection is the hub's side of AVS: the client, its token source (Login
// with Amazon, or a fixed development token), the directive handler and the
// discovery source. It implements router.EventSender.
type connection struct {
	h       *Hub
	client  *avs.Client
	auth    *lwa.Authorizer // nil with a fixed development token
	linker  *lwa.WebLinker  // Link with Amazon from the status page; nil with a fixed token
	lwaHTTP *http.Client    // the Authorizer's client: idle connections are closed when run ends
	device  avs.DeviceInfo
}

// staticTokens is a fixed access token (avs.accessToken, development only).
type staticTokens struct {
	token string
	once  sync.Once
	log   func()
}

func (s *staticTokens) Token(context.Context) (string, error) { return s.token, nil }
func (s *staticTokens) Invalidate(string)                     { s.once.Do(s.log) }

func newConnection(h *Hub) (*connection, error) {
	cfg := h.cfg
	c := &connection{h: h, device: avs.DeviceInfo{
		ProductID:    cfg.Hub.ProductID,
		SerialNumber: cfg.Hub.SerialNumber,
		FriendlyName: cfg.Hub.FriendlyName,
		Locales:      cfg.Hub.Locales,
	}}
	var tokens avs.TokenSource
	if cfg.AVS.AccessToken != "" {
		h.log.Warn("using the fixed access token from avs.accessToken (development only); it cannot be refreshed")
		tokens = &staticTokens{token: cfg.AVS.AccessToken, log: func() {
			h.log.Error("AVS refused the fixed access token: get a new one, or link the hub with avshub link")
		}}
	} else {
		lc, err := lwa.FromConfig(cfg, h.opts.Logs.For("lwa"))
		if err != nil {
			return nil, err
		}
		a, err := lwa.NewAuthorizer(lc)
		if err != nil {
			return nil, err
		}
		// An unlinked hub starts all the same: it connects once it is linked.
		c.auth, tokens, c.lwaHTTP = a, a, lc.HTTPClient
		if wl, err := lwa.NewWebLinker(lc, ""); err == nil {
			c.linker = wl
		} else {
			h.log.Warn("no Link with Amazon on the status page (link with `avshub link`)", "err", err)
		}
	}
	tc, err := tlsWithCA(cfg.AVS.CAFile)
	if err != nil {
		return nil, fmt.Errorf("avs.caFile: %w", err)
	}
	c.client, err = avs.New(avs.Options{
		URL:          cfg.AVS.URL,
		Region:       cfg.AVS.Region,
		TLSConfig:    tc,
		Tokens:       tokens,
		Handler:      c,
		Discovery:    discoverySource{h},
		Gateway:      gatewayStore{h.store},
		PingInterval: cfg.AVS.PingInterval,
		Logger:       h.opts.Logs.For("avs"),
		Metrics:      h.metrics,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func tlsWithCA(caFile string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return tc, nil
	}
	pool, err := cacerts.File(caFile, false)
	if err != nil {
		return nil, err
	}
	tc.RootCAs = pool
	return tc, nil
}

func (c *connection) static() []discovery.StaticEndpoint {
	return []discovery.StaticEndpoint{c.deviceEndpoint()}
}

func (c *connection) unhandled() []string { return []string{c.deviceID()} }

// deviceID is the endpoint id of the hub itself.
func (c *connection) deviceID() string { return avs.DeviceEndpointID(c.device) }

// deviceEndpoint is the hub's own endpoint for discovery.
func (c *connection) deviceEndpoint() discovery.StaticEndpoint {
	return discovery.StaticEndpoint{ID: c.deviceID(), JSON: avs.DeviceEndpoint(c.device)}
}

// run keeps the connection (and the token refresh) until ctx ends.
func (c *connection) run(ctx context.Context) error {
	if c.lwaHTTP != nil {
		// No socket of the hub may outlive Run (the LWA client keeps idle
		// connections to the token endpoint).
		defer c.lwaHTTP.CloseIdleConnections()
	}
	if c.auth == nil {
		return c.client.Run(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- c.auth.Run(ctx) }()
	if err := c.auth.Ready(); err != nil {
		c.h.log.Warn("not connecting to Alexa until the hub is linked with Amazon: press Link with Amazon on the status page, or run `avshub link`; the hub connects as soon as it is linked",
			"page", c.h.linkPage(), "why", err)
		if c.auth.WaitReady(ctx) != nil {
			cancel()
			<-errc
			return nil
		}
		c.h.log.Info("linked with Amazon; connecting to Alexa")
	}
	err := c.client.Run(ctx)
	cancel()
	if aerr := <-errc; err == nil && aerr != nil && !errors.Is(aerr, context.Canceled) {
		err = aerr
	}
	return err
}

// Send implements router.EventSender.
func (c *connection) Send(ctx context.Context, event []byte) error { return c.client.Send(ctx, event) }

// HandleDirective implements avs.DirectiveHandler: endpoint directives go to
// the router; what nobody handles is answered ExceptionEncountered by avs.
func (c *connection) HandleDirective(ctx context.Context, raw []byte) error {
	d, err := alexa.ParseDirective(raw)
	if err != nil {
		return fmt.Errorf("%w: %w", avs.ErrMalformed, err)
	}
	if err := c.h.router.HandleDirective(ctx, d); err != nil {
		if errors.Is(err, router.ErrUnhandled) {
			return fmt.Errorf("%w: %w", avs.ErrUnsupported, err)
		}
		return err
	}
	return nil
}

// stateWaitingForLink is the connection's state before the hub is first linked.
const stateWaitingForLink = "WAITING_FOR_LINK"

func (c *connection) avsStatus() web.AVSStatus {
	st := c.client.Status()
	out := web.AVSStatus{State: string(st.State), Since: st.Since, Gateway: st.Gateway, LastPing: st.LastPing, Queued: st.Queued}
	if st.State == avs.StateIdle && c.auth != nil && c.auth.Ready() != nil {
		out.State = stateWaitingForLink
	}
	for i := len(st.History) - 1; i >= 0 && len(out.History) < 20; i-- {
		t := st.History[i]
		out.History = append(out.History, web.Transition{At: t.At, State: string(t.State), Reason: t.Reason})
	}
	return out
}

func (c *connection) linkStatus() web.LinkStatus {
	if c.auth == nil {
		return web.LinkStatus{Linked: true, Reason: "fixed development token"}
	}
	st := c.auth.Status()
	ls := web.LinkStatus{Linked: st.Linked, NeedsRelink: st.NeedsRelink, Reason: st.Reason, Expiry: st.AccessTokenExpiry}
	if !st.Linked {
		ls.LinkPage = c.h.linkPage()
	}
	return ls
}

// StartLink implements web.Linker.
func (c *connection) StartLink(redirectURI string) (string, string, error) {
	return c.linker.Start(redirectURI)
}

// FinishLink implements web.Linker: the tokens are stored as `avshub link`
// stores them, and the connection starts at once.
func (c *connection) FinishLink(ctx context.Context, state, code string) error {
	if err := c.linker.Finish(ctx, state, code); err != nil {
		if errors.Is(err, lwa.ErrUnknownLinkState) {
			return fmt.Errorf("%w: %w", web.ErrLinkState, err)
		}
		return err
	}
	return c.auth.Reload()
}

// CancelLink implements web.Linker.
func (c *connection) CancelLink(state string) { c.linker.Cancel(state) }

// discoverySource adapts the discovery manager to avs.DiscoverySource.
type discoverySource struct{ h *Hub }

func (d discoverySource) PendingReports(ctx context.Context) ([]avs.DiscoveryReport, error) {
	rs, err := d.h.manager.Pending(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]avs.DiscoveryReport, len(rs))
	for i, r := range rs {
		out[i] = avs.DiscoveryReport{Name: r.Name, Endpoints: r.Endpoints}
	}
	return out, nil
}

func (d discoverySource) ReportDelivered(ctx context.Context, r avs.DiscoveryReport) error {
	return d.h.manager.Delivered(ctx, discovery.Report{Name: r.Name, Endpoints: r.Endpoints})
}

func (d discoverySource) Changed() <-chan struct{} { return d.h.manager.Changed() }

// gatewayStore persists the AVS gateway URL that SetGateway gave.
type gatewayStore struct{ s store.Store }

const gatewayBucket, gatewayKey = "avs", "gateway"

func (g gatewayStore) LoadGateway(context.Context) (string, error) {
	b, err := g.s.Get(gatewayBucket, gatewayKey)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return string(b), err
}

func (g gatewayStore) SaveGateway(_ context.Context, url string) error {
	return g.s.Put(gatewayBucket, gatewayKey, []byte(url))
}
