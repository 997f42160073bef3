package hub

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/avshub/avshub/plugins/host"
	"github.com/avshub/avshub/plugins/sdk"
)

// TestBundledBridge: a bridge without a path runs as the hub's executable
// with `bridge NAME`, in an environment holding only its Go memory settings
// and go-plugin's own variables; a different executable in its place (an
// upgrade under the running hub) is refused at the bridge's next start, with
// both checksums named, and the bridge is parked instead of run.
func TestBundledBridge(t *testing.T) {
	self := filepath.Join(t.TempDir(), "avshub")
	copyFile(t, filepath.Join(binDir, "avshub"), self)
	e := newEnv(t, envOptions{Self: self})
	e.start()
	defer e.stop()
	e.waitKnown()
	pid := e.bridgePID()
	if pid == 0 {
		t.Fatal("no bridge pid")
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00"), []string{self, "bridge", "virtual"}; !slices.Equal(got, want) {
		t.Errorf("bridge command line %q, want %q", got, want)
	}
	environ, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, v := range strings.Split(strings.TrimRight(string(environ), "\x00"), "\x00") {
		// go-plugin's handshake cookie, ports and mTLS certificate
		if !strings.HasPrefix(v, "PLUGIN_") && !strings.HasPrefix(v, sdk.Handshake.MagicCookieKey+"=") {
			env = append(env, v)
		}
	}
	if want := bundledEnv("virtual"); !slices.Equal(env, want) || len(want) == 0 {
		t.Errorf("bridge environment %q, want %q", env, want)
	}

	// An upgrade replaces the file (rename: the running process keeps its image).
	next := self + ".new"
	copyFile(t, filepath.Join(binDir, "avshub"), next)
	f, err := os.OpenFile(next, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("upgraded")); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Rename(next, self); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e.poll(ctx, "the bridge to be parked", func() error {
		for _, b := range e.hub.Status().Bridges {
			if b.Name == "virtual" && b.State == string(host.StateFailed) {
				return nil
			}
		}
		return errors.New("not parked")
	})
	st := e.hub.Status().Bridges[0]
	sum, err := host.FileSHA256(self)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.LastError, "sha256 "+sum) || !strings.Contains(st.LastError, "the running hub's is") || !strings.Contains(st.LastError, "Restart the hub") {
		t.Errorf("parked bridge's error %q does not name the new checksum %s and the hub's, and say to restart the hub", st.LastError, sum)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
