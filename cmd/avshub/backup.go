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
	cfgPath := fs.String("config", defaultConfig, "configuration file")
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
	if _, err := web.NewClient(cfg.Status.Socket).Status(ctx); err == nil {
		return errors.New("the hub is running: stop it first (systemctl stop avshub), so that the backup is consistent")
	}
	// The store is opened (and locked) for the snapshot, so no other hub can write meanwhile.
	st, err := store.Open(cfg.Hub.DataDir, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	f, err := os.OpenFile(*dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	m, err := backup.Write(f, cfg.Hub.DataDir, version, map[string]backup.Snapshot{filepath.Base(st.Path()): st.WriteTo})
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
	fmt.Fprintf(out, "backed up %d files of %s to %s\n", m.Files, cfg.Hub.DataDir, *dst)
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
	return nil
}
