package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/avshub/avshub/bridges/bundled"
	"github.com/avshub/avshub/gateway/config"
)

// TestBundledListsAgree: the configuration accepts exactly the bridges the
// executable carries.
func TestBundledListsAgree(t *testing.T) {
	if got, want := config.BundledBridges, bundled.Names(); !slices.Equal(got, want) {
		t.Errorf("config.BundledBridges = %v, bundled.Names() = %v", got, want)
	}
}

// TestBridgeDescribe runs the built executable as `avshub bridge NAME
// describe`, as a person checking a bundled bridge would, with an empty
// environment as the hub runs it.
func TestBridgeDescribe(t *testing.T) {
	exe := buildAvshub(t)
	for _, name := range bundled.Names() {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(exe, "bridge", name, "describe")
			cmd.Env = []string{}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("avshub bridge %s describe: %v\n%s", name, err, stderr.String())
			}
			var d struct {
				Name         string          `json:"name"`
				ConfigSchema json.RawMessage `json:"configSchema"`
			}
			if err := json.Unmarshal(out, &d); err != nil {
				t.Fatalf("not a manifest: %v\n%s", err, out)
			}
			want, err := bundled.Describe(name)
			if err != nil {
				t.Fatal(err)
			}
			if d.Name != want.Name || d.Name == "" {
				t.Errorf("manifest name %q, want %q", d.Name, want.Name)
			}
		})
	}
}

// buildAvshub builds this command into a temporary directory.
func buildAvshub(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "avshub")
	if out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// TestPluginCheckBundled checks a bundled bridge by its name, as an owner
// of the release (which ships only avshub) would: `avshub plugin check
// virtual` runs the conformance kit on `avshub bridge virtual`, with the
// section of an avshub configuration that runs it; an unknown name is
// refused with the bundled names.
func TestPluginCheckBundled(t *testing.T) {
	exe := buildAvshub(t)
	cfg := filepath.Join(t.TempDir(), "avshub.yaml")
	// One light only: the check's endpoint list must be this section's, not
	// the virtual bridge's sample configuration.
	if err := os.WriteFile(cfg, []byte(`hub: {serialNumber: hub-1, dataDir: data}
lwa: {clientId: amzn1.application-oa2-client.test}
bridges:
  - name: demo
    bundled: virtual
    config:
      devices:
        - {id: lamp, name: Desk lamp, type: light}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "plugin", "check", "virtual", "--json", "--config", cfg).Output()
	if err != nil {
		t.Fatalf("avshub plugin check virtual: %v\n%s", err, out)
	}
	var rep struct {
		Passed    bool   `json:"passed"`
		Binary    string `json:"binary"`
		Endpoints []struct {
			DeviceID     string `json:"deviceId"`
			FriendlyName string `json:"friendlyName"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("not a report: %v\n%s", err, out)
	}
	if !rep.Passed {
		t.Errorf("the bundled virtual bridge failed its checks:\n%s", out)
	}
	if len(rep.Endpoints) != 1 || rep.Endpoints[0].FriendlyName != "Desk lamp" {
		t.Errorf("endpoints = %+v, want the configured Desk lamp only", rep.Endpoints)
	}
	if rep.Binary != exe {
		t.Errorf("binary = %q, want the avshub executable %q", rep.Binary, exe)
	}

	msg, err := exec.Command(exe, "plugin", "check", "nosuch").CombinedOutput()
	if err == nil || !bytes.Contains(msg, []byte("neither a bridge binary nor a bundled bridge (mqtt, virtual, zigbee)")) {
		t.Errorf("plugin check nosuch: err %v, output %s", err, msg)
	}
}
