package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestReadyLine(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--cert-dir", dir,
			"--record", filepath.Join(dir, "events.jsonl"), "--profile", "smarthome", "--issue-token", tokenFile}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^avs-sim ready url=(https://127\.0\.0\.1:\d+) admin=(http://127\.0\.0\.1:\d+) ca=(\S+)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("ready line %q", line)
	}
	if pem, err := os.ReadFile(m[3]); err != nil || !strings.Contains(string(pem), "BEGIN CERTIFICATE") {
		t.Errorf("CA file %s: %v", m[3], err)
	}
	resp, err := http.Get(m[2] + "/sim/state")
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Profile string }
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.Profile != "smarthome" {
		t.Errorf("profile %q", st.Profile)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	b, err := os.ReadFile(tokenFile)
	if err != nil || json.Unmarshal(b, &tok) != nil || !strings.HasPrefix(tok.AccessToken, "Atza|") {
		t.Errorf("issued token file: %s %v", b, err)
	}
	if fi, err := os.Stat(tokenFile); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", fi.Mode())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{}, {"--cert-dir", t.TempDir(), "--profile", "alexa", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"}, {"--bogus"}} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
