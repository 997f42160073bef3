// Package backup saves and restores the hub's data directory as a gzip'd tar
// archive: every file, the bbolt database as a consistent snapshot (taken by
// the running hub, or from the closed file), the configuration file, and a
// manifest saying what wrote it.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// ManifestName is the archive member describing the backup.
const ManifestName = "avshub-backup.json"

// ConfigMember is the archive member holding the configuration file. Restore
// puts it in the data directory under this name, beside the data, and never
// over the configuration in use.
const ConfigMember = "avshub.yaml.from-backup"

// Manifest describes a backup.
type Manifest struct {
	CreatedAt  time.Time `json:"createdAt"`
	HubVersion string    `json:"hubVersion"`
	Files      int       `json:"files"`
	// Config is where the configuration file in the archive came from.
	Config string `json:"config,omitempty"`
}

// Spec says what a backup holds.
type Spec struct {
	// DataDir is archived whole, except sockets and temporary files.
	DataDir string
	// HubVersion goes in the manifest.
	HubVersion string
	// Snapshots names files of DataDir taken from a Snapshot function instead of the disk.
	Snapshots map[string]Snapshot
	// ConfigFile, when set, is archived as ConfigMember.
	ConfigFile string
}

// Snapshot writes a consistent copy of a live file (the bbolt database) to w.
type Snapshot func(w io.Writer) (int64, error)

// Write archives dataDir to w. Files named in snapshots are taken from their
// Snapshot function instead of being read from disk; sockets and temporary
// files are skipped.
func Write(w io.Writer, dataDir, hubVersion string, snapshots map[string]Snapshot) (Manifest, error) {
	return WriteSpec(w, Spec{DataDir: dataDir, HubVersion: hubVersion, Snapshots: snapshots})
}

// WriteSpec archives what spec names to w.
func WriteSpec(w io.Writer, spec Spec) (Manifest, error) {
	dataDir, snapshots := spec.DataDir, spec.Snapshots
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	m := Manifest{CreatedAt: time.Now().UTC(), HubVersion: spec.HubVersion}
	if spec.ConfigFile != "" {
		b, err := os.ReadFile(spec.ConfigFile)
		if err != nil {
			return m, fmt.Errorf("backup of the configuration: %w", err)
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: ConfigMember, Mode: 0o600, Size: int64(len(b)), ModTime: m.CreatedAt}); err != nil {
			return m, err
		}
		if _, err := tw.Write(b); err != nil {
			return m, err
		}
		m.Config, _ = filepath.Abs(spec.ConfigFile)
		m.Files++
	}
	err := filepath.WalkDir(dataDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dataDir, p)
		if err != nil || rel == "." {
			return err
		}
		name := filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o700, ModTime: info.ModTime()})
		case !info.Mode().IsRegular(), strings.HasSuffix(name, ".tmp"), strings.Contains(name, ".tmp-"), name == ConfigMember:
			return nil // sockets, pipes and half-written files
		}
		if snap, ok := snapshots[name]; ok {
			return writeSnapshot(tw, name, info.ModTime(), snap, &m)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: info.Size(), ModTime: info.ModTime()}); err != nil {
			return err
		}
		if _, err := io.CopyN(tw, f, info.Size()); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		m.Files++
		return nil
	})
	if err != nil {
		return m, fmt.Errorf("backup of %s: %w", dataDir, err)
	}
	mj, _ := json.MarshalIndent(m, "", "  ")
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: ManifestName, Mode: 0o600, Size: int64(len(mj)), ModTime: m.CreatedAt}); err != nil {
		return m, err
	}
	if _, err := tw.Write(mj); err != nil {
		return m, err
	}
	if err := tw.Close(); err != nil {
		return m, err
	}
	return m, gz.Close()
}

// writeSnapshot spools a snapshot to a temporary file first: tar needs the size up front.
func writeSnapshot(tw *tar.Writer, name string, mod time.Time, snap Snapshot, m *Manifest) error {
	tmp, err := os.CreateTemp("", "avshub-snapshot-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := snap(tmp)
	if err != nil {
		return fmt.Errorf("snapshot of %s: %w", name, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: n, ModTime: mod}); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, tmp, n); err != nil {
		return err
	}
	m.Files++
	return nil
}

// Restore replaces dataDir with the archive's content. It unpacks into a new
// directory beside dataDir, checks the manifest, then swaps the directories,
// keeping the old one as dataDir.before-<time>. The hub must not be running.
func Restore(r io.Reader, dataDir string) (Manifest, error) {
	var m Manifest
	parent := filepath.Dir(filepath.Clean(dataDir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return m, err
	}
	tmp, err := os.MkdirTemp(parent, ".avshub-restore-")
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(tmp)
	gz, err := gzip.NewReader(r)
	if err != nil {
		return m, fmt.Errorf("restore: not a backup archive: %w", err)
	}
	tr := tar.NewReader(gz)
	seenManifest := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, fmt.Errorf("restore: damaged archive: %w", err)
		}
		name := path.Clean(h.Name)
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return m, fmt.Errorf("restore: archive member %q escapes the data directory", h.Name)
		}
		dst := filepath.Join(tmp, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o700); err != nil {
				return m, err
			}
		case tar.TypeReg:
			if name == ManifestName {
				if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&m); err != nil {
					return m, fmt.Errorf("restore: bad manifest: %w", err)
				}
				seenManifest = true
				continue
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
				return m, err
			}
			if err := writeFile(dst, tr, h.Size); err != nil {
				return m, fmt.Errorf("restore %s: %w", name, err)
			}
		default:
			return m, fmt.Errorf("restore: unexpected member %q (type %c)", h.Name, h.Typeflag)
		}
	}
	if !seenManifest {
		return m, fmt.Errorf("restore: the archive has no %s: not an avshub backup", ManifestName)
	}
	if err := os.Chmod(tmp, 0o700); err != nil {
		return m, err
	}
	if _, err := os.Stat(dataDir); err == nil {
		old := dataDir + ".before-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(dataDir, old); err != nil {
			return m, fmt.Errorf("restore: moving the current data aside: %w", err)
		}
	}
	if err := os.Rename(tmp, dataDir); err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	return m, nil
}

func writeFile(dst string, r io.Reader, size int64) error {
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(f, r, size); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
