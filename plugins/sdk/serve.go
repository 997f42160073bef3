package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// stderr is the process's real stderr, captured before plugin.Serve redirects
// os.Stderr: the host parses hclog JSON lines from it.
var stderr io.Writer = os.Stderr

// Logger returns a slog.Logger that writes hclog JSON lines to the plugin's
// stderr, which the host re-logs under the bridge's name. Use it for all of a
// bridge's logging; never write to stdout.
func Logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				a.Key = "@timestamp"
				a.Value = slog.StringValue(a.Value.Time().Format("2006-01-02T15:04:05.000000Z07:00"))
			case slog.LevelKey:
				a.Key = "@level"
				a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
			case slog.MessageKey:
				a.Key = "@message"
			}
			if d, ok := a.Value.Any().(time.Duration); ok && a.Value.Kind() == slog.KindDuration {
				a.Value = slog.StringValue(d.String()) // "1s", not 1000000000
			}
			return a
		},
	}))
}

// Option tunes Serve.
type Option func(*serveOptions)

type serveOptions struct {
	args          []string
	watchInterval time.Duration
	stdout        io.Writer
}

// WithArgs replaces os.Args[1:] (tests).
func WithArgs(args []string) Option { return func(o *serveOptions) { o.args = args } }

// WithParentPoll sets how often Serve checks that the hub is alive (default 500 ms).
func WithParentPoll(d time.Duration) Option { return func(o *serveOptions) { o.watchInterval = d } }

// Serve runs b as a bridge plugin and does not return. It is all a bridge's main
// needs, and must be the first thing main does (nothing may reach stdout before
// the handshake; do slow initialisation in Run, after Configure).
//
// Command line:
//
//	bridge-foo            serve (the hub launches it this way)
//	bridge-foo describe   print the manifest as JSON and exit
//	bridge-foo --debug    serve for a debugger: print an AVSHUB_REATTACH_BRIDGES
//	                      line for the hub, serve until interrupted
//
// While serving, a watchdog polls the parent process: when the hub dies (even by
// SIGKILL) the bridge stops its Run and exits, so no plugin outlives its hub.
func Serve(b Bridge, opts ...Option) {
	o := serveOptions{args: os.Args[1:], watchInterval: 500 * time.Millisecond, stdout: os.Stdout}
	for _, f := range opts {
		f(&o)
	}
	os.Exit(serve(b, o))
}

func serve(b Bridge, o serveOptions) int {
	log := Logger()
	mode := ""
	if len(o.args) > 0 {
		mode = o.args[0]
	}
	switch mode {
	case "describe", "-describe", "--describe":
		enc := json.NewEncoder(o.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(b.Describe()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case "-debug", "--debug":
		return serveDebug(b, o, log)
	case "":
	default:
		fmt.Fprintf(os.Stderr, "usage: %s [describe | --debug]\n", os.Args[0])
		return 2
	}

	// The host owns the plugin's lifecycle: a Ctrl-C on the hub's terminal
	// reaches the whole process group, and so does a SIGTERM to the group
	// (systemd's KillMode=control-group, `kill -TERM -PGID`), and the hub must
	// be able to stop its plugins in order: an exit of our own would race the
	// hub's orderly stop and be logged as a crash. go-plugin ignores SIGINT
	// only once its handshake is out, so catch both from the start; the
	// watchdog below still ends the bridge when the hub is gone.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for sig := range sigs {
			if sig == syscall.SIGTERM {
				log.Info("SIGTERM: the hub stops this bridge (or the bridge stops when the hub is gone)")
			}
		}
	}()
	OneProc()
	c := newCore(b, log)
	exit := make(chan int, 3)
	// A Run that fails ends the process; the host restarts it.
	p := &GRPCPlugin{Impl: b, core: c, onExit: func(error) { exit <- 1 }}
	go watchParent(o.watchInterval, func() {
		log.Info("hub process is gone; stopping")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = c.stop(ctx)
		exit <- 0
	})
	go func() {
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  Handshake,
			VersionedPlugins: PluginSets(p),
			GRPCServer:       GRPCServer,
			Logger:           hclogger(b.Describe().Name),
		})
		// plugin.Serve returns when the host closes the connection.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = c.stop(ctx)
		exit <- 0
	}()
	return <-exit
}

func hclogger(name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Debug, Output: stderr, JSONFormat: true})
}

// watchParent calls gone once the parent process changes (it died and the
// process was re-parented), checking every interval.
func watchParent(interval time.Duration, gone func()) {
	ppid := os.Getppid()
	t := time.NewTicker(interval)
	defer t.Stop()
	for range t.C {
		if os.Getppid() != ppid {
			gone()
			return
		}
	}
}

// serveDebug serves in go-plugin's reattach mode: the process is started by a
// person (under a debugger) and the hub attaches to it.
func serveDebug(b Bridge, o serveOptions, log *slog.Logger) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := newCore(b, log)
	p := &GRPCPlugin{Impl: b, core: c}
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(p),
		GRPCServer:       GRPCServer,
		Logger:           hclogger(b.Describe().Name),
		Test:             &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed},
	})
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-closed:
		fmt.Fprintln(os.Stderr, "plugin server ended before it was ready")
		return 1
	}
	line, _ := json.Marshal(map[string]ReattachConfig{b.Describe().Name: {
		Protocol: string(rc.Protocol), ProtocolVersion: rc.ProtocolVersion,
		Network: rc.Addr.Network(), Addr: rc.Addr.String(), Pid: rc.Pid,
	}})
	fmt.Fprintf(o.stdout, "Bridge %s is serving in debug mode until interrupted (Ctrl-C). Start the hub with:\n\n\t%s='%s'\n\n", b.Describe().Name, ReattachEnv, line)
	select {
	case <-closed:
	case <-ctx.Done():
		// Interrupted: stop the bridge's Run first (an attached hub's open event
		// stream would otherwise hold go-plugin's graceful stop for ever).
		log.Info("interrupted; stopping")
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.stop(sctx)
	select {
	case <-closed:
	case <-sctx.Done():
		log.Warn("the hub still holds a connection; exiting anyway")
	}
	return 0
}
