package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/lwa"
)

func cmdLink(ctx context.Context, args []string, out, errw io.Writer) error {
	fs := flags("link", errw)
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	rtFile := fs.String("refresh-token-file", "", "import a refresh token obtained by a companion app instead of linking here")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if err := cfg.CheckPlaceholders(); err != nil {
		return err
	}
	logs, err := newLogs(cfg, errw)
	if err != nil {
		return err
	}
	lc, err := lwa.FromConfig(cfg, logs.For("lwa"))
	if err != nil {
		return err
	}
	if *rtFile != "" {
		rt, err := lwa.ReadRefreshTokenFile(*rtFile)
		if err != nil {
			return err
		}
		return lwa.ImportRefreshToken(ctx, lc, rt, out)
	}
	return lwa.Link(ctx, lc, out)
}

// linkStatus reads the stored link state without a running hub.
func linkStatus(cfg *config.Config, log *slog.Logger) (lwa.Status, error) {
	lc, err := lwa.FromConfig(cfg, log)
	if err != nil {
		return lwa.Status{}, err
	}
	return lwa.LoadStatus(lc)
}
