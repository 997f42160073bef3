package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/avshub/avshub/gateway/backup"
	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/store"
	"github.com/avshub/avshub/gateway/web"
)

func cmdBackup(ctx context.Context, args []string, out, errw io.Writer) error {
	fs := flags("backup", errw)
	cfgPath := fs.String("config", defaultConfig, "configuration file (archived too)")
	sock := fs.String("socket", "", "the running hub's local API socket (overrides the config)")
	dst := fs.String("out", "", "archive to write (.tar.gz)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *dst == "" {
		return usageError("--out is required: the archive to write")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	socket := cfg.Status.Socket
	if *sock != "" {
		socket = *sock
	}
	spec := backup.Spec{DataDir: cfg.Hub.DataDir, HubVersion: version, ConfigFile: cfg.Path}
	how := "the hub is not running: database read from its file"
	client := web.NewClient(socket)
	if _, err := client.Status(ctx); err == nil {
		// Running: the hub holds the database's lock; it writes a consistent
		// snapshot (a bbolt read transaction) over its local API.
		name := store.FileName
		spec.Snapshots = map[string]backup.Snapshot{name: func(w io.Writer) (int64, error) {
			got, n, err := client.SnapshotDB(ctx, w)
			if err == nil && got != name {
				err = fmt.Errorf("the hub's database is %s, not %s", got, name)
			}
			return n, err
		}}
		how = "the hub is running: database snapshot taken by the hub"
	} else {
		// Stopped: open (and lock) the store, so that no hub starts writing meanwhile.
		st, err := store.Open(cfg.Hub.DataDir, store.Options{})
		if err != nil {
			return err
		}
		defer st.Close()
		spec.Snapshots = map[string]backup.Snapshot{filepath.Base(st.Path()): st.WriteTo}
	}
	f, err := os.OpenFile(*dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	m, err := backup.WriteSpec(f, spec)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*dst)
		return err
	}
	fmt.Fprintf(out, "backed up %d files (%s and the configuration %s) to %s (%s)\n", m.Files, cfg.Hub.DataDir, cfg.Path, *dst, how)
	return nil
}

func cmdRestore(ctx context.Context, args []string, out, errw io.Writer) error {
	fs := flags("restore", errw)
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	src := fs.String("in", "", "archive to restore (.tar.gz)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *src == "" {
		return usageError("--in is required: the archive to restore")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if _, err := web.NewClient(cfg.Status.Socket).Status(ctx); err == nil {
		return errors.New("the hub is running: stop it first")
	}
	f, err := os.Open(*src)
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := backup.Restore(f, cfg.Hub.DataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "restored %s from a backup of %s (avshub %s); the previous data was kept beside it\n",
		cfg.Hub.DataDir, m.CreatedAt.Format("2006-01-02 15:04"), m.HubVersion)
	if m.Config != "" {
		fmt.Fprintf(out, "the backup's configuration (from %s) is in %s: compare it with yours\n", m.Config, filepath.Join(cfg.Hub.DataDir, backup.ConfigMember))
	}
	return nil
}
