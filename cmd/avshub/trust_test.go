package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avshub/avshub/gateway/hub"
	"github.com/avshub/avshub/plugins/host"
)

// plugin trust records the binary's current checksum where the hub reads it:
// the configuration's sha256 (in place, comments kept), the manifest beside
// the binary, or the hub's pin file.
func TestPluginTrust(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bridge-acme")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n# rebuilt\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sum, _ := host.FileSHA256(bin)
	old := strings.Repeat("ab", 32)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := "hub:\n  serialNumber: hub-1\n  dataDir: data\nlwa:\n  clientId: amzn1.application-oa2-client.test\nbridges:\n  - name: acme\n    path: bridge-acme\n"
	run := func(cfg string) string {
		var out, errw bytes.Buffer
		if code := realMain([]string{"plugin", "trust", "acme", "--config", cfg}, &out, &errw); code != 0 {
			t.Fatalf("exit %d: %s%s", code, out.String(), errw.String())
		}
		return out.String()
	}

	withSum := write("sum.yaml", base+"    sha256: "+old+" # pinned by hand\n")
	if out := run(withSum); !strings.Contains(out, sum) || !strings.Contains(out, "kill -HUP") {
		t.Errorf("output %q", out)
	}
	if b, _ := os.ReadFile(withSum); !strings.Contains(string(b), "sha256: "+sum+" # pinned by hand") {
		t.Errorf("config not updated in place:\n%s", b)
	}

	pinned := write("pin.yaml", base)
	run(pinned)
	if b, err := os.ReadFile(hub.PinFile(filepath.Join(dir, "data"), "acme")); err != nil || !strings.HasPrefix(string(b), sum) {
		t.Errorf("pin file %q, %v", b, err)
	}

	write("bridge-acme.sha256", old+"  bridge-acme\n")
	run(pinned)
	if b, _ := os.ReadFile(bin + ".sha256"); !strings.HasPrefix(string(b), sum) {
		t.Errorf("manifest %q, want %s", b, sum)
	}

	var out, errw bytes.Buffer
	if code := realMain([]string{"plugin", "trust", "nope", "--config", pinned}, &out, &errw); code != 1 || !strings.Contains(errw.String(), `no bridge "nope"`) {
		t.Errorf("unknown bridge: exit %d %s", code, errw.String())
	}
}
