package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the database file inside the data directory.
const FileName = "avshub.db"

// FormatVersion is the data-directory format this build writes. Open upgrades
// an older directory with the registered migrations and refuses a newer one.
const FormatVersion = 1

// metaBucket holds the store's own records (the format version). Callers may not
// use bucket names starting with "_".
const (
	metaBucket = "_meta"
	formatKey  = "format"
)

// Migration upgrades the data from format From to From+1. It runs inside the
// same transaction as the version bump, so a failed migration changes nothing.
type Migration struct {
	From    int
	Migrate func(tx Store) error
}

// Options configures Open.
type Options struct {
	// Migrations upgrade older data directories, one step per format version.
	Migrations []Migration
	// Timeout bounds the wait for the file lock held by another process (default 2 s).
	Timeout time.Duration
}

// Bolt is a Store in one bbolt file (mode 0600) in the data directory.
type Bolt struct {
	db   *bolt.DB
	path string
}

var _ Store = (*Bolt)(nil)

// Open opens (or creates) the store in dir, creating dir with mode 0700 if
// needed, checks the format version and runs pending migrations.
func Open(dir string, opts Options) (*Bolt, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	path := filepath.Join(dir, FileName)
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	// A file this call created and could not finish (a full disk) is removed:
	// a 0-byte or half-written avshub.db would fail every later start.
	cleanup := func() {
		if created {
			_ = os.Remove(path)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("store: %s is locked by another process: %w", path, err)
		}
		cleanup()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	b := &Bolt{db: db, path: path}
	if err := b.migrate(opts.Migrations); err != nil {
		_ = db.Close()
		cleanup()
		return nil, err
	}
	return b, nil
}

// Path returns the database file's path.
func (b *Bolt) Path() string { return b.path }

// Version returns the data directory's format version.
func (b *Bolt) Version() (int, error) {
	var v int
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		v, err = readVersion(tx)
		return err
	})
	return v, err
}

func readVersion(tx *bolt.Tx) (int, error) {
	mb := tx.Bucket([]byte(metaBucket))
	if mb == nil {
		return 0, nil
	}
	raw := mb.Get([]byte(formatKey))
	if raw == nil {
		return 0, nil
	}
	v, err := strconv.Atoi(string(raw))
	if err != nil || v < 0 {
		return 0, fmt.Errorf("store: corrupt format version %q", raw)
	}
	return v, nil
}

// migrate brings the file to FormatVersion. A new (empty) file is stamped with
// FormatVersion directly; an existing one needs a migration for each step.
func (b *Bolt) migrate(ms []Migration) error {
	err := b.db.Update(func(tx *bolt.Tx) error {
		v, err := readVersion(tx)
		if err != nil {
			return err
		}
		if v == 0 && isEmpty(tx) {
			v = FormatVersion
		}
		if v > FormatVersion {
			return fmt.Errorf("store: %s has format %d, newer than this avshub understands (%d); refusing to touch it",
				b.path, v, FormatVersion)
		}
		for v < FormatVersion {
			m := findMigration(ms, v)
			if m == nil {
				return fmt.Errorf("store: no migration from format %d to %d", v, v+1)
			}
			if err := m.Migrate(txStore{tx}); err != nil {
				return fmt.Errorf("store: migration %d→%d: %w", v, v+1, err)
			}
			v++
		}
		mb, err := tx.CreateBucketIfNotExists([]byte(metaBucket))
		if err != nil {
			return err
		}
		return mb.Put([]byte(formatKey), []byte(strconv.Itoa(v)))
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", b.path, err)
	}
	return nil
}

func isEmpty(tx *bolt.Tx) bool {
	empty := true
	_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
		if string(name) != metaBucket {
			empty = false
		}
		return nil
	})
	return empty
}

func findMigration(ms []Migration, from int) *Migration {
	for i := range ms {
		if ms[i].From == from {
			return &ms[i]
		}
	}
	return nil
}

// Get implements Store.
func (b *Bolt) Get(bucket, key string) ([]byte, error) {
	var out []byte
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = txStore{tx}.Get(bucket, key)
		return err
	})
	return out, b.wrap("get", bucket, err)
}

// Put implements Store.
func (b *Bolt) Put(bucket, key string, value []byte) error {
	return b.Update(bucket, map[string][]byte{key: value}, nil)
}

// Delete implements Store.
func (b *Bolt) Delete(bucket, key string) error { return b.Update(bucket, nil, []string{key}) }

// List implements Store.
func (b *Bolt) List(bucket string) (map[string][]byte, error) {
	var out map[string][]byte
	err := b.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = txStore{tx}.List(bucket)
		return err
	})
	return out, b.wrap("list", bucket, err)
}

// Update implements Store: one bbolt transaction, so all or nothing.
func (b *Bolt) Update(bucket string, put map[string][]byte, del []string) error {
	if err := checkUserBucket(bucket); err != nil {
		return err
	}
	err := b.db.Update(func(tx *bolt.Tx) error { return txStore{tx}.Update(bucket, put, del) })
	return b.wrap("write", bucket, err)
}

// Close implements Store.
func (b *Bolt) Close() error {
	if err := b.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", b.path, err)
	}
	return nil
}

func (b *Bolt) wrap(op, bucket string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return err
	case errors.Is(err, berrors.ErrDatabaseNotOpen):
		return fmt.Errorf("store: %s %s: %w", op, bucket, ErrClosed)
	}
	return fmt.Errorf("store: %s %s in %s: %w", op, bucket, b.path, err)
}

func checkUserBucket(bucket string) error {
	if len(bucket) > 0 && bucket[0] == '_' {
		return fmt.Errorf("store: bucket name %q is reserved", bucket)
	}
	return nil
}

// txStore is a Store view of one bbolt transaction, given to migrations.
type txStore struct{ tx *bolt.Tx }

func (t txStore) Get(bucket, key string) ([]byte, error) {
	bk := t.tx.Bucket([]byte(bucket))
	if bk == nil {
		return nil, notFound(bucket, key)
	}
	v := bk.Get([]byte(key))
	if v == nil {
		return nil, notFound(bucket, key)
	}
	return clone(v), nil
}

func (t txStore) Put(bucket, key string, value []byte) error {
	return t.Update(bucket, map[string][]byte{key: value}, nil)
}

func (t txStore) Delete(bucket, key string) error { return t.Update(bucket, nil, []string{key}) }

func (t txStore) List(bucket string) (map[string][]byte, error) {
	out := map[string][]byte{}
	bk := t.tx.Bucket([]byte(bucket))
	if bk == nil {
		return out, nil
	}
	err := bk.ForEach(func(k, v []byte) error {
		if v != nil { // nested buckets have nil values
			out[string(k)] = clone(v)
		}
		return nil
	})
	return out, err
}

func (t txStore) Update(bucket string, put map[string][]byte, del []string) error {
	if err := checkNames(bucket, put, del); err != nil {
		return err
	}
	bk, err := t.tx.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return err
	}
	for _, k := range del {
		if err := bk.Delete([]byte(k)); err != nil {
			return err
		}
	}
	for k, v := range put {
		if err := bk.Put([]byte(k), clone(v)); err != nil {
			return err
		}
	}
	return nil
}

func (t txStore) Close() error {
	return errors.New("store: a migration's transaction cannot be closed")
}
