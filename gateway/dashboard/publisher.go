package dashboard

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/sync/errgroup"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/metrics"
	"github.com/avshub/avshub/internal/cleanstore"
)

// OriginName is the origin.name of every discovery payload avshub publishes;
// the MQTT bridge skips entities with it so they are never imported back.
const OriginName = "avshub"

// Defaults.
const (
	DefaultTopicPrefix     = "avshub"
	DefaultDiscoveryPrefix = "homeassistant"
	DefaultSupportURL      = "https://github.com/avshub/avshub"
	DefaultCommandTimeout  = 10 * time.Second
	// ExcludedBridge is the bridge whose endpoints are not published by default.
	ExcludedBridge = "mqtt"
)

const (
	publishTimeout = 5 * time.Second
	workers        = 4
	workerQueue    = 64
	staleQueue     = 1024
)

// Registry is what the publisher needs of the hub's device registry
// (*discovery.Registry satisfies it).
type Registry interface {
	// List returns every endpoint, sorted by id.
	List() []discovery.Entry
	// Subscribe returns every change from now on; the channel is closed when
	// ctx ends or when the subscriber was too slow (then List and Subscribe again).
	Subscribe(ctx context.Context) <-chan discovery.Change
}

// Executor carries out a command on an endpoint with the same validation and
// errors as an Alexa directive (*router.Router satisfies it).
type Executor interface {
	Execute(ctx context.Context, endpointID string, cmd model.Command, cause model.Cause) (model.State, error)
}

// Config configures the dashboard publisher.
type Config struct {
	// Broker is the broker URL (tcp://, ssl://, ws://), the embedded broker's or an external one.
	Broker   string
	Username string
	Password string
	// TLS for ssl:// brokers (nil: system roots).
	TLS *tls.Config
	// ClientID of the MQTT connection (default "<prefix>-dashboard").
	ClientID string
	// TopicPrefix of status, state, command and error topics (default "avshub").
	TopicPrefix string
	// DiscoveryPrefix of Home Assistant discovery (default "homeassistant").
	DiscoveryPrefix string
	// Bridges whose endpoints are published; empty: every bridge but "mqtt".
	Bridges []string
	// Retain discovery, state and availability messages (default true). The hub
	// status topic is always retained.
	Retain *bool
	// QoS of every publish and subscription, 0–2 (default 1).
	QoS *int
	// SWVersion and SupportURL fill the discovery origin block.
	SWVersion  string
	SupportURL string
	// CommandTimeout bounds one command's execution (default 10 s).
	CommandTimeout time.Duration
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Metrics counts MQTT messages in and out (optional).
	Metrics *metrics.Metrics
	// OnPublish, when set, is called once for every message published, in order
	// (e.g. to record .demo/dashboard-messages.jsonl). It must not block for long.
	OnPublish func(topic string, retained bool, payload []byte)
	// Requests, when set, carries out the bridge request topics
	// (<prefix>/bridge/request/endpoint/rename, remove, hide).
	Requests Requests
}

// Publisher publishes the hub's endpoints to MQTT for dashboards (Home
// Assistant discovery, retained JSON state) and carries out their commands.
type Publisher struct {
	cfg    Config
	l      layout
	retain bool
	qos    byte
	log    *slog.Logger
	reg    Registry
	exec   Executor

	client    paho.Client
	stop      <-chan struct{} // Run's context is done: stop waiting for the broker
	online    atomic.Bool
	connected chan struct{} // (re)connected: republish everything
	birth     chan struct{} // Home Assistant came online
	stale     chan paho.Message
	queues    [workers]chan paho.Message
	requests  chan paho.Message // bridge requests, for requestWorker

	mu    sync.RWMutex
	nodes map[string]*node // by node id

	pubMu sync.Mutex // serialises OnPublish

	commands, refused, failed atomic.Uint64
}

// Status is a snapshot of the publisher for the status page.
type Status struct {
	Broker    string `json:"broker"`
	Connected bool   `json:"connected"`
	// Endpoints is the number of endpoints published.
	Endpoints int `json:"endpoints"`
	// Commands received; Refused of them were bad payloads or failed
	// validation, Failed failed when carried out.
	Commands uint64 `json:"commands"`
	Refused  uint64 `json:"refused"`
	Failed   uint64 `json:"failed"`
}

// Status returns the publisher's current status.
func (p *Publisher) Status() Status {
	p.mu.RLock()
	n := len(p.nodes)
	p.mu.RUnlock()
	return Status{Broker: p.cfg.Broker, Connected: p.online.Load(), Endpoints: n,
		Commands: p.commands.Load(), Refused: p.refused.Load(), Failed: p.failed.Load()}
}

// node is one published endpoint.
type node struct {
	id    string
	entry discovery.Entry
	comps map[string]string // component id → platform, as last published
	mode  string            // last colour mode: "hs" or "color_temp"
	cause model.Cause
}

// colorMode is the light's current Home Assistant colour mode: the one of the
// last colour change, else the one whose value is known, else the first supported.
func (n *node) colorMode() string {
	t, s := n.entry.Endpoint.Traits, n.entry.State
	switch {
	case n.mode == "hs" && s.Color != nil, n.mode == "color_temp" && s.ColorTemperature != nil:
		return n.mode
	case t.ColorTemperature != nil && s.ColorTemperature != nil:
		return "color_temp"
	case t.Color != nil && s.Color != nil:
		return "hs"
	case t.ColorTemperature != nil:
		return "color_temp"
	case t.Color != nil:
		return "hs"
	case t.Brightness != nil:
		return "brightness"
	}
	return "onoff"
}

// New checks cfg and returns a publisher; Run connects it.
func New(cfg Config, reg Registry, exec Executor) (*Publisher, error) {
	if cfg.Broker == "" {
		return nil, errors.New("dashboard: no broker URL")
	}
	if reg == nil || exec == nil {
		return nil, errors.New("dashboard: a registry and an executor are required")
	}
	if cfg.TopicPrefix == "" {
		cfg.TopicPrefix = DefaultTopicPrefix
	}
	if cfg.DiscoveryPrefix == "" {
		cfg.DiscoveryPrefix = DefaultDiscoveryPrefix
	}
	for _, p := range []string{cfg.TopicPrefix, cfg.DiscoveryPrefix} {
		if strings.ContainsAny(p, "+#") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.HasPrefix(p, "$") {
			return nil, fmt.Errorf("dashboard: topic prefix %q must not contain + or #, start with $ or /, or end with /", p)
		}
	}
	if cfg.SupportURL == "" {
		cfg.SupportURL = DefaultSupportURL
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = DefaultCommandTimeout
	}
	if cfg.ClientID == "" {
		cfg.ClientID = cfg.TopicPrefix + "-dashboard"
	}
	qos := 1
	if cfg.QoS != nil {
		qos = *cfg.QoS
	}
	if qos < 0 || qos > 2 {
		return nil, fmt.Errorf("dashboard: QoS %d is not 0, 1 or 2", qos)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	p := &Publisher{
		cfg:       cfg,
		l:         layout{prefix: cfg.TopicPrefix, disc: cfg.DiscoveryPrefix, qos: qos, swVersion: cfg.SWVersion, supportURL: cfg.SupportURL},
		retain:    cfg.Retain == nil || *cfg.Retain,
		qos:       byte(qos),
		log:       log, // the caller names the component
		reg:       reg,
		exec:      exec,
		connected: make(chan struct{}, 1),
		birth:     make(chan struct{}, 1),
		stale:     make(chan paho.Message, staleQueue),
		requests:  make(chan paho.Message, requestQueue),
		nodes:     map[string]*node{},
	}
	for i := range p.queues {
		p.queues[i] = make(chan paho.Message, workerQueue)
	}
	return p, nil
}

// StatusTopic is the hub's availability topic (retained online/offline, also the MQTT will).
func (p *Publisher) StatusTopic() string { return p.l.statusTopic() }

// Topics returns the state, command, availability, error and discovery topics of an endpoint.
func (p *Publisher) Topics(ep model.Endpoint) (state, command, availability, errs, config string) {
	n := NodeID(ep)
	return p.l.nodeTopic(n, leafState), p.l.nodeTopic(n, leafSet), p.l.nodeTopic(n, leafAvailability),
		p.l.nodeTopic(n, leafError), p.l.configTopic(n)
}

// Run connects to the broker and publishes until ctx ends; then it marks the
// hub offline and disconnects. It reconnects by itself and republishes
// everything after every (re)connection and every Home Assistant birth. Call
// it once.
func (p *Publisher) Run(ctx context.Context) error {
	o := paho.NewClientOptions().
		AddBroker(p.cfg.Broker).
		SetClientID(p.cfg.ClientID).
		SetUsername(p.cfg.Username).
		SetPassword(p.cfg.Password).
		SetCleanSession(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10*time.Second).
		SetConnectTimeout(10*time.Second).
		// paho's Publish itself waits (30 s by default) to hand a message
		// to a connection that has just dropped.
		SetWriteTimeout(publishTimeout).
		SetKeepAlive(30*time.Second).
		// A clean session resumes nothing after a reconnection (and paho's
		// resumption races with new publishes): everything is republished.
		SetStore(cleanstore.New()).
		SetWill(p.l.statusTopic(), PayloadOffline, p.qos, true).
		SetOnConnectHandler(func(paho.Client) {
			p.online.Store(true)
			select {
			case p.connected <- struct{}{}:
			default:
			}
		}).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			p.online.Store(false)
			p.log.Warn("lost the MQTT broker; reconnecting", "broker", p.cfg.Broker, "error", err)
		})
	if p.cfg.TLS != nil {
		o.SetTLSConfig(p.cfg.TLS)
	}
	p.client = paho.NewClient(o)
	p.client.Connect() // retries in the background; OnConnect signals p.connected

	g, gctx := errgroup.WithContext(ctx)
	p.stop = gctx.Done()
	for i := range p.queues {
		q := p.queues[i]
		g.Go(func() error { p.worker(gctx, q); return nil })
	}
	g.Go(func() error { return p.loop(gctx) })
	if p.cfg.Requests != nil {
		g.Go(func() error { p.requestWorker(gctx); return nil })
	}
	err := g.Wait()

	if p.online.Load() {
		p.send(nil, p.l.statusTopic(), true, []byte(PayloadOffline))
	}
	p.client.Disconnect(250)
	p.online.Store(false)
	return err
}

// loop owns the published set: registry changes, (re)connections and births.
func (p *Publisher) loop(ctx context.Context) error {
	changes := p.reg.Subscribe(ctx)
	// Nothing is published yet: the (pending or coming) connection publishes everything.
	p.resync(false)
	for {
		select {
		case <-ctx.Done():
			return nil
		case c, ok := <-changes:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				p.log.Warn("registry subscription dropped; resynchronising")
				changes = p.reg.Subscribe(ctx)
				p.resync(true)
				continue
			}
			p.apply(c)
		case <-p.connected:
			p.onConnect()
		case <-p.birth:
			p.log.Info("Home Assistant came online; republishing discovery and state")
			p.publishAll()
		case m := <-p.stale:
			p.clearStale(m.Topic(), m.Payload())
		}
	}
}

func (p *Publisher) wants(ep model.Endpoint) bool {
	if ep.Category == model.CategoryAlexaVoiceEnabled {
		return false
	}
	if len(p.cfg.Bridges) == 0 {
		return ep.Bridge != ExcludedBridge
	}
	return slices.Contains(p.cfg.Bridges, ep.Bridge)
}

// resync makes the published set equal to the registry's; with publish false
// it only records it.
func (p *Publisher) resync(publish bool) {
	seen := map[string]bool{}
	for _, e := range p.reg.List() {
		if !p.wants(e.Endpoint) || e.Settings.HiddenFromDashboards {
			continue
		}
		id := NodeID(e.Endpoint)
		seen[id] = true
		if !publish {
			p.mu.Lock()
			p.nodes[id] = &node{id: id, entry: e}
			p.mu.Unlock()
			continue
		}
		p.upsert(e, true)
	}
	p.mu.RLock()
	var gone []string
	for id := range p.nodes {
		if !seen[id] {
			gone = append(gone, id)
		}
	}
	p.mu.RUnlock()
	for _, id := range gone {
		p.remove(id)
	}
}

func (p *Publisher) apply(c discovery.Change) {
	ep := c.Entry.Endpoint
	id := NodeID(ep)
	if c.Kind == discovery.ChangeRemoved {
		p.remove(id)
		return
	}
	if !p.wants(ep) {
		return
	}
	if c.Entry.Settings.HiddenFromDashboards {
		p.remove(id) // hidden by a person: cleared from the dashboards, kept on the hub
		return
	}
	p.mu.Lock()
	n, known := p.nodes[id]
	p.mu.Unlock()
	switch {
	case !known || c.Kind == discovery.ChangeAdded || c.Kind == discovery.ChangeUpdated:
		p.upsert(c.Entry, !known || !sameEndpoint(n.entry.Endpoint, ep) || n.entry.Settings != c.Entry.Settings)
	case c.Kind == discovery.ChangeState:
		p.mu.Lock()
		n.entry = c.Entry
		// The cause describes this change only: a change without one (a
		// bridge's re-sync after a restart) must not keep the last command's.
		n.cause = c.Cause
		if c.Changed.Color != nil {
			n.mode = "hs"
		} else if c.Changed.ColorTemperature != nil {
			n.mode = "color_temp"
		}
		p.mu.Unlock()
		p.publishState(n)
	case c.Kind == discovery.ChangeReachability:
		p.mu.Lock()
		n.entry = c.Entry
		p.mu.Unlock()
		p.publishAvailability(n)
		p.publishState(n)
	}
}

func sameEndpoint(a, b model.Endpoint) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// upsert records an entry and publishes its discovery config (when the
// endpoint is new or changed), availability and state.
func (p *Publisher) upsert(e discovery.Entry, config bool) {
	id := NodeID(e.Endpoint)
	p.mu.Lock()
	n, ok := p.nodes[id]
	if !ok {
		n = &node{id: id}
		p.nodes[id] = n
	}
	n.entry = e
	p.mu.Unlock()
	if config || !ok {
		p.publishConfig(n)
	}
	p.publishAvailability(n)
	p.publishState(n)
}

// remove deletes a node's retained discovery config, state and availability.
func (p *Publisher) remove(id string) {
	p.mu.Lock()
	_, ok := p.nodes[id]
	delete(p.nodes, id)
	p.mu.Unlock()
	if !ok {
		return
	}
	p.publish(p.l.configTopic(id), true, nil)
	p.publish(p.l.nodeTopic(id, leafState), true, nil)
	p.publish(p.l.nodeTopic(id, leafAvailability), true, nil)
}

func (p *Publisher) onConnect() {
	p.log.Info("connected to the MQTT broker", "broker", p.cfg.Broker)
	// One SUBSCRIBE for all filters: one round trip, and no packet id of ours
	// can meet the broker's own while the retained configs flow in.
	filters := map[string]byte{
		p.l.prefix + "/+/" + leafSet:  p.qos,
		p.l.disc + "/status":          p.qos,
		p.l.disc + "/device/+/config": p.qos,
	}
	if p.cfg.Requests != nil {
		filters[p.l.prefix+"/"+bridgeRequestLeaf+"#"] = p.qos
	}
	tok := p.client.SubscribeMultiple(filters, p.onMessage)
	if !wait(tok, p.stop) {
		if stopping(p.stop) {
			return
		}
		p.log.Error("MQTT subscribe failed", "error", tokenErr(tok))
	} else {
		for f, r := range tok.(*paho.SubscribeToken).Result() {
			if r >= 0x80 {
				p.log.Error("the broker refused a subscription (check the user's read rights)", "filter", f)
			}
		}
	}
	p.publishAll()
}

// onMessage runs in paho's goroutine and dispatches by topic; it never blocks.
func (p *Publisher) onMessage(c paho.Client, m paho.Message) {
	switch t := m.Topic(); {
	case t == p.l.disc+"/status":
		p.onBirth(c, m)
	case strings.HasPrefix(t, p.l.disc+"/device/"):
		p.onConfig(c, m)
	case strings.HasPrefix(t, p.l.prefix+"/"+bridgeRequestLeaf):
		p.onRequest(m)
	default:
		p.onCommand(c, m)
	}
}

// wait waits for tok to complete, publishTimeout at most and not past stop
// (never closed if nil); it reports whether tok completed without error.
func wait(tok paho.Token, stop <-chan struct{}) bool {
	t := time.NewTimer(publishTimeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error() == nil
	case <-t.C:
	case <-stop:
	}
	return false
}

// stopping reports whether stop is closed (never for a nil stop).
func stopping(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

func tokenErr(t paho.Token) error {
	if err := t.Error(); err != nil {
		return err
	}
	return errors.New("timed out")
}

// publishAll publishes the hub status and every node's config, availability
// and state. It stops at the first failure: the next connection publishes all again.
func (p *Publisher) publishAll() {
	if !p.publish(p.l.statusTopic(), true, []byte(PayloadOnline)) {
		return
	}
	p.mu.RLock()
	nodes := make([]*node, 0, len(p.nodes))
	for _, id := range sortedKeys(p.nodes) {
		nodes = append(nodes, p.nodes[id])
	}
	p.mu.RUnlock()
	for _, n := range nodes {
		if !p.publishConfig(n) {
			return
		}
	}
	for _, n := range nodes {
		if !p.publishAvailability(n) || !p.publishState(n) {
			return
		}
	}
}

func (p *Publisher) publishConfig(n *node) bool {
	p.mu.Lock()
	cmps := p.l.components(n.id, n.entry.Endpoint)
	ep := n.entry.Endpoint
	area := n.entry.Settings.Area
	prev := n.comps
	n.comps = map[string]string{}
	for id, c := range cmps {
		n.comps[id] = c["p"].(string)
	}
	p.mu.Unlock()
	// A component that went away is first sent with only its platform (Home
	// Assistant removes it), then the full config follows without it.
	removed := map[string]map[string]any{}
	for id, platform := range prev {
		if _, ok := cmps[id]; !ok {
			removed[id] = map[string]any{"p": platform}
		}
	}
	if len(removed) > 0 {
		all := map[string]map[string]any{}
		for id, c := range cmps {
			all[id] = c
		}
		for id, c := range removed {
			all[id] = c
		}
		if !p.publishJSON(p.l.configTopic(n.id), p.retain, withArea(p.l.config(n.id, ep, all), area)) {
			return false
		}
	}
	return p.publishJSON(p.l.configTopic(n.id), p.retain, withArea(p.l.config(n.id, ep, cmps), area))
}

func (p *Publisher) publishAvailability(n *node) bool {
	p.mu.RLock()
	v := PayloadOffline
	if n.entry.Reachable {
		v = PayloadOnline
	}
	p.mu.RUnlock()
	return p.publish(p.l.nodeTopic(n.id, leafAvailability), p.retain, []byte(v))
}

func (p *Publisher) publishState(n *node) bool {
	p.mu.RLock()
	s := p.l.state(n)
	p.mu.RUnlock()
	return p.publishJSON(p.l.nodeTopic(n.id, leafState), p.retain, s)
}

func (p *Publisher) publishJSON(topic string, retained bool, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		p.log.Error("dashboard payload not encodable", "topic", topic, "error", err)
		return true // nothing the connection can fix
	}
	return p.publish(topic, retained, b)
}

// publish sends one message and waits (bounded, and no longer than Run's
// context) for the broker to take it; it reports whether it did. While
// disconnected nothing is sent: everything is republished on reconnect.
func (p *Publisher) publish(topic string, retained bool, payload []byte) bool {
	return p.send(p.stop, topic, retained, payload)
}

// send is publish that stops waiting when stop is closed (never if nil).
func (p *Publisher) send(stop <-chan struct{}, topic string, retained bool, payload []byte) bool {
	if !p.online.Load() {
		return false
	}
	tok := p.client.Publish(topic, p.qos, retained, payload)
	if !wait(tok, stop) {
		if stopping(stop) {
			// Abandoned, not lost: the hub is stopping (its last word,
			// offline, is sent without stop), and a hub that starts again
			// republishes everything.
			p.log.Debug("MQTT publish abandoned: the hub is stopping", "topic", topic)
			return false
		}
		p.log.Warn("MQTT publish failed", "topic", topic, "error", tokenErr(tok))
		return false
	}
	p.cfg.Metrics.MQTTMessage("out")
	if p.cfg.OnPublish != nil {
		p.pubMu.Lock()
		p.cfg.OnPublish(topic, retained, payload)
		p.pubMu.Unlock()
	}
	return true
}

// onBirth runs in paho's goroutine: it only signals the loop.
func (p *Publisher) onBirth(_ paho.Client, m paho.Message) {
	p.cfg.Metrics.MQTTMessage("in")
	if m.Retained() || strings.TrimSpace(string(m.Payload())) != PayloadOnline {
		return // a retained birth is old news: everything was published on connect
	}
	select {
	case p.birth <- struct{}{}:
	default:
	}
}

// onConfig runs in paho's goroutine: it hands retained discovery configs
// (left by an earlier run) to the loop, which clears those of endpoints that
// no longer exist.
func (p *Publisher) onConfig(_ paho.Client, m paho.Message) {
	if !m.Retained() || len(m.Payload()) == 0 {
		return
	}
	p.cfg.Metrics.MQTTMessage("in")
	select {
	case p.stale <- m:
	default:
		p.log.Warn("too many retained discovery configs to check; some stale ones stay", "topic", m.Topic())
	}
}

// clearStale removes a retained discovery config of this hub (same origin
// and status topic) whose endpoint is not published any more, with its
// retained state and availability.
func (p *Publisher) clearStale(topic string, payload []byte) {
	objPrefix := p.l.objectID("")
	obj, ok := strings.CutPrefix(topic, p.l.disc+"/device/")
	if !ok {
		return
	}
	obj, _ = strings.CutSuffix(obj, "/config")
	node, ok := strings.CutPrefix(obj, objPrefix)
	if !ok || node == "" || p.l.configTopic(node) != topic {
		return
	}
	var cfg struct {
		O struct {
			Name string `json:"name"`
		} `json:"o"`
		Availability []struct {
			Topic string `json:"topic"`
		} `json:"availability"`
	}
	if json.Unmarshal(payload, &cfg) != nil || cfg.O.Name != OriginName ||
		len(cfg.Availability) == 0 || cfg.Availability[0].Topic != p.l.statusTopic() {
		return // not ours
	}
	p.mu.RLock()
	_, known := p.nodes[node]
	p.mu.RUnlock()
	if known {
		return
	}
	p.log.Info("clearing a stale dashboard device left by an earlier run", "node", node)
	p.publish(topic, true, nil)
	p.publish(p.l.nodeTopic(node, leafState), true, nil)
	p.publish(p.l.nodeTopic(node, leafAvailability), true, nil)
}

// onCommand runs in paho's goroutine: it hands the message to the worker of its node.
func (p *Publisher) onCommand(_ paho.Client, m paho.Message) {
	p.cfg.Metrics.MQTTMessage("in")
	node, ok := p.commandNode(m.Topic())
	if !ok {
		return
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(node))
	select {
	case p.queues[h.Sum32()%workers] <- m:
	default:
		p.log.Warn("dashboard command dropped: too many pending commands", "topic", m.Topic())
	}
}

func (p *Publisher) commandNode(topic string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, p.l.prefix+"/")
	if !ok {
		return "", false
	}
	node, ok := strings.CutSuffix(rest, "/"+leafSet)
	if !ok || node == "" || strings.Contains(node, "/") {
		return "", false
	}
	return node, true
}

func (p *Publisher) worker(ctx context.Context, q <-chan paho.Message) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-q:
			if m.Retained() {
				// A retained command would run again at every reconnection.
				p.commands.Add(1)
				p.refused.Add(1)
				id, _ := p.commandNode(m.Topic())
				p.log.Warn("retained dashboard command ignored", "topic", m.Topic())
				p.publishError(id, "", bad("retained commands are ignored: publish commands without the retain flag"))
				continue
			}
			p.handleCommand(ctx, m.Topic(), m.Payload())
		}
	}
}

// handleCommand decodes, validates and executes one command; any failure is
// published on the node's error topic and nothing is changed by a bad payload.
func (p *Publisher) handleCommand(ctx context.Context, topic string, payload []byte) {
	p.commands.Add(1)
	id, _ := p.commandNode(topic)
	p.mu.RLock()
	n, ok := p.nodes[id]
	var e discovery.Entry
	if ok {
		e = n.entry
	}
	p.mu.RUnlock()
	if !ok {
		p.refused.Add(1)
		p.publishError(id, "", &model.Error{Kind: model.ErrNotSupported, Message: "no endpoint is published as " + model.Abbreviate(id, 80)})
		return
	}
	cmds, err := DecodeCommand(payload, e.Endpoint, e.State)
	if err == nil {
		cur := e.State
		for _, c := range cmds {
			if err = c.Validate(e.Endpoint.Traits, cur); err != nil {
				break
			}
			cur = c.Apply(cur)
		}
	}
	if err != nil {
		p.refused.Add(1)
		p.log.Info("dashboard command refused", "endpoint", e.Endpoint.ID, "error", err)
		p.publishError(id, e.Endpoint.ID, model.AsError(err))
		return
	}
	for _, c := range cmds {
		cctx, cancel := context.WithTimeout(ctx, p.cfg.CommandTimeout)
		_, err := p.exec.Execute(cctx, e.Endpoint.ID, c, model.CauseApp)
		cancel()
		if err != nil {
			p.failed.Add(1)
			de := model.AsError(err)
			p.log.Info("dashboard command failed", "endpoint", e.Endpoint.ID, "command", c.String(), "kind", de.Kind)
			p.publishError(id, e.Endpoint.ID, de)
			return
		}
	}
}

// ErrorMessage is the JSON payload published on an endpoint's error topic.
type ErrorMessage struct {
	Endpoint string  `json:"endpoint,omitempty"`
	Kind     string  `json:"kind"`
	Message  string  `json:"message"`
	Min      float64 `json:"min,omitempty"`
	Max      float64 `json:"max,omitempty"`
	MinDelta float64 `json:"minDelta,omitempty"`
}

func (p *Publisher) publishError(node, endpoint string, e *model.Error) {
	p.publishJSON(p.l.nodeTopic(node, leafError), false, ErrorMessage{Endpoint: endpoint, Kind: string(e.Kind),
		Message: e.Message, Min: e.Min, Max: e.Max, MinDelta: e.MinDelta})
}

// withArea adds the area a person gave the device as Home Assistant's
// suggested_area of the device block.
func withArea(cfg map[string]any, area string) map[string]any {
	if area == "" {
		return cfg
	}
	if dev, ok := cfg["dev"].(map[string]any); ok {
		dev["suggested_area"] = area
	}
	return cfg
}
