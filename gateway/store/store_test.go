package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func impls(t *testing.T) map[string]Store {
	b, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return map[string]Store{"bolt": b, "mem": NewMem()}
}

func TestStoreContract(t *testing.T) {
	for name, s := range impls(t) {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Get("b", "missing"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get missing bucket: %v, want ErrNotFound", err)
			}
			if m, err := s.List("nobucket"); err != nil || len(m) != 0 {
				t.Fatalf("List missing bucket = %v, %v", m, err)
			}
			if err := s.Put("b", "k", []byte("v1")); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get("b", "missing"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get missing key: %v, want ErrNotFound", err)
			}
			v, err := s.Get("b", "k")
			if err != nil || string(v) != "v1" {
				t.Fatalf("Get = %q, %v", v, err)
			}
			v[0] = 'X' // the caller owns the copy
			if v, _ := s.Get("b", "k"); string(v) != "v1" {
				t.Fatalf("store aliased the returned slice: %q", v)
			}
			if err := s.Update("b", map[string][]byte{"a": []byte("1"), "c": []byte("3")}, []string{"k", "never"}); err != nil {
				t.Fatal(err)
			}
			m, err := s.List("b")
			if err != nil || len(m) != 2 || string(m["a"]) != "1" || string(m["c"]) != "3" {
				t.Fatalf("List = %v, %v", m, err)
			}
			if err := s.Delete("b", "a"); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete("b", "a"); err != nil {
				t.Fatalf("Delete of a missing key: %v", err)
			}
			if err := s.Put("b", "", []byte("x")); err == nil {
				t.Fatal("empty key accepted")
			}
			if err := s.Put("", "k", []byte("x")); err == nil {
				t.Fatal("empty bucket accepted")
			}
			if err := s.Put("b", "empty", nil); err != nil {
				t.Fatal(err)
			}
			if v, err := s.Get("b", "empty"); err != nil || len(v) != 0 {
				t.Fatalf("empty value = %q, %v", v, err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Put("b", "k", []byte("x")); err == nil || !errors.Is(err, ErrClosed) {
				t.Fatalf("Put after Close = %v, want ErrClosed", err)
			}
		})
	}
}

func TestBoltPersistsAndFileMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put("tokens", "refresh", []byte("secret")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("file mode %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(dir)
	if di.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v, want 0700", di.Mode().Perm())
	}
	b, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if v, err := b.Get("tokens", "refresh"); err != nil || string(v) != "secret" {
		t.Fatalf("after reopen: %q, %v", v, err)
	}
	if v, err := b.Version(); err != nil || v != FormatVersion {
		t.Fatalf("Version = %d, %v", v, err)
	}
	if err := b.Put("_meta", "x", nil); err == nil {
		t.Fatal("reserved bucket accepted")
	}
}

// writeFormat makes a raw bbolt file with the given format version and data.
func writeFormat(t *testing.T, dir string, version int, data map[string]string) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		if version > 0 {
			mb, _ := tx.CreateBucketIfNotExists([]byte(metaBucket))
			_ = mb.Put([]byte(formatKey), []byte(strconv.Itoa(version)))
		}
		bk, _ := tx.CreateBucketIfNotExists([]byte("old"))
		for k, v := range data {
			_ = bk.Put([]byte(k), []byte(v))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBoltVersioning(t *testing.T) {
	t.Run("newer format refused", func(t *testing.T) {
		dir := t.TempDir()
		writeFormat(t, dir, FormatVersion+1, nil)
		if _, err := Open(dir, Options{}); err == nil {
			t.Fatal("opened a newer format")
		}
	})
	t.Run("unversioned data without migration refused", func(t *testing.T) {
		dir := t.TempDir()
		writeFormat(t, dir, 0, map[string]string{"k": "v"})
		if _, err := Open(dir, Options{}); err == nil {
			t.Fatal("opened unversioned data without a migration")
		}
	})
	t.Run("migration runs once", func(t *testing.T) {
		dir := t.TempDir()
		writeFormat(t, dir, 0, map[string]string{"k": "v"})
		runs := 0
		mig := []Migration{{From: 0, Migrate: func(tx Store) error {
			runs++
			v, err := tx.Get("old", "k")
			if err != nil {
				return err
			}
			return tx.Update("new", map[string][]byte{"k": v}, nil)
		}}}
		b, err := Open(dir, Options{Migrations: mig})
		if err != nil {
			t.Fatal(err)
		}
		if v, err := b.Get("new", "k"); err != nil || string(v) != "v" {
			t.Fatalf("migrated value %q, %v", v, err)
		}
		_ = b.Close()
		b, err = Open(dir, Options{Migrations: mig})
		if err != nil {
			t.Fatal(err)
		}
		_ = b.Close()
		if runs != 1 {
			t.Fatalf("migration ran %d times, want 1", runs)
		}
	})
	t.Run("failed migration changes nothing", func(t *testing.T) {
		dir := t.TempDir()
		writeFormat(t, dir, 0, map[string]string{"k": "v"})
		boom := errors.New("boom")
		_, err := Open(dir, Options{Migrations: []Migration{{From: 0, Migrate: func(tx Store) error {
			_ = tx.Put("new", "k", []byte("half"))
			return boom
		}}}})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_ = db.View(func(tx *bolt.Tx) error {
			if tx.Bucket([]byte("new")) != nil || tx.Bucket([]byte(metaBucket)) != nil {
				t.Error("a failed migration left changes behind")
			}
			return nil
		})
	})
}

func TestBoltLockedByAnotherOpen(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := Open(dir, Options{Timeout: 50e6}); err == nil {
		t.Fatal("second Open of a locked file succeeded")
	}
}

func TestMemFailWritesKeepsData(t *testing.T) {
	m := NewMem()
	_ = m.Put("b", "k", []byte("v"))
	m.FailWrites = errors.New("disk full")
	if err := m.Update("b", map[string][]byte{"k": []byte("new")}, nil); err == nil {
		t.Fatal("write succeeded")
	}
	if v, _ := m.Get("b", "k"); string(v) != "v" {
		t.Fatalf("value changed to %q", v)
	}
}

func TestBoltCorruptFileIsAClearError(t *testing.T) {
	dir := t.TempDir()
	garbage := []byte("this is not a bbolt file, and it must stay as it is")
	if err := os.WriteFile(filepath.Join(dir, FileName), append(garbage, make([]byte, 8192)...), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), FileName) {
		t.Fatalf("Open of a corrupt file = %v, want an error naming the file", err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, FileName))
	if !bytes.HasPrefix(got, garbage) {
		t.Fatal("Open modified a file it could not read")
	}
}
