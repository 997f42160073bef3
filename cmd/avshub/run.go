package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/hub"
	"github.com/avshub/avshub/gateway/logging"
	"github.com/avshub/avshub/gateway/lwa"
	"github.com/avshub/avshub/gateway/memlimit"
	"github.com/avshub/avshub/plugins/host"
	"github.com/avshub/avshub/plugins/sdk"
)

func cmdRun(ctx context.Context, args []string, _, errw io.Writer) error {
	fs := flags("run", errw)
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	dev := fs.Bool("dev", false, "adopt rebuilt bridge binaries instead of refusing them (for developing a bridge; SIGHUP restarts a rebuilt one)")
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
	sdk.OneProc() // the hub's directive path, like a bridge's, is a chain of short hand-offs
	// The log lines leave in batches (logging.BatchWriter): a write per
	// directive would wake the runtime's monitor thread per directive.
	bw := logging.NewBatchWriter(errw)
	defer bw.Close()
	logs, err := newLogs(cfg, bw)
	if err != nil {
		return err
	}
	// The process's soft memory limit, for as long as the hub runs.
	mctx, stopLimit := context.WithCancel(ctx)
	var limiting sync.WaitGroup
	limiting.Go(func() {
		memlimit.Run(mctx, cmp.Or(cfg.Hub.MemoryLimit, memlimit.DefaultFloor), logs.For("memory"))
	})
	defer limiting.Wait()
	defer stopLimit()
	// Plugins are children: make sure none outlives the hub, whatever happens.
	defer host.CleanupClients()
	h, err := hub.New(cfg, hub.Options{Version: version, Logs: logs, Dev: *dev})
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			next, err := config.Load(*cfgPath)
			if err != nil {
				logs.Root().Error("reload refused: the configuration has an error; still running the previous one", "err", err)
				continue
			}
			if err := h.Reload(next); err != nil {
				logs.Root().Error("reload failed", "err", err)
			}
		}
	}()
	return h.Run(ctx)
}

// newLogs builds the loggers the configuration asks for, with every token and
// code redacted.
func newLogs(cfg *config.Config, w io.Writer) (*logging.Factory, error) {
	lvl, err := config.ParseLevel(cfg.Log.Level)
	if err != nil {
		return nil, err
	}
	opts := logging.Options{JSON: cfg.Log.Format == "json", Level: lvl, Redact: func(h slog.Handler) slog.Handler { return lwa.NewRedactingHandler(h) }}
	if len(cfg.Log.Levels) > 0 {
		opts.Levels = map[string]slog.Level{}
		for k, v := range cfg.Log.Levels {
			l, err := config.ParseLevel(v)
			if err != nil {
				return nil, fmt.Errorf("log.levels.%s: %w", k, err)
			}
			opts.Levels[k] = l
		}
	}
	return logging.New(w, opts), nil
}
