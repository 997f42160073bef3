package lwa

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Token sources recorded in the store.
const (
	// SourceCBL marks a refresh token obtained by code-based linking.
	SourceCBL = "cbl"
	// SourceCompanion marks a refresh token imported from a companion app
	// (remote authorization); refreshing it uses the client secret.
	SourceCompanion = "companion"
	// SourceGrant marks a refresh token obtained by exchanging an
	// authorization code (a Smart Home skill's Alexa.Authorization.AcceptGrant);
	// refreshing it uses the client secret.
	SourceGrant = "grant"
)

// stored is the token file's content.
type stored struct {
	RefreshToken string    `json:"refresh_token,omitempty"`
	Source       string    `json:"source,omitempty"`
	ClientID     string    `json:"client_id,omitempty"`
	LinkedAt     time.Time `json:"linked_at,omitzero"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
	// NeedsRelink holds why LWA refused the refresh token; the token is gone
	// and nothing is retried until the hub is linked again.
	NeedsRelink string `json:"needs_relink,omitempty"`
}

// Directory and file names under the data directory.
const (
	storeDir  = "lwa"
	storeFile = "tokens.json"
)

// TokenFile returns the path of the token file under dataDir.
func TokenFile(dataDir string) string {
	return filepath.Join(dataDir, storeDir, storeFile)
}

// store keeps the refresh token on disk: directory 0700, file 0600, written
// atomically (temp file, fsync, rename, fsync of the directory).
type store struct {
	dir string
}

func newStore(dataDir string) *store {
	return &store{dir: filepath.Join(dataDir, storeDir)}
}

func (s *store) path() string { return filepath.Join(s.dir, storeFile) }

// load reads the token file; a missing file gives a zero value and no error.
func (s *store) load() (stored, error) {
	var st stored
	b, err := os.ReadFile(s.path())
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading token file: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		// Never quote the content: it holds a token.
		return stored{}, fmt.Errorf("token file %s is corrupt (run `avshub link` again)", s.path())
	}
	if fi, err := os.Stat(s.path()); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return st, fmt.Errorf("token file %s has mode %v; it must not be readable by others (chmod 600)", s.path(), fi.Mode().Perm())
	}
	return st, nil
}

// save writes st atomically.
func (s *store) save(st stored) error {
	if err := os.MkdirAll(filepath.Dir(s.dir), 0o700); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	if err := os.Mkdir(s.dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating token directory: %w", err)
	}
	if err := os.Chmod(s.dir, 0o700); err != nil {
		return fmt.Errorf("securing token directory: %w", err)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding tokens: %w", err)
	}
	f, err := os.CreateTemp(s.dir, ".tokens-*.tmp")
	if err != nil {
		return fmt.Errorf("writing token file: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("writing token file: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing token file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing token file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing token file: %w", err)
	}
	if err := os.Rename(tmp, s.path()); err != nil {
		return fmt.Errorf("replacing token file: %w", err)
	}
	ok = true
	if d, err := os.Open(s.dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
