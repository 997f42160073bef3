package mqtt

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/avshub/avshub/discovery/cacerts"
)

// ConfigSchema is the JSON schema of the bridge's configuration.
//
//go:embed config.schema.json
var ConfigSchema []byte

// SampleConfig is a configuration the schema accepts.
//
//go:embed sample-config.json
var SampleConfig []byte

// DefaultMaxMessageBytes is the default maxMessageBytes: zigbee2mqtt's
// bridge/devices for every definition it knows is about 18 MB.
const DefaultMaxMessageBytes = 64 << 20

// Config is the bridge's configuration (JSON, see ConfigSchema).
type Config struct {
	// Broker is the broker URL (default tcp://127.0.0.1:1883).
	Broker string `json:"broker,omitempty"`
	// Username and Password authenticate to the broker (never logged).
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// ClientID is the MQTT client id (default avshub-mqtt-<random>).
	ClientID string `json:"clientId,omitempty"`
	// TLS holds CA and client certificate files for ssl:// and wss://.
	TLS *TLSConfig `json:"tls,omitempty"`
	// Zigbee2MQTT configures the zigbee2mqtt convention (base topic).
	Zigbee2MQTT SourceConfig `json:"zigbee2mqtt"`
	// HomeAssistant configures Home Assistant MQTT discovery (prefix).
	HomeAssistant SourceConfig `json:"homeassistant"`
	// CommandTimeout bounds the wait for a device's echo (Go duration, default 3s).
	CommandTimeout string `json:"commandTimeout,omitempty"`
	// ConfirmTimeout bounds how long a command not confirmed within
	// CommandTimeout (answered DeferredResponse) may take before it fails
	// (Go duration, default 20s).
	ConfirmTimeout string `json:"confirmTimeout,omitempty"`
	// MaxMessage is the largest message processed, in bytes (default 64 MiB).
	MaxMessage int `json:"maxMessageBytes,omitempty"`
	// Remotes opts zigbee2mqtt remotes and buttons into Alexa, each as a
	// contact or motion sensor that a press opens or trips.
	Remotes []RemoteConfig `json:"remotes,omitempty"`
}

// RemoteConfig opts one zigbee2mqtt remote or button into Alexa.
type RemoteConfig struct {
	// Device is the remote's friendly name or IEEE address in zigbee2mqtt.
	Device string `json:"device"`
	// As is what Alexa sees: "contact" (open after a press) or "motion"
	// (detected after a press).
	As string `json:"as"`
	// Actions are the presses that count (zigbee2mqtt's action values,
	// e.g. "single"); empty: every press.
	Actions []string `json:"actions,omitempty"`
	// Hold is how long a press stays open or detected before the sensor
	// returns to closed or clear (Go duration, default 3s).
	Hold string `json:"hold,omitempty"`
}

// remoteOptIn is a parsed RemoteConfig.
type remoteOptIn struct {
	contact bool            // a contact stand-in, else motion
	actions map[string]bool // nil: every press counts
	hold    time.Duration
}

// defaultRemoteHold is how long a press keeps a stand-in open or detected.
const defaultRemoteHold = 3 * time.Second

// TLSConfig holds the files for ssl:// and wss:// brokers.
type TLSConfig struct {
	// CAFile is a PEM bundle of CAs to trust (default: the system pool).
	CAFile string `json:"caFile,omitempty"`
	// CertFile and KeyFile are the PEM client certificate and key (mutual TLS).
	CertFile string `json:"certFile,omitempty"`
	KeyFile  string `json:"keyFile,omitempty"`
	// ServerName overrides the name verified in the broker's certificate.
	ServerName string `json:"serverName,omitempty"`
	// InsecureSkipVerify disables certificate verification (testing only).
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// SourceConfig switches one convention on or off and sets its topic.
type SourceConfig struct {
	// Enabled switches the convention on or off (default on).
	Enabled *bool `json:"enabled,omitempty"`
	// BaseTopic is zigbee2mqtt's base topic (default zigbee2mqtt).
	BaseTopic string `json:"baseTopic,omitempty"`
	// Prefix is Home Assistant's discovery prefix (default homeassistant).
	Prefix string `json:"prefix,omitempty"`
}

func (s SourceConfig) on() bool { return s.Enabled == nil || *s.Enabled }

// settings is a parsed, defaulted Config.
type settings struct {
	broker         string
	username       string
	password       string
	clientID       string
	tls            *tls.Config
	z2m            bool
	z2mBase        string
	ha             bool
	haPrefix       string
	commandTimeout time.Duration
	confirmTimeout time.Duration
	maxMessage     int
	remotes        map[string]*remoteOptIn // by friendly name and lower-case IEEE address
}

// parseConfig decodes and checks a configuration; empty means all defaults.
func parseConfig(raw []byte) (*settings, error) {
	var c Config
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("mqtt bridge config: %w", err)
		}
	}
	s := &settings{broker: c.Broker, username: c.Username, password: c.Password, clientID: c.ClientID,
		z2m: c.Zigbee2MQTT.on(), z2mBase: c.Zigbee2MQTT.BaseTopic, ha: c.HomeAssistant.on(), haPrefix: c.HomeAssistant.Prefix,
		commandTimeout: 3 * time.Second, confirmTimeout: 20 * time.Second, maxMessage: c.MaxMessage}
	if s.broker == "" {
		s.broker = "tcp://127.0.0.1:1883"
	}
	if s.z2mBase == "" {
		s.z2mBase = "zigbee2mqtt"
	}
	if s.haPrefix == "" {
		s.haPrefix = "homeassistant"
	}
	if s.maxMessage == 0 {
		s.maxMessage = DefaultMaxMessageBytes
	}
	if s.maxMessage < 1024 {
		return nil, fmt.Errorf("mqtt bridge config: maxMessageBytes %d is below 1024", s.maxMessage)
	}
	for _, t := range []string{s.z2mBase, s.haPrefix} {
		if strings.ContainsAny(t, "+#") || strings.HasSuffix(t, "/") {
			return nil, fmt.Errorf("mqtt bridge config: topic %q must not contain wildcards or end in /", t)
		}
	}
	if s.z2m && s.ha && s.z2mBase == s.haPrefix {
		return nil, fmt.Errorf("mqtt bridge config: zigbee2mqtt baseTopic and homeassistant prefix are both %q", s.z2mBase)
	}
	if c.CommandTimeout != "" {
		d, err := time.ParseDuration(c.CommandTimeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("mqtt bridge config: commandTimeout %q is not a positive duration", c.CommandTimeout)
		}
		s.commandTimeout = d
	}
	if c.ConfirmTimeout != "" {
		d, err := time.ParseDuration(c.ConfirmTimeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("mqtt bridge config: confirmTimeout %q is not a positive duration", c.ConfirmTimeout)
		}
		s.confirmTimeout = d
	}
	remotes, err := parseRemotes(c.Remotes)
	if err != nil {
		return nil, err
	}
	s.remotes = remotes
	u, err := url.Parse(s.broker)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("mqtt bridge config: broker %q is not a URL like tcp://host:1883", s.broker)
	}
	secure := false
	switch u.Scheme {
	case "tcp", "mqtt", "ws":
	case "ssl", "tls", "mqtts", "wss":
		secure = true
	default:
		return nil, fmt.Errorf("mqtt bridge config: broker scheme %q is not tcp, ssl, ws or wss", u.Scheme)
	}
	if secure || c.TLS != nil {
		s.tls, err = c.TLS.build(u.Hostname())
		if err != nil {
			return nil, fmt.Errorf("mqtt bridge config: %w", err)
		}
	}
	if s.clientID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		s.clientID = "avshub-mqtt-" + hex.EncodeToString(b[:])
	}
	return s, nil
}

// parseRemotes checks the remotes opted into Alexa and keys them by device.
func parseRemotes(rs []RemoteConfig) (map[string]*remoteOptIn, error) {
	out := map[string]*remoteOptIn{}
	for i, r := range rs {
		if strings.TrimSpace(r.Device) == "" {
			return nil, fmt.Errorf("mqtt bridge config: remotes[%d]: device (friendly name or IEEE address) is empty", i)
		}
		key := remoteKey(r.Device)
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("mqtt bridge config: remotes[%d]: %q is opted in twice", i, r.Device)
		}
		o := &remoteOptIn{hold: defaultRemoteHold}
		switch r.As {
		case "contact":
			o.contact = true
		case "motion":
		default:
			return nil, fmt.Errorf("mqtt bridge config: remotes[%d] (%s): as %q is not contact or motion", i, r.Device, r.As)
		}
		for _, a := range r.Actions {
			if a == "" {
				return nil, fmt.Errorf("mqtt bridge config: remotes[%d] (%s): an empty action", i, r.Device)
			}
			if o.actions == nil {
				o.actions = map[string]bool{}
			}
			o.actions[a] = true
		}
		if r.Hold != "" {
			d, err := time.ParseDuration(r.Hold)
			if err != nil || d < 100*time.Millisecond || d > time.Hour {
				return nil, fmt.Errorf("mqtt bridge config: remotes[%d] (%s): hold %q is not a duration from 100ms to 1h", i, r.Device, r.Hold)
			}
			o.hold = d
		}
		out[key] = o
	}
	return out, nil
}

// remoteKey is the key of a remote in settings.remotes: an IEEE address in
// lower case, a friendly name as it is (zigbee2mqtt's names are
// case-sensitive).
func remoteKey(device string) string {
	if len(device) == 18 && strings.HasPrefix(strings.ToLower(device), "0x") {
		if _, err := hex.DecodeString(device[2:]); err == nil {
			return strings.ToLower(device)
		}
	}
	return device
}

func (t *TLSConfig) build(host string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	if t == nil {
		return cfg, nil
	}
	if t.ServerName != "" {
		cfg.ServerName = t.ServerName
	}
	cfg.InsecureSkipVerify = t.InsecureSkipVerify
	if t.CAFile != "" {
		pool, err := cacerts.File(t.CAFile, false)
		if err != nil {
			return nil, fmt.Errorf("tls caFile: %w", err)
		}
		cfg.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, fmt.Errorf("tls certFile and keyFile go together")
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
