// Package bridges_test keeps the import boundaries honest: a bridge imports
// plugins/sdk and discovery, never the hub (gateway), and the hub binary does
// not link the bridges' device libraries.
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

func TestBridgesNeverImportGateway(t *testing.T) {
	for _, pattern := range []string{"github.com/avshub/avshub/bridges/...", "github.com/avshub/avshub/cmd/bridge-..."} {
		for pkg, ds := range deps(t, pattern) {
			if !strings.HasPrefix(pkg, "github.com/avshub/avshub/bridges") && !strings.HasPrefix(pkg, "github.com/avshub/avshub/cmd/bridge-") {
				continue
			}
			for _, d := range ds {
				if strings.HasPrefix(d, "github.com/avshub/avshub/gateway") {
					t.Errorf("%s imports %s: bridges may import plugins/sdk and discovery, never gateway", pkg, d)
				}
			}
		}
	}
}

func TestHubDoesNotLinkDeviceLibraries(t *testing.T) {
	m := deps(t, "github.com/avshub/avshub/cmd/avshub")
	for _, d := range m["github.com/avshub/avshub/cmd/avshub"] {
		for _, bad := range []string{"go.bug.st/serial", "github.com/creack/pty", "github.com/avshub/avshub/bridges/"} {
			if strings.HasPrefix(d, bad) {
				t.Errorf("cmd/avshub links %s; device libraries belong in bridge plugins", d)
			}
		}
	}
}
