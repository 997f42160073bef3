package main

import (
	"bytes"
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
		{"config bad", []string{"config", "check", "--config", bad}, 1, "bad.yaml:3: profil: unknown key"},
		{"config usage", []string{"config"}, 2, "usage: avshub config"},
		{"status not running", []string{"status", "--config", good}, 1, "not running"},
		{"run not linked", []string{"run", "--config", good}, 1, "avshub link"},
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
