// Package broker runs avshub's embedded MQTT broker (mochi-mqtt/server v2).
//
// The broker listens on one TCP address (127.0.0.1:1883 by default), with TLS
// when a certificate and key are configured. With no users configured any
// client may connect and use any topic (fine on loopback only; a warning is
// logged otherwise). With users, every client must log in and may only
// subscribe to and publish on the topic filters its user is given; the Will a
// client leaves at CONNECT must lie within its publish rights too, or the
// login is refused (CONNACK "not authorized"). The hub's
// own clients (dashboard publisher) log in as an internal user with every
// right and a random password, from Credentials, anonymous broker or not: the
// limits tell them apart by it. Retained messages are kept in a bbolt file in
// the data directory, so dashboards see the last state after a restart. A
// connection that has not sent CONNECT within 10 s is closed.
//
// When avshub is configured with an external broker (mqtt.broker), nothing of
// this package is used.
package broker

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// DefaultListen is the embedded broker's default listen address.
const DefaultListen = "127.0.0.1:1883"

// InternalUsername is the user name of the hub's own clients; configured users may not take it.
const InternalUsername = "avshub-internal"

// RetainedFile is the name of the retained-message store in the data directory.
const RetainedFile = "mqtt-retained.db"

// ErrAddressInUse is wrapped by Start's error when the listen address is taken.
var ErrAddressInUse = errors.New("address already in use")

// User is one login of the embedded broker with its topic rights.
type User struct {
	Username string
	Password string
	// Read lists the topic filters the user may subscribe to (a subscription must
	// lie within one of them).
	Read []string
	// Write lists the topic filters the user may publish on.
	Write []string
}

// Config configures the embedded broker.
type Config struct {
	// Listen is the TCP address to listen on (default 127.0.0.1:1883; port 0 picks one).
	Listen string
	// Users who may connect; none means anonymous clients may do anything.
	Users []User
	// TLSCert and TLSKey are PEM files; both set turn TLS on.
	TLSCert string
	TLSKey  string
	// DataDir keeps the retained-message store; "" keeps retained messages in memory only.
	DataDir string
	// Logger for broker events (default slog.Default()).
	Logger *slog.Logger
	// ConnectTimeout is how long a new connection may take to send CONNECT
	// before it is closed (default 10 s).
	ConnectTimeout time.Duration
	// Limits bound packets, sessions, queues and retained messages.
	Limits Limits
	// OnRefused, when set, is called with a limit's setting name (as in
	// mqtt.embedded.limits, e.g. "maxQueueBytesTotal") each time it refuses
	// or drops something: for metrics.
	OnRefused func(limit string)
}

// DefaultConnectTimeout is Config.ConnectTimeout's default.
const DefaultConnectTimeout = 10 * time.Second

// Broker is a running embedded broker.
type Broker struct {
	cfg       Config
	log       *slog.Logger
	server    *mqtt.Server
	addr      string
	tls       bool
	leaf      []byte // DER of the served certificate, for ClientTLS
	auth      *authHook
	limits    *limitsHook
	outbound  *outboundHook
	listener  *safeListener
	closeOnce sync.Once
	done      chan struct{}
	stop      func() bool
}

// Start validates cfg, binds the listen address and serves until Close is
// called or ctx ends. A taken address yields an error wrapping ErrAddressInUse
// whose text is one line telling how to use the running broker instead.
func Start(ctx context.Context, cfg Config) (*Broker, error) {
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := checkMochi(); err != nil {
		return nil, err
	}
	auth, err := newAuthHook(cfg.Users)
	if err != nil {
		return nil, err
	}
	b := &Broker{cfg: cfg, log: log, auth: auth, done: make(chan struct{})}

	listenerID := "tcp"
	var tlsCfg *tls.Config
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, errors.New("mqtt broker: TLS needs both a certificate and a key file")
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("mqtt broker: load TLS certificate: %w", err)
		}
		listenerID = "tls"
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		b.tls = true
		b.leaf = cert.Certificate[0]
	}

	limits := cfg.Limits.withDefaults()
	caps := mqtt.NewDefaultServerCapabilities()
	limits.capabilities(caps)
	b.server = mqtt.New(&mqtt.Options{
		Logger:       slog.New(minLevel{h: log.Handler(), min: slog.LevelWarn}),
		InlineClient: false,
		Capabilities: caps,
	})
	auth.server = b.server
	if err := b.server.AddHook(auth, nil); err != nil {
		return nil, fmt.Errorf("mqtt broker: add auth hook: %w", err)
	}
	b.limits = &limitsHook{server: b.server, limits: limits, retained: map[string]int{}, parents: map[string]int{}, refused: cfg.OnRefused,
		delayed: map[string]delayedWill{}, subPending: map[*mqtt.Client]int{},
		internal: func(cl *mqtt.Client) bool {
			// The login is checked (OnConnectAuthenticate) before anything
			// but OnConnect, whose refusals an impostor does not get past.
			return string(cl.Properties.Username) == InternalUsername
		}}
	auth.queueFull = b.limits.queueFull
	auth.tooDeep = b.limits.tooDeep
	if err := b.server.AddHook(b.limits, nil); err != nil {
		return nil, fmt.Errorf("mqtt broker: add limits hook: %w", err)
	}
	out := &outboundHook{server: b.server, perCl: limits.MaxOutboundBytes, total: limits.MaxOutboundBytesTotal,
		stall: limits.outboundStall, internal: b.limits.internal, refused: cfg.OnRefused, buffered: new(atomic.Int64),
		clients: map[*mqtt.Client]*outState{}, publishing: map[string][]publication{},
		subscribing: map[*mqtt.Client][]string{}}
	auth.outboundFull = out.full
	b.outbound = out
	if err := b.server.AddHook(out, nil); err != nil {
		return nil, fmt.Errorf("mqtt broker: add outbound hook: %w", err)
	}
	if err := b.server.AddHook(&packetIDHook{server: b.server}, nil); err != nil {
		return nil, fmt.Errorf("mqtt broker: add packet id hook: %w", err)
	}
	if cfg.DataDir != "" {
		if err := b.server.AddHook(new(retainedStore), filepath.Join(cfg.DataDir, RetainedFile)); err != nil {
			return nil, fmt.Errorf("mqtt broker: open retained store in %s: %w", cfg.DataDir, err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		_ = b.server.Close()
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("mqtt broker: %s is already in use; if an MQTT broker runs there, "+
				"point avshub at it with `mqtt.broker: tcp://%s` in the config, or set mqtt.embedded.listen "+
				"to a free address: %w", cfg.Listen, dialAddr(cfg.Listen), ErrAddressInUse)
		}
		return nil, fmt.Errorf("mqtt broker: listen on %s: %w", cfg.Listen, err)
	}
	tcp := newSafeListener(listenerID, ln, tlsCfg, b.server, cfg.ConnectTimeout, limits.outboundStall, log)
	tcp.buffered = out.buffered
	// Past this an outbound buffer holds more than its budget lets in
	// (MaxOutboundBytes and one message) and some room for the client's
	// acknowledgements: the client sends and reads nothing.
	tcp.hardMax = limits.MaxOutboundBytes + limits.MaxPacketSize + hardMaxSlack
	b.listener = tcp
	if err := b.server.AddListener(tcp); err != nil {
		_ = ln.Close()
		_ = b.server.Close()
		return nil, fmt.Errorf("mqtt broker: add listener: %w", err)
	}
	b.addr = tcp.Address()
	if err := b.server.Serve(); err != nil {
		_ = b.server.Close()
		return nil, fmt.Errorf("mqtt broker: serve: %w", err)
	}
	b.limits.loadRetained()
	if len(cfg.Users) == 0 && !loopback(b.addr) {
		log.Warn("embedded MQTT broker accepts anonymous clients on a non-loopback address; configure mqtt.embedded.users",
			"addr", b.addr)
	} else if len(cfg.Users) == 0 {
		log.Info("embedded MQTT broker accepts anonymous clients: any local process may control devices and add endpoints; "+
			"give dashboards a user (mqtt.embedded.users, see the README's Security section)", "addr", b.addr)
	}
	b.stop = context.AfterFunc(ctx, func() { _ = b.Close() })
	log.Info("embedded MQTT broker listening", "url", b.URL(), "users", len(cfg.Users),
		"persistent", cfg.DataDir != "")
	return b, nil
}

// Addr is the address the broker listens on (host:port, the real port when 0 was asked).
func (b *Broker) Addr() string { return b.addr }

// URL is the broker's URL for paho clients: tcp://host:port, or ssl://host:port with TLS.
func (b *Broker) URL() string {
	if b.tls {
		return "ssl://" + b.addr
	}
	return "tcp://" + b.addr
}

// Credentials returns the user name and password the hub's own clients use
// (the internal user's, also when the broker takes anonymous clients: the
// limits exempt them by it).
func (b *Broker) Credentials() (username, password string) {
	return InternalUsername, b.auth.internalPassword
}

// ClientTLS returns the TLS configuration for the hub's own clients (nil
// without TLS): it accepts exactly the broker's certificate, whatever name it was issued for.
func (b *Broker) ClientTLS() *tls.Config {
	if !b.tls {
		return nil
	}
	leaf := b.leaf
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The certificate is pinned below instead of verified against a CA and
		// name: the hub dials its own broker, whose certificate it has loaded.
		InsecureSkipVerify: true, //nolint:gosec // pinned in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, leaf) {
				return errors.New("mqtt broker presented an unexpected certificate")
			}
			return nil
		},
	}
}

// CertPool returns a pool holding the broker's certificate (nil without TLS),
// for clients that verify names the ordinary way.
func (b *Broker) CertPool() *x509.CertPool {
	if !b.tls {
		return nil
	}
	c, err := x509.ParseCertificate(b.leaf)
	if err != nil {
		return nil
	}
	p := x509.NewCertPool()
	p.AddCert(c)
	return p
}

// Done is closed once the broker has stopped.
func (b *Broker) Done() <-chan struct{} { return b.done }

// Close disconnects every client, stops listening and closes the retained store. It is idempotent.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		if b.stop != nil {
			b.stop()
		}
		b.listener.shut()
		_ = b.server.Close()
		b.log.Info("embedded MQTT broker stopped")
		close(b.done)
	})
	return nil
}

// dialAddr turns a listen address into one a client can dial (an empty or
// unspecified host becomes 127.0.0.1).
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// authHook authenticates users and checks their topic rights, including the
// topic of the Will a client leaves at CONNECT (the broker publishes it on the
// client's behalf when the connection drops).
type authHook struct {
	mqtt.HookBase
	server           *mqtt.Server
	users            map[string]User
	internalPassword string
	// queueFull, when set, refuses a delivery to a client whose queue is full.
	queueFull func(cl *mqtt.Client, topic string) bool
	// outboundFull, when set, refuses a delivery to a client whose outbound
	// buffer is full; a delivery it lets through is counted as queued.
	outboundFull func(cl *mqtt.Client, topic string) bool
	// tooDeep, when set, refuses a publication, Will or subscription whose
	// topic has more than maxTopicLevels levels.
	tooDeep func(cl *mqtt.Client, topic, what string) bool
}

func newAuthHook(users []User) (*authHook, error) {
	h := &authHook{users: map[string]User{}}
	for i, u := range users {
		switch {
		case u.Username == "":
			return nil, fmt.Errorf("mqtt broker: user %d has no username", i+1)
		case u.Username == InternalUsername:
			return nil, fmt.Errorf("mqtt broker: the username %q is reserved for the hub", InternalUsername)
		case u.Password == "":
			return nil, fmt.Errorf("mqtt broker: user %q has no password", u.Username)
		}
		if _, dup := h.users[u.Username]; dup {
			return nil, fmt.Errorf("mqtt broker: user %q is configured twice", u.Username)
		}
		for _, f := range append(append([]string(nil), u.Read...), u.Write...) {
			if err := ValidFilter(f); err != nil {
				return nil, fmt.Errorf("mqtt broker: user %q: %w", u.Username, err)
			}
		}
		h.users[u.Username] = u
	}
	var p [24]byte
	if _, err := rand.Read(p[:]); err != nil {
		return nil, fmt.Errorf("mqtt broker: internal password: %w", err)
	}
	h.internalPassword = hex.EncodeToString(p[:])
	return h, nil
}

func (h *authHook) anonymous() bool { return len(h.users) == 0 }

// ID names the hook.
func (h *authHook) ID() string { return "avshub-auth" }

// Provides says which hook methods are implemented.
func (h *authHook) Provides(b byte) bool {
	return b == mqtt.OnConnect || b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

// errWillRefused ends a connection whose Will its user may not publish.
var errWillRefused = errors.New("mqtt broker: Will topic not allowed")

// OnConnect refuses (CONNACK "not authorized") a client whose login is right
// but whose Will names a topic its user may not publish on, or a topic with a
// wildcard: the broker would otherwise publish it for the client, past the
// ACLs, when the connection drops. A wrong login is left to
// OnConnectAuthenticate, so the answer to a bad password does not depend on the Will.
func (h *authHook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	if !pk.Connect.WillFlag {
		return nil
	}
	topic := pk.Connect.WillTopic
	ok := !strings.ContainsAny(topic, "+#") && (h.tooDeep == nil || !h.tooDeep(cl, topic, "login"))
	if ok && !h.anonymous() {
		name := string(pk.Connect.Username)
		if !h.passwordOK(name, pk.Connect.Password) {
			return nil // refused as a bad login next
		}
		ok = h.mayPublish(name, topic)
	}
	if ok {
		return nil
	}
	h.Log.Warn("MQTT login refused: the Will's topic is not one the user may publish on",
		"user", string(pk.Connect.Username), "will_topic", topic, "retain", pk.Connect.WillRetain, "remote", cl.Net.Remote)
	code := packets.ErrNotAuthorized
	if cl.Properties.ProtocolVersion < 5 {
		code = packets.Err3NotAuthorized
	}
	if err := h.server.SendConnack(cl, code, false, nil); err != nil {
		return fmt.Errorf("%w (CONNACK: %w)", errWillRefused, err)
	}
	return errWillRefused
}

// OnConnectAuthenticate accepts anonymous clients when no users are
// configured, else a known user with its password; the internal user needs
// its password either way.
func (h *authHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	name := string(pk.Connect.Username)
	if h.anonymous() && name != InternalUsername {
		return true
	}
	if _, ok := h.password(name); !ok {
		h.Log.Warn("MQTT login refused: unknown user", "user", name, "remote", cl.Net.Remote)
		return false
	}
	if !h.passwordOK(name, pk.Connect.Password) {
		h.Log.Warn("MQTT login refused: wrong password", "user", name, "remote", cl.Net.Remote)
		return false
	}
	return true
}

// password returns the password of user name, false for an unknown user.
func (h *authHook) password(name string) (string, bool) {
	if name == InternalUsername {
		return h.internalPassword, true
	}
	u, ok := h.users[name]
	return u.Password, ok
}

// passwordOK reports whether name is a known user and pass its password.
func (h *authHook) passwordOK(name string, pass []byte) bool {
	want, ok := h.password(name)
	return ok && subtle.ConstantTimeCompare(pass, []byte(want)) == 1
}

// OnACLCheck allows a publish when the topic matches one of the user's write
// filters, and a subscription (or delivery) when it lies within a read filter.
func (h *authHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if !write && topic == refusedFilter {
		return false
	}
	if !write && h.queueFull != nil && h.queueFull(cl, topic) {
		return false
	}
	if write && h.tooDeep != nil && h.tooDeep(cl, topic, "publication") {
		return false
	}
	if !h.allowed(cl, topic, write) {
		return false
	}
	// Last: it counts the message as queued for cl when it lets it through.
	return write || h.outboundFull == nil || !h.outboundFull(cl, topic)
}

// allowed reports whether cl's user may publish on topic (write) or receive it.
func (h *authHook) allowed(cl *mqtt.Client, topic string, write bool) bool {
	if h.anonymous() {
		return true
	}
	name := string(cl.Properties.Username)
	if write {
		return h.mayPublish(name, topic)
	}
	if name == InternalUsername {
		return true
	}
	u, ok := h.users[name]
	return ok && coveredBy(u.Read, topic)
}

// mayPublish reports whether user name may publish on topic.
func (h *authHook) mayPublish(name, topic string) bool {
	if name == InternalUsername {
		return true
	}
	u, ok := h.users[name]
	return ok && coveredBy(u.Write, topic)
}

// coveredBy reports whether one of filters covers topic.
func coveredBy(filters []string, topic string) bool {
	for _, f := range filters {
		if Covers(f, topic) {
			return true
		}
	}
	return false
}

// packetIDHook keeps the two packet-id spaces of a connection apart. MQTT
// numbers the client's packets and the broker's independently, but mochi
// (v2.7.9) refuses a SUBSCRIBE or UNSUBSCRIBE whose id equals one of its own
// unacknowledged outgoing PUBLISHes (e.g. while retained messages flow after
// the previous subscription). The outgoing message's bookkeeping is dropped
// instead (it was delivered; only its acknowledgement goes unmatched).
type packetIDHook struct {
	mqtt.HookBase
	server *mqtt.Server
}

// ID names the hook.
func (h *packetIDHook) ID() string { return "avshub-packet-ids" }

// Provides says which hook methods are implemented.
func (h *packetIDHook) Provides(b byte) bool { return b == mqtt.OnPacketRead }

// OnPacketRead frees a clashing outgoing packet id before a (un)subscription is processed.
func (h *packetIDHook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if t := pk.FixedHeader.Type; t != packets.Subscribe && t != packets.Unsubscribe {
		return pk, nil
	}
	if out, ok := cl.State.Inflight.Get(pk.PacketID); ok && out.FixedHeader.Type == packets.Publish {
		if cl.State.Inflight.Delete(pk.PacketID) {
			atomic.AddInt64(&h.server.Info.Inflight, -1)
			cl.State.Inflight.IncreaseSendQuota()
		}
	}
	return pk, nil
}

// ValidFilter checks an MQTT topic filter: not empty, '#' only as the whole
// last level, '+' only as a whole level.
func ValidFilter(f string) error {
	if f == "" {
		return errors.New("empty topic filter")
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.Contains(l, "#") && (l != "#" || i != len(levels)-1) {
			return fmt.Errorf("topic filter %q: '#' must be the whole last level", f)
		}
		if strings.Contains(l, "+") && l != "+" {
			return fmt.Errorf("topic filter %q: '+' must be a whole level", f)
		}
	}
	return nil
}

// Covers reports whether every topic matched by sub (a topic or a filter) is
// also matched by the filter allowed.
func Covers(allowed, sub string) bool {
	a := strings.Split(allowed, "/")
	s := strings.Split(sub, "/")
	// Topics starting with '$' are not matched by a leading wildcard (MQTT 4.7.2).
	if strings.HasPrefix(sub, "$") && (a[0] == "#" || a[0] == "+") {
		return false
	}
	for i, al := range a {
		if al == "#" {
			return true
		}
		if i >= len(s) {
			return false
		}
		switch {
		case s[i] == "#":
			return false
		case al == "+":
			// '+' covers any single level, including a '+' in sub.
		case al != s[i]:
			return false
		}
	}
	return len(s) == len(a)
}

// minLevel drops records below min (mochi logs routine events at Info).
type minLevel struct {
	h   slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.h.Enabled(ctx, l)
}
func (m minLevel) Handle(ctx context.Context, r slog.Record) error { return m.h.Handle(ctx, r) }
func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h: m.h.WithAttrs(as), min: m.min}
}
func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h: m.h.WithGroup(name), min: m.min}
}
