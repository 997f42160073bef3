package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
)

// The binary connects to a broker, prints its ready line and serves the
// admin API; SIGTERM stops it cleanly (bridge/state goes offline).
func TestBinaryReadyLineAndAdmin(t *testing.T) {
	b := mqtttest.MustStart(t, mqtttest.Options{})
	bin := filepath.Join(t.TempDir(), "z2m-sim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--broker", b.URL, "--admin", "127.0.0.1:0", "--base-topic", "home/z2m")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(15 * time.Second):
		t.Fatal("no ready line")
	}
	m := regexp.MustCompile(`^z2m-sim ready broker=\S+ base=home/z2m admin=(http://\S+)$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("ready line %q", line)
	}
	resp, err := http.Get(m[1] + "/sim/devices")
	if err != nil {
		t.Fatal(err)
	}
	var devs []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&devs); err != nil || len(devs) != 7 {
		t.Fatalf("admin API: %d devices, %v", len(devs), err)
	}
	resp.Body.Close()
	if p, ok := b.Retained("home/z2m/bridge/devices"); !ok || !strings.Contains(string(p), "Front Door") {
		t.Errorf("bridge/devices not retained under the base topic")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
	if p, _ := b.Retained("home/z2m/bridge/state"); string(p) != `{"state":"offline"}` {
		t.Errorf("bridge/state after stop = %s", p)
	}
}
