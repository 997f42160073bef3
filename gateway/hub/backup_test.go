package hub

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avshub/avshub/gateway/backup"
	"github.com/avshub/avshub/gateway/store"
)

// TestBackupWhileRunning runs `avshub backup` against a running hub: the hub
// writes the database snapshot over its local API (the database stays locked
// by the hub), and the archive holds the configuration too.
func TestBackupWhileRunning(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.start()
	e.waitConnected()
	e.waitKnown()

	out := filepath.Join(t.TempDir(), "backup.tar.gz")
	cfgPath := filepath.Join(e.dir, "avshub.yaml")
	cmd := exec.Command(filepath.Join(binDir, "avshub"), "backup", "--config", cfgPath, "--out", out)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("avshub backup while the hub runs: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), "the hub is running") {
		t.Fatalf("avshub backup did not use the running hub: %s", b)
	}

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	restored := filepath.Join(t.TempDir(), "data")
	m, err := backup.Restore(f, restored)
	if err != nil {
		t.Fatal(err)
	}
	wantCfg, _ := os.ReadFile(cfgPath)
	gotCfg, err := os.ReadFile(filepath.Join(restored, backup.ConfigMember))
	if err != nil || !bytes.Equal(gotCfg, wantCfg) || m.Config != cfgPath {
		t.Fatalf("the archive's configuration (%s): %v, manifest says %q", backup.ConfigMember, err, m.Config)
	}
	st, err := store.Open(restored, store.Options{})
	if err != nil {
		t.Fatalf("the restored database does not open: %v", err)
	}
	st.Close()
	db, err := os.ReadFile(filepath.Join(restored, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(db, []byte(id("kitchen-light"))) {
		t.Fatalf("the restored database lacks the registry's endpoints")
	}
}
