package z2mreal

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestConfigYAML(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want map[string]any // dotted path → value
		err  bool
	}{
		{name: "generated", cfg: Config{Serial: "/tmp/tty", MQTT: "tcp://127.0.0.1:1883", BaseTopic: "z", Channel: 11, LogLevel: "info"},
			want: map[string]any{"serial.port": "/tmp/tty", "serial.adapter": "zstack", "mqtt.server": "mqtt://127.0.0.1:1883",
				"mqtt.base_topic": "z", "advanced.channel": 11, "advanced.network_key": "GENERATE", "advanced.pan_id": "GENERATE"}},
		{name: "fixed network", cfg: Config{Serial: "/x", MQTT: "mqtt://h:1", Channel: 15, PanID: 0x1a62,
			NetworkKey: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, ExtPanID: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
			want: map[string]any{"advanced.pan_id": 0x1a62, "advanced.channel": 15, "mqtt.server": "mqtt://h:1"}},
		{name: "settings merged", cfg: Config{Serial: "/x", MQTT: "mqtt://h:1", Settings: map[string]any{"advanced": map[string]any{"last_seen": "ISO_8601"}}},
			want: map[string]any{"advanced.last_seen": "ISO_8601", "advanced.network_key": "GENERATE"}},
		{name: "no serial", cfg: Config{MQTT: "mqtt://h:1"}, err: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := c.cfg.yaml()
			if c.err {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := yaml.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			for path, want := range c.want {
				var v any = doc
				for _, p := range strings.Split(path, ".") {
					v = v.(map[string]any)[p]
				}
				if v != want {
					t.Errorf("%s = %#v, want %#v", path, v, want)
				}
			}
		})
	}
}

func TestCacheOutsideGitCheckout(t *testing.T) {
	dir, err := CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if inGitCheckout(filepath.Dir(dir)) {
		t.Fatalf("cache %s is inside a git checkout", dir)
	}
	g := t.TempDir()
	if inGitCheckout(filepath.Join(g, "a")) {
		t.Fatalf("%s is not a checkout yet", g)
	}
	if err := os.Mkdir(filepath.Join(g, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if !inGitCheckout(filepath.Join(g, "a", "b")) {
		t.Fatalf("%s/a/b not seen as inside the checkout %s", g, g)
	}
}

// TestInstalledAndRunsOnThisNode installs the pinned zigbee2mqtt and starts it
// on a serial port that does not exist: it must run on this machine's Node,
// report the missing adapter and exit, and Stop must then be a no-op.
func TestInstalledAndRunsOnThisNode(t *testing.T) {
	dir := Require(t)
	out, err := exec.Command("node", "-e", `console.log(require(process.argv[1]).version)`,
		filepath.Join(dir, "node_modules", "zigbee2mqtt", "package.json")).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != Version {
		t.Fatalf("installed zigbee2mqtt %s, want %s", got, Version)
	}
	z := Start(t, Config{Serial: filepath.Join(t.TempDir(), "no-such-tty"), MQTT: "mqtt://127.0.0.1:1"})
	select {
	case <-z.Exited():
	case <-time.After(90 * time.Second):
		t.Fatalf("zigbee2mqtt did not give up on a missing adapter:\n%s", z.Output())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := z.WaitOutput(ctx, 0, "Failed to start zigbee-herdsman"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(z.Output(), "Building Zigbee2MQTT") {
		t.Fatalf("zigbee2mqtt tried to rebuild itself (run inside a git checkout?):\n%s", z.Output())
	}
	if err := z.Stop(); err != nil {
		t.Fatalf("Stop after exit: %v", err)
	}
}

// TestMissingNodeSaysHowToInstall: without node and npm on PATH the helper
// refuses with the install command (tests then fail, never skip).
func TestMissingNodeSaysHowToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := CheckNode()
	if err == nil || !strings.Contains(err.Error(), "apt-get install nodejs npm") {
		t.Fatalf("CheckNode without node on PATH: %v", err)
	}
	if _, err := Install(context.Background()); err == nil || !strings.Contains(err.Error(), "apt-get install nodejs npm") {
		t.Fatalf("Install without node on PATH: %v", err)
	}
}
