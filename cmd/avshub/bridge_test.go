package main

import (
	"bytes"
	"encoding/json"
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
	exe := filepath.Join(t.TempDir(), "avshub")
	if out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
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
