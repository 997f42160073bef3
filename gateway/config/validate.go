package config

import (
	"cmp"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/gateway/dashboard/broker"
)

// MaxBridgeEndpoints is the largest bridges[].maxEndpoints accepted.
const MaxBridgeEndpoints = 100000

var bridgeName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// validate checks values that decode fine but make no sense; root is the
// parsed document, used to find the line of each key.
func (c *Config) validate(root *yaml.Node) error {
	fail := func(key, format string, args ...any) error {
		return &Error{File: c.Path, Line: lineOf(root, key), Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if c.Hub.SerialNumber == "" {
		return fail("hub.serialNumber", "is required (the device serial number registered with Amazon)")
	}
	if !regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`).MatchString(c.Hub.SerialNumber) {
		return fail("hub.serialNumber", "%q: use 1–64 letters, digits, '.', '_' or '-'", c.Hub.SerialNumber)
	}
	switch c.Hub.Profile {
	case "avs", "smarthome":
	default:
		return fail("hub.profile", "%q: must be avs or smarthome", c.Hub.Profile)
	}
	if err := c.validateSkill(fail); err != nil {
		return err
	}
	for i, l := range c.Hub.Locales {
		if !regexp.MustCompile(`^[a-z]{2}-[A-Z]{2}$`).MatchString(l) {
			return fail(fmt.Sprintf("hub.locales[%d]", i), "%q is not a locale like en-US", l)
		}
	}
	switch strings.ToUpper(c.AVS.Region) {
	case "NA", "EU", "FE":
		c.AVS.Region = strings.ToUpper(c.AVS.Region)
	default:
		return fail("avs.region", "%q: must be NA, EU or FE", c.AVS.Region)
	}
	if c.AVS.URL != "" {
		if u, err := url.Parse(c.AVS.URL); err != nil || u.Scheme != "https" || u.Host == "" {
			return fail("avs.url", "%q: must be an https:// URL", c.AVS.URL)
		}
	}
	if u, err := url.Parse(c.LWA.URL); err != nil || u.Scheme != "https" || u.Host == "" {
		return fail("lwa.url", "%q: must be an https:// URL", c.LWA.URL)
	}
	if c.AVS.PingInterval < 0 || c.Router.Deadline < 0 || c.Router.DeferredDeadline < 0 || c.Router.ChangeReportWindow < 0 {
		return fail("router", "durations must not be negative")
	}
	seen := map[string]bool{}
	for i, b := range c.Bridges {
		key := fmt.Sprintf("bridges[%d]", i)
		if !bridgeName.MatchString(b.Name) {
			return fail(key+".name", "%q: use a lower-case name of letters, digits and '-' (it becomes part of endpoint ids)", b.Name)
		}
		if seen[b.Name] {
			return fail(key+".name", "bridge %q is configured twice", b.Name)
		}
		seen[b.Name] = true
		if b.Path != "" && b.Bundled != "" {
			return fail(key+".bundled", "%q: give either path (an external bridge binary) or bundled (a bridge inside avshub), not both", b.Bundled)
		}
		if n := c.Bridges[i].BundledName(); n != "" && !slices.Contains(BundledBridges, n) {
			if b.Bundled != "" {
				return fail(key+".bundled", "%q is not a bundled bridge: use one of %s", n, strings.Join(BundledBridges, ", "))
			}
			return fail(key+".path", "is required: avshub bundles no bridge %q (bundled: %s); give the plugin binary's path, or bundled: NAME", n, strings.Join(BundledBridges, ", "))
		}
		if b.SHA256 != "" && !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(b.SHA256) {
			return fail(key+".sha256", "must be 64 lower-case hex digits")
		}
		if b.MaxEndpoints < 0 || b.MaxEndpoints > MaxBridgeEndpoints {
			return fail(key+".maxEndpoints", "%d: must lie between 1 and %d (0 or absent takes %d)", b.MaxEndpoints, MaxBridgeEndpoints, discovery.DefaultBridgeLimit)
		}
		if _, err := c.Bridges[i].ConfigJSON(); err != nil {
			return fail(key+".config", "cannot be expressed as JSON: %v", err)
		}
	}
	if c.MQTT.Broker != "" {
		u, err := url.Parse(c.MQTT.Broker)
		if err != nil || u.Host == "" {
			return fail("mqtt.broker", "%q is not a broker URL like tcp://127.0.0.1:1883", RedactURL(c.MQTT.Broker))
		}
		switch u.Scheme {
		case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
		default:
			return fail("mqtt.broker", "scheme %q: use tcp, ssl, ws or wss", u.Scheme)
		}
	}
	if _, _, err := net.SplitHostPort(c.MQTT.Embedded.Listen); err != nil {
		return fail("mqtt.embedded.listen", "%q is not host:port", c.MQTT.Embedded.Listen)
	}
	if (c.MQTT.Embedded.TLSCert == "") != (c.MQTT.Embedded.TLSKey == "") {
		return fail("mqtt.embedded.tlsCert", "tlsCert and tlsKey go together")
	}
	if m := c.Hub.MemoryLimit; m < -1 || (m > 0 && m < 16<<20) {
		return fail("hub.memoryLimit", "%d: at least 16 MiB (16777216), or 0 for the default, or -1 for none", m)
	}
	lim := c.MQTT.Embedded.Limits
	for key, v := range map[string]int64{"maxPacketSize": int64(lim.MaxPacketSize), "sessionExpiry": int64(lim.SessionExpiry),
		"maxQueueBytes": int64(lim.MaxQueueBytes), "maxClients": int64(lim.MaxClients),
		"maxRetained": int64(lim.MaxRetained), "maxRetainedBytes": int64(lim.MaxRetainedBytes),
		"maxSubscriptions": int64(lim.MaxSubscriptions), "maxQueueBytesTotal": int64(lim.MaxQueueBytesTotal),
		"maxWillBytes": int64(lim.MaxWillBytes), "maxOutboundBytes": int64(lim.MaxOutboundBytes),
		"maxOutboundBytesTotal": int64(lim.MaxOutboundBytesTotal)} {
		if v < 0 {
			return fail("mqtt.embedded.limits."+key, "must not be negative (0 takes the default)")
		}
	}
	if lim.MaxPacketSize > 256<<20 {
		return fail("mqtt.embedded.limits.maxPacketSize", "%d: MQTT packets are at most 256 MiB", lim.MaxPacketSize)
	}
	// A budget smaller than one packet refuses the packets in between:
	// legal, but not what anyone means.
	packet := cmp.Or(lim.MaxPacketSize, broker.DefaultMaxPacketSize)
	for key, v := range map[string]int{"maxQueueBytesTotal": lim.MaxQueueBytesTotal, "maxRetainedBytes": lim.MaxRetainedBytes,
		"maxOutboundBytesTotal": lim.MaxOutboundBytesTotal} {
		if v != 0 && v < packet+broker.MessageOverhead {
			return fail("mqtt.embedded.limits."+key, "%d: smaller than one packet (maxPacketSize %d, plus %d bytes per message)",
				v, packet, broker.MessageOverhead)
		}
	}
	for i, u := range c.MQTT.Embedded.Users {
		if u.Username == "" || u.Password == "" {
			return fail(fmt.Sprintf("mqtt.embedded.users[%d]", i), "needs a username and a password")
		}
	}
	if q := *c.Dashboard.QoS; q < 0 || q > 2 {
		return fail("dashboard.qos", "%d: must be 0, 1 or 2", q)
	}
	if c.Status.Listen != "off" {
		if _, _, err := net.SplitHostPort(c.Status.Listen); err != nil {
			return fail("status.listen", "%q is not host:port (or off)", c.Status.Listen)
		}
	}
	if c.Status.PublicURL != "" {
		u, err := url.Parse(c.Status.PublicURL)
		local := u != nil && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" || u.Hostname() == "::1")
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || !(u.Scheme == "https" || (u.Scheme == "http" && local)) {
			return fail("status.publicUrl", "%q: must be an https:// URL such as https://hub.example.com (http only for localhost): "+
				"Login with Amazon returns only to https addresses", c.Status.PublicURL)
		}
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fail("log.format", "%q: must be text or json", c.Log.Format)
	}
	if _, err := ParseLevel(c.Log.Level); err != nil {
		return fail("log.level", "%v", err)
	}
	for k, v := range c.Log.Levels {
		if _, err := ParseLevel(v); err != nil {
			return fail("log.levels."+k, "%v", err)
		}
	}
	return nil
}

// lineOf returns the line of a key path like "bridges[1].name" in the document,
// or the line of its closest existing parent, or 0.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		next := mapValue(n, name)
		if next == nil {
			return line
		}
		line = next.Line
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// MinSkillSecret is the shortest HMAC secret accepted for skill.secret.
const MinSkillSecret = 32

// validateSkill checks alexa.transport and, for the skill road, skill.*.
func (c *Config) validateSkill(fail func(key, format string, args ...any) error) error {
	switch c.Alexa.Transport {
	case TransportAVS:
		return nil
	case TransportSkill:
	default:
		return fail("alexa.transport", "%q: must be avs or skill", c.Alexa.Transport)
	}
	if c.Hub.Profile != "smarthome" {
		return fail("hub.profile", "%q: a Smart Home skill speaks the native interfaces; set smarthome or leave it out", c.Hub.Profile)
	}
	if _, _, err := net.SplitHostPort(c.Skill.Listen); err != nil {
		return fail("skill.listen", "%q is not host:port", c.Skill.Listen)
	}
	if !strings.HasPrefix(c.Skill.Path, "/") {
		return fail("skill.path", "%q must start with /", c.Skill.Path)
	}
	if (c.Skill.TLSCert == "") != (c.Skill.TLSKey == "") {
		return fail("skill.tlsCert", "tlsCert and tlsKey go together")
	}
	if c.Skill.PublicURL != "" {
		if u, err := url.Parse(c.Skill.PublicURL); err != nil || u.Scheme != "https" || u.Host == "" {
			return fail("skill.publicUrl", "%q: must be an https:// URL (Lambda reaches the hub over TLS)", c.Skill.PublicURL)
		}
	}
	switch {
	case c.Skill.Secret != "" && c.Skill.SecretFile != "":
		return fail("skill.secret", "set secret or secretFile, not both")
	case c.Skill.Secret == "" && c.Skill.SecretFile == "":
		return fail("skill.secret", "is required: the HMAC secret shared with the Lambda (at least %d characters; openssl rand -hex 32)", MinSkillSecret)
	case c.Skill.Secret != "" && len(c.Skill.Secret) < MinSkillSecret:
		return fail("skill.secret", "is %d characters; use at least %d (openssl rand -hex 32)", len(c.Skill.Secret), MinSkillSecret)
	}
	if c.Skill.ClientID == "" || c.Skill.ClientSecret == "" {
		return fail("skill.clientId", "skill.clientId and skill.clientSecret are required (the skill's Alexa Skill Messaging credentials)")
	}
	switch strings.ToUpper(c.Skill.Region) {
	case "NA", "EU", "FE":
		c.Skill.Region = strings.ToUpper(c.Skill.Region)
	default:
		return fail("skill.region", "%q: must be NA, EU or FE", c.Skill.Region)
	}
	if c.Skill.EventGatewayURL != "" {
		if u, err := url.Parse(c.Skill.EventGatewayURL); err != nil || u.Scheme != "https" || u.Host == "" {
			return fail("skill.eventGatewayUrl", "%q: must be an https:// URL", c.Skill.EventGatewayURL)
		}
	}
	if c.Skill.UserID != "" && !strings.HasPrefix(c.Skill.UserID, "amzn1.account.") {
		return fail("skill.userId", "%q: an Amazon user id looks like amzn1.account.…", c.Skill.UserID)
	}
	return nil
}

// SkillSecret returns the skill's HMAC secret (skill.secret or the content of
// skill.secretFile, trimmed).
func (c *Config) SkillSecret() (string, error) {
	if c.Skill.SecretFile == "" {
		return c.Skill.Secret, nil
	}
	b, err := os.ReadFile(c.Skill.SecretFile)
	if err != nil {
		return "", fmt.Errorf("skill.secretFile: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if len(s) < MinSkillSecret {
		return "", fmt.Errorf("skill.secretFile %s: the secret is %d characters; use at least %d", c.Skill.SecretFile, len(s), MinSkillSecret)
	}
	return s, nil
}
