package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestServiceInstallLines runs the install lines of the systemd unit's header,
// as written, on an empty root (paths moved under a temporary directory, the
// group left out since the test is not root) and checks what they install.
func TestServiceInstallLines(t *testing.T) {
	unit, err := os.ReadFile("../../configs/avshub.service")
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()  // a repository after make build
	root := t.TempDir() // a fresh system
	for _, f := range []string{"bin/avshub"} {
		p := filepath.Join(src, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(src, "configs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"avshub.service", "avshub.yaml"} {
		b, err := os.ReadFile(filepath.Join("../../configs", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, "configs", f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var ran int
	sc := bufio.NewScanner(strings.NewReader(string(unit)))
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "#"))
		if !strings.HasPrefix(line, "install ") {
			continue
		}
		line = strings.ReplaceAll(line, " -g avshub", "")
		var args []string
		for _, a := range strings.Fields(line)[1:] {
			if strings.HasPrefix(a, "/") {
				a = filepath.Join(root, a)
			}
			args = append(args, a)
		}
		cmd := exec.Command("install", args...)
		cmd.Dir = src
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%q fails on an empty root: %v\n%s", line, err, out)
		}
		ran++
	}
	if ran < 3 {
		t.Fatalf("found %d install lines in the unit's header", ran)
	}
	for _, f := range []string{"usr/bin/avshub", "etc/avshub/avshub.yaml", "etc/systemd/system/avshub.service"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	for _, l := range strings.Split(string(unit), "\n") {
		if strings.HasPrefix(l, "RuntimeDirectory=") {
			t.Errorf("%s is declared but the hub keeps nothing in /run", l)
		}
	}
}

// TestServiceUnitVerifies runs systemd-analyze verify on the unit (ExecStart
// pointed at a real executable) when systemd-analyze is installed.
func TestServiceUnitVerifies(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	unit, err := os.ReadFile("../../configs/avshub.service")
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(unit), "ExecStart=/usr/bin/avshub", "ExecStart="+exe)
	p := filepath.Join(t.TempDir(), "avshub.service")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", "--man=no", p).CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		// Only complaints about this unit count (the container's own units may be odd).
		if strings.Contains(l, "avshub.service") {
			t.Errorf("systemd-analyze verify: %s", l)
		}
	}
	if err != nil && len(out) == 0 {
		t.Fatalf("systemd-analyze verify: %v", err)
	}
}
