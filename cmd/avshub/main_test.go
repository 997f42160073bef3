package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"time"
	"unicode"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/web"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte("hub:\n  serialNumber: hub-1\n  dataDir: data\nlwa:\n  clientId: amzn1.application-oa2-client.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("hub:\n  serialNumber: hub-1\n  profil: avs\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := "hub:\n  serialNumber: hub-1\n  dataDir: data\nlwa:\n  clientId: amzn1.application-oa2-client.test\n"
	placeholder := write("placeholder.yaml", "hub:\n  serialNumber: hub-1\nlwa:\n  clientId: amzn1.application-oa2-client.CHANGE-ME\n")
	badDuration := write("duration.yaml", base+"router:\n  deadline: five minutes\n")
	zigbee := buildBridge(t, "zigbee")
	oneBridge := write("one.yaml", base+"bridges:\n  - name: zigbee\n    path: "+zigbee+"\n    config: {port: /dev/ttyUSB0}\n  - name: mqtt\n    path: /nonexistent\n    disabled: true\n")
	badBridge := write("badbridge.yaml", base+"bridges:\n  - name: zigbee\n    path: "+zigbee+"\n    config: {port: /dev/ttyUSB0, channel: 40}\n")
	missingBridge := write("missing.yaml", base+"bridges:\n  - name: zigbee\n    path: "+filepath.Join(dir, "nope")+"\n")
	bundledBridges := write("bundled.yaml", base+"bridges:\n  - name: zigbee\n    config: {port: /dev/ttyUSB0}\n  - name: upstairs\n    bundled: zigbee\n    config: {port: /dev/ttyUSB1}\n")
	badBundled := write("badbundled.yaml", base+"bridges:\n  - name: zigbee\n    config: {port: /dev/ttyUSB0, channel: 40}\n")
	badSettings := write("badsettings.yaml", base+"bridges:\n  - name: zigbee\n    config:\n      port: /dev/ttyUSB0\n      baud: fast\n      baudrate: 9600\n"+
		"  - name: virtual\n    config:\n      lockDelay: five\n      devices:\n        - {id: a, name: A, type: lamp}\n")
	badVirtual := write("badvirtual.yaml", base+"bridges:\n  - name: virtual\n    config:\n      lockDelay: five\n      devices:\n        - {id: a, name: A, type: lamp}\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"version", []string{"version"}, 0, "avshub " + version},
		{"no command", nil, 2, "usage:"},
		{"unknown", []string{"fly"}, 2, `unknown command "fly"`},
		{"config ok", []string{"config", "check", "--config", good}, 0, "ok (profile avs, 0 bridges enabled"},
		{"config one bridge", []string{"config", "check", "--config", oneBridge}, 0, "ok (profile avs, 1 bridge enabled"},
		{"config placeholder", []string{"config", "check", "--config", placeholder}, 1, "placeholder.yaml:4: lwa.clientId: \"amzn1.application-oa2-client.CHANGE-ME\" is a placeholder"},
		{"config bad duration", []string{"config", "check", "--config", badDuration}, 1, `router.deadline: "five minutes" is not valid here: expected a duration`},
		{"config bridge schema", []string{"config", "check", "--config", badBridge}, 1, "bridges[0].config.channel: "},
		{"config bundled bridges", []string{"config", "check", "--config", bundledBridges}, 0, "ok (profile avs, 2 bridges enabled"},
		{"config bundled bridge schema", []string{"config", "check", "--config", badBundled}, 1, "bridges[0].config.channel: "},
		{"config bridge enum names the accepted values", []string{"config", "check", "--config", badSettings}, 1,
			`badsettings.yaml:10: bridges[0].config.baud: "fast" is not accepted: use one of 38400, 57600, 115200, 230400 or 460800`},
		{"config bridge unknown key names the bridge's settings", []string{"config", "check", "--config", badSettings}, 1,
			"badsettings.yaml:11: bridges[0].config.baudrate: not a setting of this bridge; its settings here: availabilitySeconds, baud, channel, names, panId, port, responseTimeoutMs"},
		{"config bridge duration", []string{"config", "check", "--config", badVirtual}, 1,
			`badvirtual.yaml:9: bridges[0].config.lockDelay: "five" is not valid here: expected a duration: a number with a unit, like 30s, 5m or 1h30m`},
		{"config bridge list item", []string{"config", "check", "--config", badVirtual}, 1,
			`badvirtual.yaml:11: bridges[0].config.devices[0].type: "lamp" is not accepted: use one of "light", "lock"`},
		{"bridge usage", []string{"bridge"}, 2, "name a bundled bridge: mqtt, virtual, zigbee"},
		{"bridge unknown", []string{"bridge", "zwave"}, 2, `no bundled bridge "zwave"`},
		{"plugin trust bundled", []string{"plugin", "trust", "zigbee", "--config", bundledBridges}, 0, "nothing to trust"},
		{"config missing bridge", []string{"config", "check", "--config", missingBridge}, 1, "bridges[0].path: "},
		{"run placeholder", []string{"run", "--config", placeholder}, 1, "is a placeholder"},
		{"config unknown sub-command", []string{"config", "lint"}, 2, `unknown sub-command "lint": the only one is check`},
		{"plugin unknown sub-command", []string{"plugin", "lint"}, 2, `unknown sub-command "lint": use check, trust or new`},
		{"plugin new names its argument", []string{"plugin", "new"}, 2, "name the new bridge"},
		{"extra argument", []string{"status", "extra"}, 2, `unexpected argument "extra"`},
		{"bad flag", []string{"status", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{"pair names its argument", []string{"pair", "--config", good}, 2, "name one bridge to open"},
		{"config bad", []string{"config", "check", "--config", bad}, 1, "bad.yaml:3: hub.profil: unknown key; the keys here are serialNumber, productId, dataDir, profile"},
		{"config usage", []string{"config"}, 2, "usage: avshub config"},
		{"status not running", []string{"status", "--config", good}, 1, "not running"},
		{"pair usage", []string{"pair", "--config", good}, 2, "usage: avshub pair"},
		{"plugin check missing binary", []string{"plugin", "check", filepath.Join(dir, "nope")}, 1, "no such file"},
		{"backup usage", []string{"backup", "--config", good}, 2, "usage: avshub backup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errw bytes.Buffer
			code := realMain(tt.args, &out, &errw)
			all := out.String() + errw.String()
			if code != tt.code || !strings.Contains(all, tt.want) {
				t.Fatalf("exit %d, want %d; output should contain %q:\n%s", code, tt.code, tt.want, all)
			}
		})
	}
}

// buildBridge builds cmd/bridge-NAME into a temporary directory.
func buildBridge(t *testing.T, name string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bridge-"+name)
	cmd := exec.Command("go", "build", "-o", out, "../bridge-"+name)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build bridge-%s: %v\n%s", name, err, b)
	}
	return out
}

// TestHelp checks every command's help: on stdout, exit 0, with a
// description, the flags and an example, by every way of asking.
func TestHelp(t *testing.T) {
	for _, c := range commands {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				var out, errw bytes.Buffer
				code := realMain(args, &out, &errw)
				if code != 0 {
					t.Fatalf("exit %d, want 0\n%s%s", code, out.String(), errw.String())
				}
				help := out.String()
				for _, want := range []string{"usage: avshub " + c.name, c.about, "example:\n  " + strings.Split(c.example, "\n")[0]} {
					if !strings.Contains(help, want) {
						t.Errorf("help lacks %q:\n%s", want, help)
					}
				}
				if c.name != "version" && c.name != "bridge" && !strings.Contains(help, "-config") {
					t.Errorf("help lists no flags:\n%s", help)
				}
			})
		}
	}
	// A sub-command's help shows that sub-command's flags (plugin new's
	// were shown nowhere: every plugin help printed plugin check's).
	for _, c := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"plugin", "new", "--help"}, []string{"plugin new NAME", "\n  -lang", "\n  -dir", "avshub plugin new acme"}, []string{"\n  -no-commands"}},
		{[]string{"help", "plugin", "new"}, []string{"\n  -lang"}, []string{"\n  -no-commands"}},
		{[]string{"plugin", "trust", "zigbee", "-h"}, []string{"plugin trust NAME", "\n  -config"}, []string{"\n  -no-commands", "\n  -lang"}},
		{[]string{"plugin", "check", "--help"}, []string{"\n  -no-commands", "\n  -json"}, []string{"\n  -lang"}},
		{[]string{"plugin", "--help"}, []string{"\n  -no-commands", "| new NAME"}, nil},
		{[]string{"skill", "doctor", "--help"}, []string{"skill doctor checks", "\n  -config"}, nil},
		{[]string{"config", "check", "--help"}, []string{"refuses placeholders", "\n  -config"}, nil},
	} {
		var out, errw bytes.Buffer
		code := realMain(c.args, &out, &errw)
		help := out.String()
		if code != 0 {
			t.Errorf("%v: exit %d, want 0\n%s%s", c.args, code, help, errw.String())
		}
		for _, w := range c.want {
			if !strings.Contains(help, w) {
				t.Errorf("%v: help lacks %q:\n%s", c.args, w, help)
			}
		}
		for _, w := range c.not {
			if strings.Contains(help, w) {
				t.Errorf("%v: help shows %q, another sub-command's:\n%s", c.args, w, help)
			}
		}
	}
	var out, errw bytes.Buffer
	if code := realMain([]string{"--help"}, &out, &errw); code != 0 || !strings.Contains(out.String(), "--socket PATH") {
		t.Fatalf("top-level help: exit %d, want 0 and --socket:\n%s", code, out.String())
	}
}

// TestEndpointsJSONKeys checks the API's endpoint JSON uses one key style.
func TestEndpointsJSONKeys(t *testing.T) {
	on := true
	b, err := json.Marshal([]web.Endpoint{web.EndpointOf(discovery.Entry{
		Endpoint: model.Endpoint{ID: "a", Bridge: "virtual", FriendlyName: "Lamp", Category: model.CategoryLight, Traits: model.Traits{OnOff: &model.OnOff{}}},
		State:    model.State{On: &on}, Reachable: true, Updated: time.Now()}, []web.EventLine{{At: time.Now(), Text: "on"}})})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, v := range x {
				if k == "" || !unicode.IsLower(rune(k[0])) {
					t.Errorf("key %q is not lowerCamelCase", k)
				}
				walk(v)
			}
		case []any:
			for _, v := range x {
				walk(v)
			}
		}
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	walk(v)
}
