package host

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTrustedRebuildIsAdoptedOnRetry: an external bridge whose binary is
// replaced under a running hub is refused at its next launch with both
// checksums named and the way out (`avshub plugin trust NAME`, then SIGHUP);
// once the pin file holds the new checksum (as `avshub plugin trust` writes it,
// sha256sum format), the hub's SIGHUP (Retry on a parked bridge) runs the new
// binary.
func TestTrustedRebuildIsAdoptedOnRetry(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bridge-acme")
	orig, err := os.ReadFile(virtualBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, orig, 0o755); err != nil {
		t.Fatal(err)
	}
	oldSum, _ := FileSHA256(bin)
	pin := filepath.Join(dir, "pins", "acme.sha256")
	s, _ := startSupervisor(t, Config{Name: "acme", Path: bin, PinFile: pin})
	eventually(t, 30*time.Second, "running", func() bool { return s.Status().State == StateRunning })

	// A rebuild: a new file with other bytes, renamed over the old one.
	tmp := bin + ".new"
	if err := os.WriteFile(tmp, append(orig, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	newSum, _ := FileSHA256(bin)
	if err := syscall.Kill(s.Status().PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "parked", func() bool { return s.Status().State == StateFailed })
	msg := s.Status().LastError
	for _, want := range []string{oldSum, newSum, "avshub plugin trust acme", "SIGHUP", pin} {
		if !strings.Contains(msg, want) {
			t.Errorf("the refusal does not say %q: %s", want, msg)
		}
	}

	if err := os.WriteFile(pin, []byte(newSum+"  "+bin+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Retry()
	eventually(t, 30*time.Second, "the trusted rebuild running", func() bool { return s.Status().State == StateRunning })
}
