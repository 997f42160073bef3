// Package bridges_test keeps the import boundaries honest: a bridge imports
// plugins/sdk and the device model (discovery/model), never the hub (gateway)
// nor the hub's registry and discovery diffing (discovery); the hub binary does
// not link the bridges' device libraries; no production binary links testing.
package bridges_test

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
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
// for that reason). hashicorp/go-plugin is the one outside importer, and it
// cannot be cut without forking it: its testing.go (TestConn, TestRPCConn,
// TestPluginGRPCConn… helpers for its users' tests) imports testing in the
// package itself, with no build constraint, in v1.8.0, the newest release on
// the module proxy (2026-12), so neither an upgrade nor a build tag of ours
// drops it. The chains, from
// `go list -deps`:
//
//	cmd/avshub -> plugins/host -> github.com/hashicorp/go-plugin (testing.go) -> testing
//	cmd/bridge-{mqtt,zigbee,virtual} -> bridges/bundled -> plugins/sdk -> github.com/hashicorp/go-plugin (testing.go) -> testing
//
// The linker keeps testing's package initialiser and nothing that runs (go
// tool nm: testing.init, testing..inittask, testing.supportedTypes); testing's
// flags are registered only by testing.Init, which no production code calls.
// The allowance is exact: it fails when another go-plugin file starts
// importing testing, and when testing.go stops (drop the allowance then).
func TestProductionBinariesDoNotLinkTesting(t *testing.T) {
	allowed := map[string]string{"github.com/hashicorp/go-plugin": "testing.go"}
	for pkg, file := range allowed {
		out, err := exec.Command("go", "list", "-f", "{{.Dir}}", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		dir := strings.TrimSpace(string(out))
		var importers []string
		for _, name := range goFiles(t, pkg) {
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == "testing" || strings.HasPrefix(p, "testing/") {
					importers = append(importers, name)
				}
			}
		}
		if len(importers) != 1 || importers[0] != file {
			t.Errorf("%s: the files importing testing are %v; the allowance expects only %s", pkg, importers, file)
		}
	}
	for _, bin := range []string{"avshub", "bridge-mqtt", "bridge-zigbee", "bridge-virtual"} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"cmd/"+bin).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", bin, err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || allowed[f[0]] != "" {
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

// goFiles lists the files of pkg that a production build compiles.
func goFiles(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{join .GoFiles \"\\n\"}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
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
