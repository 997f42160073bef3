// Package store is avshub's persistence: named buckets of keys and values
// behind a small interface (in the spirit of brutella/hap's store), with a
// bbolt implementation for the data directory and an in-memory one for tests.
//
// Every write is atomic: a failed write (disk full, closed store) returns a
// wrapped error and leaves the previous contents intact (bbolt transactions).
package store

import (
	"errors"
	"maps"
	"sort"
	"sync"
)

// ErrNotFound is returned by Get for a key (or bucket) that does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrClosed is returned by every call on a closed store.
var ErrClosed = errors.New("store: closed")

// Store is a set of buckets of keys and values. Implementations are safe for
// concurrent use. Calls do local disk I/O and are not cancellable.
type Store interface {
	// Get returns the value of key in bucket, or an error wrapping ErrNotFound.
	Get(bucket, key string) ([]byte, error)
	// Put sets key in bucket to value, creating the bucket if needed.
	Put(bucket, key string, value []byte) error
	// Delete removes key from bucket; a missing key is not an error.
	Delete(bucket, key string) error
	// List returns every key and value of bucket (empty for a missing bucket).
	List(bucket string) (map[string][]byte, error)
	// Update applies puts and deletes to one bucket in a single atomic write.
	Update(bucket string, put map[string][]byte, del []string) error
	// Close releases the store.
	Close() error
}

// Mem is an in-memory Store for tests.
type Mem struct {
	mu      sync.RWMutex
	closed  bool
	buckets map[string]map[string][]byte
	// FailWrites, when set, makes every write return it (to test error paths).
	FailWrites error
}

var _ Store = (*Mem)(nil)

// NewMem returns an empty in-memory store.
func NewMem() *Mem { return &Mem{buckets: map[string]map[string][]byte{}} }

// Get implements Store.
func (m *Mem) Get(bucket, key string) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	v, ok := m.buckets[bucket][key]
	if !ok {
		return nil, notFound(bucket, key)
	}
	return clone(v), nil
}

// Put implements Store.
func (m *Mem) Put(bucket, key string, value []byte) error {
	return m.Update(bucket, map[string][]byte{key: value}, nil)
}

// Delete implements Store.
func (m *Mem) Delete(bucket, key string) error { return m.Update(bucket, nil, []string{key}) }

// List implements Store.
func (m *Mem) List(bucket string) (map[string][]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	out := make(map[string][]byte, len(m.buckets[bucket]))
	for k, v := range m.buckets[bucket] {
		out[k] = clone(v)
	}
	return out, nil
}

// Update implements Store.
func (m *Mem) Update(bucket string, put map[string][]byte, del []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.FailWrites != nil {
		return m.FailWrites
	}
	if err := checkNames(bucket, put, del); err != nil {
		return err
	}
	b := m.buckets[bucket]
	if b == nil {
		b = map[string][]byte{}
		m.buckets[bucket] = b
	}
	for _, k := range del {
		delete(b, k)
	}
	for k, v := range put {
		b[k] = clone(v)
	}
	return nil
}

// Close implements Store.
func (m *Mem) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// Buckets returns the names of the non-empty buckets, sorted (for tests).
func (m *Mem) Buckets() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var names []string
	for n, b := range m.buckets {
		if len(b) > 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Snapshot returns a deep copy of every bucket (for tests).
func (m *Mem) Snapshot() map[string]map[string][]byte {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string]map[string][]byte, len(m.buckets))
	for n, b := range m.buckets {
		out[n] = maps.Clone(b)
	}
	return out
}

func clone(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return append([]byte(nil), b...)
}

func notFound(bucket, key string) error {
	return &keyError{bucket: bucket, key: key}
}

type keyError struct{ bucket, key string }

func (e *keyError) Error() string { return "store: " + e.bucket + "/" + e.key + ": not found" }
func (e *keyError) Unwrap() error { return ErrNotFound }

var errEmptyName = errors.New("store: empty bucket or key name")

func checkNames(bucket string, put map[string][]byte, del []string) error {
	if bucket == "" {
		return errEmptyName
	}
	for k := range put {
		if k == "" {
			return errEmptyName
		}
	}
	for _, k := range del {
		if k == "" {
			return errEmptyName
		}
	}
	return nil
}
