// Package bridges_test keeps the import boundaries honest: a bridge imports
// plugins/sdk and the device model (discovery/model), never the hub (gateway)
// nor the hub's registry and discovery diffing (discovery); the hub binary does
// not link the bridges' device libraries; no production binary links testing.
package bridges_test

import (
	"os/exec"
	"strings"
	"testing"
)

func deps(t *testing.T, pattern string) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Deps \" \"}}", pattern).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pattern, err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			m[f[0]] = f[1:]
		}
	}
	return m
}

const mod = "github.com/avshub/avshub/"

// TestBridgesNeverImportGateway: bridges, their binaries, the SDK and the
// conformance kit see the device model only: never gateway, never the hub's
// registry and Alexa.Discovery diffing (package discovery).
func TestBridgesNeverImportGateway(t *testing.T) {
	bridgeSide := []string{mod + "bridges", mod + "cmd/bridge-", mod + "plugins/sdk", mod + "plugins/plugintest", mod + "discovery/model"}
	for _, pattern := range []string{mod + "bridges/...", mod + "cmd/bridge-...", mod + "plugins/sdk/...", mod + "plugins/plugintest/..."} {
		for pkg, ds := range deps(t, pattern) {
			if !hasAnyPrefix(pkg, bridgeSide) {
				continue
			}
			for _, d := range ds {
				if strings.HasPrefix(d, mod+"gateway") || d == mod+"discovery" {
					t.Errorf("%s imports %s: bridges may import plugins/sdk and discovery/model, never gateway or discovery", pkg, d)
				}
			}
		}
	}
}

// TestProductionBinariesDoNotLinkTesting: no package of ours in a production
// binary imports testing (plugintest's Run takes any T shaped like *testing.T
// for that reason). hashicorp/go-plugin is the one outside importer we cannot
// cut: its testing.go helpers import it, and the linker keeps only testing's
// package initialiser of it.
func TestProductionBinariesDoNotLinkTesting(t *testing.T) {
	allowed := map[string]bool{"github.com/hashicorp/go-plugin": true}
	for _, bin := range []string{"avshub", "bridge-mqtt", "bridge-zigbee", "bridge-virtual"} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"cmd/"+bin).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", bin, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || allowed[f[0]] {
				continue
			}
			for _, imp := range f[1:] {
				if imp == "testing" || strings.HasPrefix(imp, "testing/") {
					t.Errorf("cmd/%s: %s imports %s", bin, f[0], imp)
				}
			}
		}
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// TestHubDoesNotLinkDeviceLibraries: the hub's own packages never link the
// bridges or their device libraries; the avshub executable carries the bundled
// bridges only through bridges/bundled, which its `bridge` command serves in a
// separate plugin process.
func TestHubDoesNotLinkDeviceLibraries(t *testing.T) {
	bad := []string{"go.bug.st/serial", "github.com/creack/pty", mod + "bridges/"}
	for pkg, ds := range deps(t, mod+"gateway/...") {
		if !strings.HasPrefix(pkg, mod+"gateway/") {
			continue
		}
		for _, d := range ds {
			if hasAnyPrefix(d, bad) {
				t.Errorf("%s links %s; device libraries belong in bridge plugins", pkg, d)
			}
		}
	}
	out, err := exec.Command("go", "list", "-f", "{{join .Imports \" \"}}", mod+"cmd/avshub").Output()
	if err != nil {
		t.Fatalf("go list cmd/avshub: %v", err)
	}
	var viaBundled bool
	for _, imp := range strings.Fields(string(out)) {
		switch {
		case imp == mod+"bridges/bundled":
			viaBundled = true
		case hasAnyPrefix(imp, bad):
			t.Errorf("cmd/avshub imports %s directly; bundled bridges go through bridges/bundled", imp)
		}
	}
	if !viaBundled {
		t.Error("cmd/avshub does not import bridges/bundled: `avshub bridge NAME` cannot serve the bundled bridges")
	}
}
