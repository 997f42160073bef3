package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
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
		if err := lwa.ImportRefreshToken(ctx, lc, rt, out); err != nil {
			return err
		}
		offerBrokerUser(cfg, out)
		return nil
	}
	if err := lwa.Link(ctx, lc, out); err != nil {
		return err
	}
	offerBrokerUser(cfg, out)
	return nil
}

// offerBrokerUser, when the embedded broker takes anonymous clients, says so
// and prints a dashboard user with a fresh password to paste into the
// configuration (nothing is asked: it is safe without a terminal).
func offerBrokerUser(cfg *config.Config, out io.Writer) {
	if !cfg.EmbeddedBrokerEnabled() || len(cfg.MQTT.Embedded.Users) > 0 {
		return
	}
	var p [12]byte
	_, _ = rand.Read(p[:])
	fmt.Fprintf(out, "\nThe embedded MQTT broker accepts anonymous clients: any local process may control devices and\n"+
		"add endpoints. To close it, add a user for your dashboards to %s (then restart avshub):\n\n"+
		"mqtt:\n  embedded:\n    users:\n      - {username: dashboard, password: %s, read: [\"avshub/#\", \"homeassistant/#\"], write: [\"avshub/+/set\", \"homeassistant/status\"]}\n",
		cfg.Path, hex.EncodeToString(p[:]))
}

// linkStatus reads the stored link state without a running hub.
func linkStatus(cfg *config.Config, log *slog.Logger) (lwa.Status, error) {
	lc, err := lwa.FromConfig(cfg, log)
	if err != nil {
		return lwa.Status{}, err
	}
	return lwa.LoadStatus(lc)
}
