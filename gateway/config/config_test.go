package config

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse("/etc/avshub/avshub.yaml", []byte("hub:\n  serialNumber: hub-1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hub.Profile != "avs" || cfg.AVS.Region != "NA" || cfg.AVS.PingInterval != 5*time.Minute ||
		cfg.Router.Deadline != 7*time.Second || cfg.Status.Listen != "127.0.0.1:8080" ||
		cfg.BrokerURL() != "tcp://127.0.0.1:1883" || !cfg.EmbeddedBrokerEnabled() || *cfg.Dashboard.QoS != 1 {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
	if !cfg.DashboardBridge("zigbee") || cfg.DashboardBridge("mqtt") {
		t.Fatal("by default every bridge but mqtt goes to dashboards")
	}
}

func TestParseBridges(t *testing.T) {
	src := `hub:
  serialNumber: hub-1
bridges:
  - name: virtual
    path: ../bin/bridge-virtual
    maxEndpoints: 500
    config:
      devices:
        - id: lamp
          kind: light
`
	cfg, err := Parse("/opt/avshub/configs/demo.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Bridges[0]
	if b.Path != "/opt/avshub/bin/bridge-virtual" {
		t.Errorf("path = %q, want it relative to the config file", b.Path)
	}
	if b.MaxEndpoints != 500 {
		t.Errorf("maxEndpoints = %d, want 500", b.MaxEndpoints)
	}
	js, err := b.ConfigJSON()
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(js, &v); err != nil || v["devices"] == nil {
		t.Fatalf("config JSON = %s (%v)", js, err)
	}
}

func TestParseErrorsNameFileLineAndKey(t *testing.T) {
	tests := []struct {
		name, src, want string
		line            int
	}{
		{"unknown key", "hub:\n  serialNumber: x\n  serial: y\n", "hub.serial: unknown key; the keys here are serialNumber, productId, dataDir, profile", 3},
		{"unknown section", "hub:\n  serialNumber: x\nlogg:\n  level: info\n", "logg: unknown key; the keys here are hub, alexa, avs, skill, lwa, router, bridges", 3},
		{"unknown nested key", "hub:\n  serialNumber: x\nmqtt:\n  embedded:\n    user:\n      - a\n", "mqtt.embedded.user: unknown key; the keys here are disabled, listen, users,", 5},
		{"unknown bridge key", "hub:\n  serialNumber: x\nbridges:\n  - name: v\n    path: a\n    conf: {}\n", "bridges[0].conf: unknown key; the keys here are name, path, bundled, sha256", 6},
		{"missing serial", "hub:\n  profile: avs\n", "hub.serialNumber", 2},
		{"bad profile", "hub:\n  serialNumber: x\n  profile: alexa\n", "hub.profile", 3},
		{"bad region", "hub:\n  serialNumber: x\navs:\n  region: MARS\n", "avs.region", 4},
		{"bad duration", "hub:\n  serialNumber: x\navs:\n  pingInterval: often\n", "often", 4},
		{"duplicate bridge", "hub:\n  serialNumber: x\nbridges:\n  - name: v\n    path: a\n  - name: v\n    path: b\n", "bridges[1].name", 6},
		{"bridge without path", "hub:\n  serialNumber: x\nbridges:\n  - name: v\n", "bridges[0].path", 4},
		{"negative maxEndpoints", "hub:\n  serialNumber: x\nbridges:\n  - name: v\n    path: a\n    maxEndpoints: -1\n", "bridges[0].maxEndpoints", 6},
		{"huge maxEndpoints", "hub:\n  serialNumber: x\nbridges:\n  - name: v\n    path: a\n    maxEndpoints: 1000000\n", "between 1 and 100000", 6},
		{"negative maxSubscriptions", "hub:\n  serialNumber: x\nmqtt:\n  embedded:\n    limits:\n      maxSubscriptions: -5\n", "mqtt.embedded.limits.maxSubscriptions", 6},
		{"tiny memoryLimit", "hub:\n  serialNumber: x\n  memoryLimit: 1000\n", "hub.memoryLimit", 3},
		{"negative maxQueueBytesTotal", "hub:\n  serialNumber: x\nmqtt:\n  embedded:\n    limits:\n      maxQueueBytesTotal: -1\n", "mqtt.embedded.limits.maxQueueBytesTotal", 6},
		{"queue budget under a packet", "hub:\n  serialNumber: x\nmqtt:\n  embedded:\n    limits:\n      maxPacketSize: 65536\n      maxQueueBytesTotal: 60000\n", "mqtt.embedded.limits.maxQueueBytesTotal", 7},
		{"negative maxOutboundBytes", "hub:\n  serialNumber: x\nmqtt:\n  embedded:\n    limits:\n      maxOutboundBytes: -1\n", "mqtt.embedded.limits.maxOutboundBytes", 6},
		{"outbound budget under a packet", "hub:\n  serialNumber: x\nmqtt:\n  embedded:\n    limits:\n      maxOutboundBytesTotal: 1048576\n", "mqtt.embedded.limits.maxOutboundBytesTotal", 6},
		{"retained budget under a packet", "hub:\n  serialNumber: x\nmqtt:\n  embedded:\n    limits:\n      maxRetainedBytes: 100000\n", "smaller than one packet", 6},
		{"unknown bundled bridge", "hub:\n  serialNumber: x\nbridges:\n  - name: v\n    bundled: zwave\n", "bridges[0].bundled", 5},
		{"path and bundled", "hub:\n  serialNumber: x\nbridges:\n  - name: v\n    path: a\n    bundled: zigbee\n", "bridges[0].bundled", 6},
		{"bad broker", "hub:\n  serialNumber: x\nmqtt:\n  broker: ftp://x:1\n", "mqtt.broker", 4},
		{"bad qos", "hub:\n  serialNumber: x\ndashboard:\n  qos: 3\n", "dashboard.qos", 4},
		{"bad level", "hub:\n  serialNumber: x\nlog:\n  levels:\n    avs: loud\n", "log.levels.avs", 5},
		{"http public URL", "hub:\n  serialNumber: x\nstatus:\n  publicUrl: http://hub.lan:8080\n", "status.publicUrl", 4},
		{"public URL with a query", "hub:\n  serialNumber: x\nstatus:\n  publicUrl: https://hub.example.com/?a=1\n", "status.publicUrl", 4},
		{"not yaml", "hub: [\n", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(tt.src))
			if err == nil {
				t.Fatal("no error")
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *config.Error", err)
			}
			if !strings.HasPrefix(err.Error(), "cfg.yaml") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q should name the file and %q", err, tt.want)
			}
			if tt.line > 0 && ce.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", ce.Line, tt.line, err)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("hub:\n  serialNumber: x\n"))
	f.Add([]byte("bridges:\n  - name: v\n    config: {a: [1, 2]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data)
		if err == nil && cfg.Hub.SerialNumber == "" {
			t.Fatal("accepted a config without a serial number")
		}
	})
}

func TestShippedConfigsParse(t *testing.T) {
	for _, f := range []string{"../../configs/avshub.yaml"} {
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestTypeErrorsNameKeyAndAccepted(t *testing.T) {
	base := "hub:\n  serialNumber: hub-1\n"
	tests := []struct{ yaml, want string }{
		{base + "router:\n  deadline: five minutes\n", `f.yaml:4: router.deadline: "five minutes" is not valid here: expected a duration: a number with a unit, like 30s, 5m or 1h30m`},
		{base + "dashboard:\n  qos: high\n", `f.yaml:4: dashboard.qos: "high" is not valid here: expected a whole number`},
		{base + "mqtt:\n  embedded:\n    disabled: maybe\n", `f.yaml:5: mqtt.embedded.disabled: "maybe" is not valid here: expected true or false`},
		{"hub:\n  serialNumber: hub-1\n  locales: en-US\n", `f.yaml:3: hub.locales: "en-US" is not valid here: expected a list`},
		{base + "bridges:\n  - name: a\n    path: x\n    startTimeout: 5 mins\n", `f.yaml:6: bridges[0].startTimeout: "5 mins" is not valid here`},
	}
	for _, tt := range tests {
		_, err := Parse("f.yaml", []byte(tt.yaml))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%q:\n got %v\nwant %s…", tt.yaml, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "unmarshal") {
			t.Errorf("Go internals in %v", err)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	cfg, err := Load("../../configs/avshub.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.CheckPlaceholders()
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "hub.productId" || ce.Line == 0 {
		t.Fatalf("the shipped config's placeholders: %v, want hub.productId named with its line", err)
	}
	cfg, err = Parse("f.yaml", []byte("hub:\n  serialNumber: hub-1\n  productId: my-product\nlwa:\n  clientId: amzn1.application-oa2-client.abc\nmqtt:\n  embedded:\n    users:\n      - {username: ha, password: change_me}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckPlaceholders(); err == nil || !strings.Contains(err.Error(), "mqtt.embedded.users[0].password") {
		t.Fatalf("password placeholder: %v", err)
	}
	cfg, _ = Parse("f.yaml", []byte("hub:\n  serialNumber: hub-1\n  productId: my-product\n"))
	if err := cfg.CheckPlaceholders(); err != nil {
		t.Fatalf("a file without placeholders: %v", err)
	}
}

func TestShippedConfigBridgesOnlyRealDevices(t *testing.T) {
	cfg, err := Load("../../configs/avshub.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range cfg.Bridges {
		if b.BundledName() == "virtual" || strings.Contains(b.Path, "virtual") {
			t.Errorf("the shipped configuration configures the virtual bridge (%s): it would announce fake devices to a real Alexa account", b.Path)
		}
	}
}

func TestBundledBridges(t *testing.T) {
	cfg, err := Parse("f.yaml", []byte("hub:\n  serialNumber: x\nbridges:\n  - name: zigbee\n  - name: upstairs\n    bundled: zigbee\n  - name: acme\n    path: bridge-acme\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range cfg.Bridges {
		got = append(got, b.Name+"="+b.BundledName())
	}
	if want := []string{"zigbee=zigbee", "upstairs=zigbee", "acme="}; !slices.Equal(got, want) {
		t.Errorf("bundled bridges %v, want %v", got, want)
	}
}
