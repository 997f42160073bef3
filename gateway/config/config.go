// Package config loads avshub's YAML configuration: strict (unknown keys are
// errors), with defaults applied in code and every error naming the file, the
// line and the key.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole avshub configuration.
type Config struct {
	Hub       Hub       `yaml:"hub"`
	Alexa     Alexa     `yaml:"alexa"`
	AVS       AVS       `yaml:"avs"`
	Skill     Skill     `yaml:"skill"`
	LWA       LWA       `yaml:"lwa"`
	Router    Router    `yaml:"router"`
	Bridges   []Bridge  `yaml:"bridges"`
	MQTT      MQTT      `yaml:"mqtt"`
	Dashboard Dashboard `yaml:"dashboard"`
	Status    Status    `yaml:"status"`
	Log       Log       `yaml:"log"`

	// Path is the file the configuration came from ("" when built in code).
	Path string `yaml:"-"`

	// doc is the parsed document, for the lines of later checks.
	doc *yaml.Node
}

// Hub identifies the hub and where it keeps its data.
type Hub struct {
	// SerialNumber is the device serial number (DSN) registered with Amazon.
	SerialNumber string `yaml:"serialNumber"`
	// ProductID is the AVS product id of the security profile.
	ProductID string `yaml:"productId"`
	// DataDir holds tokens, the registry and bridge data (created 0700).
	DataDir string `yaml:"dataDir"`
	// Profile is the Alexa profile: "avs" (default) or "smarthome".
	Profile string `yaml:"profile"`
	// Locales for capability friendly names (default [en-US]).
	Locales []string `yaml:"locales"`
	// FriendlyName is the hub's own name ("" for the AVS default endpoint).
	FriendlyName string `yaml:"friendlyName"`
	// MemoryLimit is the soft limit of the hub's Go memory while its live heap
	// is small, in bytes (0: 34 MiB; -1: none; GOMEMLIMIT in the environment wins).
	MemoryLimit int64 `yaml:"memoryLimit"`
}

// Alexa picks the road to Alexa.
type Alexa struct {
	// Transport is "avs" (default: the hub is an AVS device) or "skill" (the
	// hub is the backend of the owner's own Smart Home skill; see Skill).
	Transport string `yaml:"transport"`
}

// Transports.
const (
	TransportAVS   = "avs"
	TransportSkill = "skill"
)

// Skill configures the Smart Home skill road (alexa.transport: skill).
type Skill struct {
	// Listen is where the hub takes directives from the skill's Lambda
	// (default 127.0.0.1:8790: behind a tunnel or reverse proxy).
	Listen string `yaml:"listen"`
	// Path of the directive endpoint (default /alexa/skill).
	Path string `yaml:"path"`
	// TLSCert and TLSKey serve the endpoint over HTTPS with the hub's own
	// certificate; without them it is plain HTTP for a proxy or tunnel in front.
	TLSCert string `yaml:"tlsCert"`
	TLSKey  string `yaml:"tlsKey"`
	// PublicURL is the URL the Lambda calls (checked by `avshub skill doctor`).
	PublicURL string `yaml:"publicUrl"`
	// Secret is the HMAC secret shared with the Lambda (at least 32 characters);
	// SecretFile reads it from a file instead.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secretFile"`
	// ClientID and ClientSecret are the skill's "Alexa Skill Messaging"
	// credentials (developer console, the skill's PERMISSIONS page), used to
	// exchange AcceptGrant codes and refresh the event gateway tokens.
	ClientID     string `yaml:"clientId"`
	ClientSecret string `yaml:"clientSecret"`
	// Region picks the event gateway: NA, EU or FE (default NA).
	Region string `yaml:"region"`
	// EventGatewayURL overrides the region's event gateway (the emulator's).
	EventGatewayURL string `yaml:"eventGatewayUrl"`
	// CAFile is an extra CA to trust for the event gateway (the emulator's).
	CAFile string `yaml:"caFile"`
	// UserID pins the Amazon user (amzn1.account.…) the hub accepts; empty:
	// the user of the first AcceptGrant.
	UserID string `yaml:"userId"`
}

// AVS configures the connection to the Alexa Voice Service.
type AVS struct {
	// Region picks the base URL: NA, EU or FE (default NA).
	Region string `yaml:"region"`
	// URL overrides the region's base URL (e.g. the emulator's).
	URL string `yaml:"url"`
	// CAFile is an extra CA certificate to trust (the emulator's); system roots otherwise.
	CAFile string `yaml:"caFile"`
	// PingInterval is the idle time before a ping (default 5m).
	PingInterval time.Duration `yaml:"pingInterval"`
	// AccessToken is a fixed access token for development against the emulator;
	// real hubs link with Login with Amazon instead.
	AccessToken string `yaml:"accessToken"`
}

// LWA configures Login with Amazon.
type LWA struct {
	// ClientID of the security profile ("Other devices and platforms").
	ClientID string `yaml:"clientId"`
	// ClientSecret, only for refresh tokens imported from a companion app.
	ClientSecret string `yaml:"clientSecret"`
	// URL is the LWA base URL (default https://api.amazon.com).
	URL string `yaml:"url"`
	// CAFile is an extra CA certificate to trust for LWA (the emulator's).
	CAFile string `yaml:"caFile"`
	// RefreshHeadStart: refresh this long before the access token expires (default 10m).
	RefreshHeadStart time.Duration `yaml:"refreshHeadStart"`
}

// Router configures directive handling.
type Router struct {
	// Deadline for one bridge command (default 7s, under Alexa's budget).
	Deadline time.Duration `yaml:"deadline"`
	// DeferredDeadline bounds a command answered "accepted" (default 20s).
	DeferredDeadline time.Duration `yaml:"deferredDeadline"`
	// ChangeReportWindow coalesces ChangeReports per endpoint (default 1s).
	ChangeReportWindow time.Duration `yaml:"changeReportWindow"`
}

// Bridge configures one bridge plugin.
type Bridge struct {
	// Name of the bridge; part of every endpoint id, so never change it.
	Name string `yaml:"name"`
	// Path of an external plugin binary (relative paths are relative to the
	// config file). Empty: the bridge bundled in the avshub executable named by
	// Bundled, run as `avshub bridge BUNDLED`.
	Path string `yaml:"path"`
	// Bundled names the bundled bridge (one of BundledBridges) a bridge without
	// a path runs; default: the bridge's name (so `name: zigbee` alone is the
	// bundled Zigbee bridge, and `name: upstairs, bundled: zigbee` a second one).
	Bundled string `yaml:"bundled"`
	// SHA256 of the binary, verified before launch ("" trusts the file as is).
	SHA256 string `yaml:"sha256"`
	// StartTimeout for the plugin handshake (default 30s).
	StartTimeout time.Duration `yaml:"startTimeout"`
	// Disabled keeps the bridge configured but not started.
	Disabled bool `yaml:"disabled"`
	// Dev adopts a rebuilt binary at the bridge's next start (and restarts it on
	// SIGHUP when its binary changed) instead of refusing it: for developing a
	// bridge, never for production (`avshub run --dev` sets it for every bridge).
	Dev bool `yaml:"dev"`
	// MaxEndpoints is the most endpoints the bridge may register (default
	// 10000, at most 100000); devices past it are refused and logged.
	MaxEndpoints int `yaml:"maxEndpoints"`
	// Config is the bridge's own configuration, passed to it as JSON.
	Config yaml.Node `yaml:"config"`
}

// BundledBridges are the bridges the avshub executable carries
// (bridges/bundled; cmd/avshub checks the two lists agree).
var BundledBridges = []string{"mqtt", "virtual", "zigbee"}

// BundledName returns the bundled bridge b runs, or "" when b is an external
// plugin binary (b.Path set).
func (b *Bridge) BundledName() string {
	if b.Path != "" {
		return ""
	}
	if b.Bundled != "" {
		return b.Bundled
	}
	return b.Name
}

// ConfigJSON returns the bridge's configuration as JSON ("{}" when empty).
func (b *Bridge) ConfigJSON() (json.RawMessage, error) {
	if b.Config.Kind == 0 {
		return json.RawMessage("{}"), nil
	}
	var v any
	if err := b.Config.Decode(&v); err != nil {
		return nil, err
	}
	if v == nil {
		return json.RawMessage("{}"), nil
	}
	return json.Marshal(v)
}

// MQTT configures the broker the hub uses (for dashboards and the MQTT bridge).
type MQTT struct {
	// Broker is an external broker URL (tcp://, ssl://, ws://). Empty: embedded broker.
	Broker   string `yaml:"broker"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// CAFile, CertFile, KeyFile for ssl:// brokers.
	CAFile   string `yaml:"caFile"`
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
	// Embedded configures the embedded broker used when Broker is empty.
	Embedded EmbeddedBroker `yaml:"embedded"`
}

// EmbeddedBroker configures the embedded MQTT broker.
type EmbeddedBroker struct {
	// Disabled turns the embedded broker off (no MQTT at all without Broker).
	Disabled bool `yaml:"disabled"`
	// Listen address (default 127.0.0.1:1883).
	Listen string `yaml:"listen"`
	// Users allowed to connect; none means anonymous local access.
	Users []MQTTUser `yaml:"users"`
	// TLSCert and TLSKey turn on TLS.
	TLSCert string `yaml:"tlsCert"`
	TLSKey  string `yaml:"tlsKey"`
	// Limits bound what MQTT clients may make the broker hold (0: the default).
	Limits BrokerLimits `yaml:"limits"`
}

// BrokerLimits bound packets, sessions, queues and retained messages of the
// embedded broker; a zero field takes its default (see the README's Security section).
type BrokerLimits struct {
	// MaxPacketSize is the largest MQTT packet accepted, in bytes (default 1 MiB).
	MaxPacketSize int `yaml:"maxPacketSize"`
	// SessionExpiry is how long a disconnected client's session is kept (default 1h).
	SessionExpiry time.Duration `yaml:"sessionExpiry"`
	// MaxQueueBytes bounds the payload bytes queued for one disconnected client (default 256 KiB).
	MaxQueueBytes int `yaml:"maxQueueBytes"`
	// MaxClients bounds the client sessions, connected or kept (default 100).
	MaxClients int `yaml:"maxClients"`
	// MaxRetained bounds the retained topics (default 10000).
	MaxRetained int `yaml:"maxRetained"`
	// MaxRetainedBytes bounds the retained messages, in bytes (default 4 MiB).
	MaxRetainedBytes int `yaml:"maxRetainedBytes"`
	// MaxWillBytes bounds the Wills held for connected clients, in bytes (default 1 MiB).
	MaxWillBytes int `yaml:"maxWillBytes"`
	// MaxQueueBytesTotal bounds the messages held for all clients together, in bytes (default 4 MiB).
	MaxQueueBytesTotal int `yaml:"maxQueueBytesTotal"`
	// MaxSubscriptions bounds the topic filters of one client (default 1000).
	MaxSubscriptions int `yaml:"maxSubscriptions"`
	// MaxOutboundBytes bounds the messages waiting to be written to one connected client, in bytes (default 1 MiB).
	MaxOutboundBytes int `yaml:"maxOutboundBytes"`
	// MaxOutboundBytesTotal bounds the messages waiting to be written to all connected clients, in bytes (default 4 MiB).
	MaxOutboundBytesTotal int `yaml:"maxOutboundBytesTotal"`
}

// MQTTUser is one user of the embedded broker with its topic rights.
type MQTTUser struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Read and Write are topic filters the user may subscribe to / publish on.
	Read  []string `yaml:"read"`
	Write []string `yaml:"write"`
}

// Dashboard configures publishing endpoints to MQTT for dashboards.
type Dashboard struct {
	// Disabled turns dashboard publishing off.
	Disabled bool `yaml:"disabled"`
	// TopicPrefix for state and command topics (default avshub).
	TopicPrefix string `yaml:"topicPrefix"`
	// DiscoveryPrefix for Home Assistant discovery (default homeassistant).
	DiscoveryPrefix string `yaml:"discoveryPrefix"`
	// Bridges whose endpoints are published (default: all but "mqtt").
	Bridges []string `yaml:"bridges"`
	// Retain state messages (default true).
	Retain *bool `yaml:"retain"`
	// QoS for publishes (default 1).
	QoS *int `yaml:"qos"`
	// RecordFile, when set, gets every message published for dashboards as one
	// JSON line (topic, retained, payload): for demos and debugging.
	RecordFile string `yaml:"recordFile"`
}

// Status configures the status page, metrics and the local API.
type Status struct {
	// Listen address of the status page, /metrics, /healthz and /readyz
	// (default 127.0.0.1:8080; "off" disables it).
	Listen string `yaml:"listen"`
	// Socket is the local API's unix socket (default <dataDir>/avshub.sock).
	Socket string `yaml:"socket"`
	// AllowedHosts are host names the status page answers to besides IP
	// addresses and localhost (any other Host header is refused: DNS rebinding).
	AllowedHosts []string `yaml:"allowedHosts"`
	// PublicURL is the address people open the status page at when it is not
	// the one they typed (a reverse proxy with a certificate): Login with
	// Amazon sends the browser back to PublicURL + "/link/callback", which must
	// be among the security profile's Allowed Return URLs. Empty: the address
	// the page was opened at.
	PublicURL string `yaml:"publicUrl"`
}

// Log configures logging.
type Log struct {
	// Format is text (default) or json.
	Format string `yaml:"format"`
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Levels overrides the level per component (avs, lwa, router, host, dashboard…).
	Levels map[string]string `yaml:"levels"`
}

// Error is a configuration error with its place.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
	typ  string // the Go type an unknown key was found in ("config.Hub")
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// Load reads, decodes strictly, defaults and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes data (named path in errors), applies defaults and validates.
func Parse(path string, data []byte) (*Config, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(path, err)
	}
	cfg := &Config{Path: path}
	if root.Kind != 0 {
		strict := yaml.NewDecoder(bytes.NewReader(data))
		strict.KnownFields(true)
		if err := strict.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
			return nil, unknownKey(typeError(yamlError(path, err), &root), &root)
		}
		cfg.Path = path
	}
	cfg.applyDefaults()
	if err := cfg.validate(&root); err != nil {
		return nil, err
	}
	cfg.doc = &root
	return cfg, nil
}

// yamlError turns yaml's "yaml: line N: msg" (or a TypeError's list) into an *Error.
func yamlError(path string, err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	e := &Error{File: path, Msg: msg}
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		e.Line = line
		e.Msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	if i := strings.Index(e.Msg, "field "); i >= 0 && strings.Contains(e.Msg, "not found") {
		f := strings.Fields(e.Msg[i+len("field "):])
		if len(f) > 0 {
			e.Key = f[0]
			e.Msg = "unknown key"
			if len(f) >= 4 && f[1] == "not" && f[2] == "found" {
				e.typ = f[len(f)-1] // "in type config.Hub"
			}
		}
	}
	return e
}

// unknownKey completes an "unknown key" error: the key's whole path
// ("hub.profil", from the document) and the keys accepted there.
func unknownKey(err error, root *yaml.Node) error {
	e, ok := err.(*Error)
	if !ok || e.Msg != "unknown key" {
		return err
	}
	if key, _ := keyAt(root, e.Line); key != "" && (key == e.Key || strings.HasSuffix(key, "."+e.Key)) {
		e.Key = key
	} else if key := mappingKeyAt(root, e.Line, e.Key); key != "" {
		e.Key = key
	}
	if keys := yamlKeys[e.typ]; len(keys) > 0 {
		e.Msg = "unknown key; the keys here are " + strings.Join(keys, ", ")
	}
	return e
}

// mappingKeyAt returns the dotted path of the key named name on line whose
// value is a mapping or a list (keyAt finds only scalar values).
func mappingKeyAt(root *yaml.Node, line int, name string) string {
	var walk func(n *yaml.Node, path string) string
	walk = func(n *yaml.Node, path string) string {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if k := walk(c, path); k != "" {
					return k
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if k.Line == line && k.Value == name {
					return p
				}
				if x := walk(n.Content[i+1], p); x != "" {
					return x
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if k := walk(c, fmt.Sprintf("%s[%d]", path, i)); k != "" {
					return k
				}
			}
		}
		return ""
	}
	return walk(root, "")
}

// yamlKeys lists, for each struct type of the configuration as yaml names it
// in its errors ("config.Hub"), the keys it accepts.
var yamlKeys = func() map[string][]string {
	m := map[string][]string{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t.PkgPath() == "" {
			return
		}
		name := t.String()
		if _, seen := m[name]; seen {
			return
		}
		m[name] = nil
		var keys []string
		for i := range t.NumField() {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if !f.IsExported() || tag == "-" {
				continue
			}
			if tag == "" {
				tag = strings.ToLower(f.Name)
			}
			keys = append(keys, tag)
			visit(f.Type)
		}
		m[name] = keys
	}
	visit(reflect.TypeOf(Config{}))
	return m
}()

func (c *Config) applyDefaults() {
	if c.Hub.DataDir == "" {
		c.Hub.DataDir = "/var/lib/avshub"
	}
	if c.Path != "" && !filepath.IsAbs(c.Hub.DataDir) {
		c.Hub.DataDir = filepath.Join(filepath.Dir(c.Path), c.Hub.DataDir)
	}
	if c.Alexa.Transport == "" {
		c.Alexa.Transport = TransportAVS
	}
	if c.Hub.Profile == "" {
		c.Hub.Profile = "avs"
		if c.Alexa.Transport == TransportSkill {
			c.Hub.Profile = "smarthome" // a skill speaks the Smart Home interfaces
		}
	}
	if c.Skill.Listen == "" {
		c.Skill.Listen = "127.0.0.1:8790"
	}
	if c.Skill.Path == "" {
		c.Skill.Path = "/alexa/skill"
	}
	if c.Skill.Region == "" {
		c.Skill.Region = "NA"
	}
	if c.Path != "" && c.Skill.SecretFile != "" && !filepath.IsAbs(c.Skill.SecretFile) {
		c.Skill.SecretFile = filepath.Join(filepath.Dir(c.Path), c.Skill.SecretFile)
	}
	if len(c.Hub.Locales) == 0 {
		c.Hub.Locales = []string{"en-US"}
	}
	if c.AVS.Region == "" {
		c.AVS.Region = "NA"
	}
	if c.AVS.PingInterval == 0 {
		c.AVS.PingInterval = 5 * time.Minute
	}
	if c.LWA.URL == "" {
		c.LWA.URL = "https://api.amazon.com"
	}
	if c.LWA.RefreshHeadStart == 0 {
		c.LWA.RefreshHeadStart = 10 * time.Minute
	}
	if c.Router.Deadline == 0 {
		c.Router.Deadline = 7 * time.Second
	}
	if c.Router.DeferredDeadline == 0 {
		c.Router.DeferredDeadline = 20 * time.Second
	}
	if c.Router.ChangeReportWindow == 0 {
		c.Router.ChangeReportWindow = time.Second
	}
	for i := range c.Bridges {
		b := &c.Bridges[i]
		if b.StartTimeout == 0 {
			b.StartTimeout = 30 * time.Second
		}
		if b.Path != "" && c.Path != "" && !filepath.IsAbs(b.Path) {
			b.Path = filepath.Join(filepath.Dir(c.Path), b.Path)
		}
	}
	if c.MQTT.Embedded.Listen == "" {
		c.MQTT.Embedded.Listen = "127.0.0.1:1883"
	}
	if c.Dashboard.TopicPrefix == "" {
		c.Dashboard.TopicPrefix = "avshub"
	}
	if c.Dashboard.DiscoveryPrefix == "" {
		c.Dashboard.DiscoveryPrefix = "homeassistant"
	}
	if c.Dashboard.Bridges == nil {
		c.Dashboard.Bridges = []string{}
	}
	if c.Dashboard.Retain == nil {
		t := true
		c.Dashboard.Retain = &t
	}
	if c.Dashboard.QoS == nil {
		q := 1
		c.Dashboard.QoS = &q
	}
	if c.Status.Listen == "" {
		c.Status.Listen = "127.0.0.1:8080"
	}
	if c.Status.Socket == "" {
		c.Status.Socket = filepath.Join(c.Hub.DataDir, "avshub.sock")
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
}

// EmbeddedBrokerEnabled reports whether the hub should start its own broker.
func (c *Config) EmbeddedBrokerEnabled() bool {
	return c.MQTT.Broker == "" && !c.MQTT.Embedded.Disabled
}

// BrokerURL is the URL MQTT clients of the hub connect to ("" when there is no MQTT).
func (c *Config) BrokerURL() string {
	if c.MQTT.Broker != "" {
		return c.MQTT.Broker
	}
	if c.MQTT.Embedded.Disabled {
		return ""
	}
	scheme := "tcp"
	if c.MQTT.Embedded.TLSCert != "" {
		scheme = "ssl"
	}
	return scheme + "://" + c.MQTT.Embedded.Listen
}

// DashboardBridge reports whether endpoints of bridge are published to dashboards.
func (c *Config) DashboardBridge(bridge string) bool {
	if len(c.Dashboard.Bridges) == 0 {
		return bridge != "mqtt"
	}
	for _, b := range c.Dashboard.Bridges {
		if b == bridge {
			return true
		}
	}
	return false
}
