package store

import (
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFullDiskAtFirstOpen: when the disk fills while the store file is being
// created, Open fails and leaves no avshub.db behind (a 0-byte file would
// fail every later start). The full disk is a file size limit
// (RLIMIT_FSIZE) in a child process: writes past 1 KiB fail with EFBIG.
func TestFullDiskAtFirstOpen(t *testing.T) {
	if dir := os.Getenv("AVSHUB_FULLDISK_DIR"); dir != "" {
		signal.Ignore(syscall.SIGXFSZ) // a write past the limit fails instead of killing the process
		lim := syscall.Rlimit{Cur: 1024, Max: 1024}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			t.Fatalf("setrlimit: %v", err)
		}
		if b, err := Open(dir, Options{}); err == nil {
			b.Close()
			t.Fatal("Open succeeded on a full disk")
		}
		return
	}
	dir := filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(os.Args[0], "-test.run=^TestFullDiskAtFirstOpen$", "-test.count=1")
	cmd.Env = append(os.Environ(), "AVSHUB_FULLDISK_DIR="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); !os.IsNotExist(err) {
		fi, _ := os.Stat(filepath.Join(dir, FileName))
		t.Fatalf("a failed first Open left %s behind (%v, size %d)", FileName, err, fi.Size())
	}
	// With room, the same directory opens fine afterwards.
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after the disk was freed: %v", err)
	}
	b.Close()
}
