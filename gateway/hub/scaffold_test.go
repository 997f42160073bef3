package hub

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/config"
)

// goIn runs the go tool in dir.
func goIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// avshubCLI runs the avshub binary TestMain built.
func avshubCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(binDir, "avshub"), args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestScaffoldedBridgeDevLoop is the plugin author's road, in Go and in
// JavaScript: `avshub plugin new` writes a bridge that builds, passes its own
// test and `avshub plugin check` as generated; under a hub in dev mode, a
// rebuild of it is adopted on SIGHUP (the reload) and Alexa sees the rebuilt
// bridge's endpoint.
func TestScaffoldedBridgeDevLoop(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang, src, old, new string
		build               func(t *testing.T, dir, bin string)
	}{
		{"go", "bridge.go", `sdk.WithInfo("acme",`, `sdk.WithInfo("acme rebuilt",`, func(t *testing.T, dir, bin string) {
			goIn(t, dir, "build", "-o", bin, ".")
		}},
		{"js", "bridge-acme", `manufacturer: 'acme'`, `manufacturer: 'acme rebuilt'`, func(*testing.T, string, string) {}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "bridge-acme")
			if out, err := avshubCLI(t, "plugin", "new", "acme", "--lang", tt.lang, "--dir", dir, "--avshub", repo); err != nil {
				t.Fatalf("plugin new: %v\n%s", err, out)
			}
			bin := filepath.Join(dir, "bridge-acme")
			if tt.lang == "go" {
				goIn(t, dir, "mod", "tidy")
				goIn(t, dir, "vet", "./...")
				goIn(t, dir, "test", "-count=1", "./...") // the generated test runs the kit on this bridge
			} else {
				cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("npm install (Node.js and npm are needed: apt-get install nodejs npm): %v\n%s", err, out)
				}
			}
			tt.build(t, dir, bin)
			if out, err := avshubCLI(t, "plugin", "check", bin); err != nil || !strings.Contains(out, "PASSED") {
				t.Fatalf("plugin check of the generated bridge: %v\n%s", err, out)
			}

			e := newEnv(t, envOptions{ExtraBridges: "  - name: acme\n    path: " + bin + "\n    dev: true\n" +
				"    config: {pollEvery: 1s, switches: [{id: porch, name: Porch Light}]}\n"})
			e.start()
			e.waitConnected()
			porch := model.EndpointID(testSerial, "acme", "porch")
			manufacturer := func(want string) func() error {
				return func() error {
					ep, ok := e.emu.Endpoint(porch)
					if !ok || !strings.Contains(string(ep), `"manufacturerName":"`+want+`"`) {
						return fmt.Errorf("the emulator's endpoint %s: %s", porch, ep)
					}
					return nil
				}
			}
			e.poll(ctxFor(t, 20*time.Second), "Alexa to know the scaffolded bridge's endpoint", manufacturer("acme"))
			_, _, pid, _ := e.bridgeStatus("acme")

			// Rebuild with a visible change, then reload (what SIGHUP does).
			src := filepath.Join(dir, tt.src)
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			changed := strings.Replace(string(b), tt.old, tt.new, 1)
			if changed == string(b) {
				t.Fatalf("the scaffold's %s no longer has the text this test changes", tt.src)
			}
			if err := os.WriteFile(src, []byte(changed), 0o755); err != nil {
				t.Fatal(err)
			}
			tt.build(t, dir, bin)
			next, err := config.Parse(filepath.Join(e.dir, "avshub.yaml"), []byte(e.configYAML()))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.hub.Reload(next); err != nil {
				t.Fatal(err)
			}
			e.poll(ctxFor(t, 20*time.Second), "Alexa to see the rebuilt bridge's endpoint", manufacturer("acme rebuilt"))
			if state, _, newPID, _ := e.bridgeStatus("acme"); state != "running" || newPID == pid {
				t.Errorf("after the rebuild: state %s, pid %d (was %d)", state, newPID, pid)
			}
			if log, _ := os.ReadFile(filepath.Join(e.dir, "hub.log")); !strings.Contains(string(log), "dev mode: adopted a rebuilt executable") {
				t.Errorf("the hub's log does not say it adopted the rebuild")
			}
		})
	}
}
