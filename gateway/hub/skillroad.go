package hub

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/gateway/alexa"
	"github.com/avshub/avshub/gateway/lwa"
	"github.com/avshub/avshub/gateway/skill"
	"github.com/avshub/avshub/gateway/web"
)

// skillRoad is the Smart Home skill road (alexa.transport: skill): the
// directive endpoint the owner's Lambda forwards to and the Alexa event
// gateway. Nothing talks to AVS; the hub publishes no endpoint of its own.
type skillRoad struct {
	h   *Hub
	srv *skill.Server
}

// SkillDataDir is where the skill road keeps its tokens under the data directory.
func SkillDataDir(dataDir string) string { return filepath.Join(dataDir, "skill") }

func newSkillRoad(h *Hub) (*skillRoad, error) {
	cfg := h.cfg
	secret, err := cfg.SkillSecret()
	if err != nil {
		return nil, err
	}
	lc, err := lwa.FromConfig(cfg, h.opts.Logs.For("lwa"))
	if err != nil {
		return nil, err
	}
	lc.ClientID, lc.ClientSecret, lc.DataDir = cfg.Skill.ClientID, cfg.Skill.ClientSecret, SkillDataDir(cfg.Hub.DataDir)
	gw := cfg.Skill.EventGatewayURL
	if gw == "" {
		gw, _ = skill.EventGateway(cfg.Skill.Region)
	}
	gwClient, err := lwa.HTTPClientWithCA(cfg.Skill.CAFile)
	if err != nil {
		return nil, fmt.Errorf("skill.caFile: %w", err)
	}
	var tc *tls.Config
	if cfg.Skill.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.Skill.TLSCert, cfg.Skill.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("skill.tlsCert: %w", err)
		}
		tc = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	r := &skillRoad{h: h}
	r.srv, err = skill.New(skill.Options{
		Listen:       cfg.Skill.Listen,
		Path:         cfg.Skill.Path,
		TLS:          tc,
		Secret:       []byte(secret),
		LWA:          lc,
		EventGateway: gw,
		HTTPClient:   gwClient,
		UserID:       cfg.Skill.UserID,
		Directives:   directiveHandler{h},
		Discovery:    managerOf{h},
		Logger:       h.opts.Logs.For("skill"),
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// directiveHandler hands directives to the hub's router (built after the road).
type directiveHandler struct{ h *Hub }

func (d directiveHandler) HandleDirective(ctx context.Context, dir *alexa.Directive) error {
	return d.h.router.HandleDirective(ctx, dir)
}

// managerOf is the hub's discovery manager (built after the road).
type managerOf struct{ h *Hub }

func (m managerOf) Snapshot(ctx context.Context) ([]json.RawMessage, error) {
	return m.h.manager.Snapshot(ctx)
}
func (m managerOf) Answered(ctx context.Context, eps []json.RawMessage) error {
	return m.h.manager.Answered(ctx, eps)
}
func (m managerOf) Pending(ctx context.Context) ([]discovery.Report, error) {
	return m.h.manager.Pending(ctx)
}
func (m managerOf) Delivered(ctx context.Context, r discovery.Report) error {
	return m.h.manager.Delivered(ctx, r)
}
func (m managerOf) Changed() <-chan struct{} { return m.h.manager.Changed() }

func (r *skillRoad) Send(ctx context.Context, ev []byte) error { return r.srv.Send(ctx, ev) }
func (r *skillRoad) run(ctx context.Context) error             { return r.srv.Run(ctx) }
func (r *skillRoad) static() []discovery.StaticEndpoint        { return nil }
func (r *skillRoad) unhandled() []string                       { return nil }

func (r *skillRoad) avsStatus() web.AVSStatus {
	st := r.srv.Status()
	out := web.AVSStatus{State: st.State, Since: st.Since, Gateway: st.EventGateway, LastPing: st.LastDirective, Queued: st.Queued}
	for i := len(st.History) - 1; i >= 0 && len(out.History) < 20; i-- {
		t := st.History[i]
		out.History = append(out.History, web.Transition{At: t.At, State: t.State, Reason: t.Reason})
	}
	return out
}

func (r *skillRoad) linkStatus() web.LinkStatus {
	st := r.srv.Authorizer().Status()
	reason := st.Reason
	if u := r.srv.Status().User; u != "" {
		reason = "Smart Home skill, Amazon user " + u
	} else if !st.Linked {
		reason = "waiting for the skill's AcceptGrant (enable the skill and link it in the Alexa app)"
	}
	return web.LinkStatus{Linked: st.Linked, NeedsRelink: st.NeedsRelink, Reason: reason, Expiry: st.AccessTokenExpiry}
}
