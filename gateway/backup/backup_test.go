package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	files := map[string]string{"tokens.json": "refresh", "bridges/zigbee/devices.json": `[{"ieee":"00:11"}]`, "hub.db": "on-disk-db"}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "x.tmp"), []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	snap := map[string]Snapshot{"hub.db": func(w io.Writer) (int64, error) {
		n, err := io.WriteString(w, "consistent-snapshot")
		return int64(n), err
	}}
	m, err := Write(&buf, dir, "1.2.3", snap)
	if err != nil {
		t.Fatal(err)
	}
	if m.Files != 3 {
		t.Errorf("files = %d, want 3", m.Files)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokens.json"), []byte("changed later"), 0o600); err != nil {
		t.Fatal(err)
	}
	rm, err := Restore(bytes.NewReader(buf.Bytes()), dir)
	if err != nil {
		t.Fatal(err)
	}
	if rm.HubVersion != "1.2.3" {
		t.Errorf("manifest %+v", rm)
	}
	want := map[string]string{"tokens.json": "refresh", "bridges/zigbee/devices.json": `[{"ieee":"00:11"}]`, "hub.db": "consistent-snapshot"}
	for name, body := range want {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != body {
			t.Errorf("%s = %q, %v; want %q", name, b, err, body)
		}
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.tmp")); err == nil {
		t.Error("temporary files must not be backed up")
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode %v %v", fi.Mode().Perm(), err)
	}
	old, _ := filepath.Glob(dir + ".before-*")
	if len(old) != 1 {
		t.Fatalf("the previous data directory should be kept aside: %v", old)
	}
	if b, _ := os.ReadFile(filepath.Join(old[0], "tokens.json")); string(b) != "changed later" {
		t.Errorf("kept-aside data = %q", b)
	}
}

func TestRestoreRejects(t *testing.T) {
	mk := func(members map[string]string) []byte {
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for name, body := range members {
			_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: int64(len(body))})
			_, _ = tw.Write([]byte(body))
		}
		tw.Close()
		gz.Close()
		return buf.Bytes()
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not gzip", []byte("hello"), "not a backup"},
		{"no manifest", mk(map[string]string{"a": "b"}), "no avshub-backup.json"},
		{"escape", mk(map[string]string{"../evil": "x", ManifestName: "{}"}), "escapes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "keep"), []byte("k"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Restore(bytes.NewReader(tt.data), dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if b, err := os.ReadFile(filepath.Join(dir, "keep")); err != nil || string(b) != "k" {
				t.Fatal("a failed restore must leave the data directory untouched")
			}
		})
	}
}

func FuzzRestore(f *testing.F) {
	var buf bytes.Buffer
	_, _ = Write(&buf, f.TempDir(), "x", nil)
	f.Add(buf.Bytes())
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := filepath.Join(t.TempDir(), "data")
		_, _ = Restore(bytes.NewReader(data), dir)
		// Whatever happens, nothing may land outside the parent directory.
		entries, _ := os.ReadDir(filepath.Dir(filepath.Dir(dir)))
		for _, e := range entries {
			if strings.Contains(e.Name(), "evil") {
				t.Fatalf("archive wrote %s outside the data directory", e.Name())
			}
		}
	})
}
