package simcmd

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

func TestServeAdmin(t *testing.T) {
	adm, err := ServeAdmin("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "admin")
	}))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + adm.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "admin" {
		t.Errorf("body %q", body)
	}
	if err := adm.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	select {
	case err := <-adm.Failed():
		t.Errorf("a closed API reports a failure: %v", err)
	default:
	}
	if _, err := http.Get("http://" + adm.Addr() + "/"); err == nil {
		t.Error("the API still answers after Close")
	}
	if _, err := ServeAdmin(adm.Addr()+"0000", nil); err == nil {
		t.Error("a bad address was accepted")
	}
}

func TestAppendFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "record.jsonl")
	for _, line := range []string{"one\n", "two\n"} {
		f, err := AppendFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(f, line); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	b, _ := os.ReadFile(p)
	if string(b) != "one\ntwo\n" {
		t.Errorf("file holds %q, want both lines appended", b)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := AppendFile(filepath.Join(p, "sub")); err == nil {
		t.Error("a path under a file was opened")
	}
}
