package store

import (
	"io"

	bolt "go.etcd.io/bbolt"
)

// WriteTo writes a consistent copy of the whole database to w (a read
// transaction: writers are not blocked), for backups.
func (b *Bolt) WriteTo(w io.Writer) (n int64, err error) {
	err = b.db.View(func(tx *bolt.Tx) error {
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
