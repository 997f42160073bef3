package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/lwa"
	"github.com/avshub/avshub/gateway/web"
)

const defaultConfig = "/etc/avshub/avshub.yaml"

// socketFlags adds --config and --socket and returns a func giving the socket path.
func socketFlags(fs *flag.FlagSet) func() (string, error) {
	_, socket := socketFlagsPath(fs)
	return socket
}

// socketFlagsPath is socketFlags that also returns the --config value.
func socketFlagsPath(fs *flag.FlagSet) (*string, func() (string, error)) {
	cfgPath := fs.String("config", defaultConfig, "configuration file (for the socket path)")
	sock := fs.String("socket", "", "local API socket (overrides the config)")
	return cfgPath, func() (string, error) {
		if *sock != "" {
			return *sock, nil
		}
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return "", err
		}
		return cfg.Status.Socket, nil
	}
}

func cmdStatus(ctx context.Context, args []string, out, errw io.Writer) error {
	fs := flags("status", errw)
	cfgPath, socket := socketFlagsPath(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	path, err := socket()
	if err != nil {
		return err
	}
	st, err := web.NewClient(path).Status(ctx)
	if err != nil {
		// Not running: still say whether the hub is linked, from its data directory.
		if cfg, cerr := config.Load(*cfgPath); cerr == nil {
			if ls, lerr := linkStatus(cfg, slog.New(slog.DiscardHandler)); lerr == nil {
				fmt.Fprintln(out, "hub: not running")
				_ = lwa.WriteStatus(out, ls, time.Now())
			}
		}
		return err
	}
	if *asJSON {
		return printJSON(out, st)
	}
	printStatus(out, st)
	return nil
}

func printStatus(out io.Writer, st web.Status) {
	tw := tabwriter.NewWriter(newTermWriter(out), 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "avshub\t%s\tup since %s\n", st.Version, st.StartedAt.Format(time.RFC3339))
	how := "run `avshub link`"
	if st.Link.LinkPage != "" {
		how = "press Link with Amazon on " + st.Link.LinkPage + ", or run `avshub link`"
	}
	link := "Not linked to Amazon: " + how
	switch {
	case st.Link.NeedsRelink:
		link = "NEEDS RE-LINK: " + st.Link.Reason + " (" + how + ")"
	case st.Link.Linked:
		link = "linked"
		if !st.Link.Expiry.IsZero() {
			link += fmt.Sprintf(", access token expires %s", st.Link.Expiry.Format(time.RFC3339))
		}
	}
	fmt.Fprintf(tw, "account\t%s\n", link)
	fmt.Fprintf(tw, "alexa\t%s\tsince %s, gateway %s, %d queued\n", st.AVS.State, st.AVS.Since.Format(time.RFC3339), st.AVS.Gateway, st.AVS.Queued)
	for _, b := range st.Bridges {
		extra := ""
		if b.LastError != "" {
			extra = ", last error: " + b.LastError
		}
		fmt.Fprintf(tw, "bridge %s\t%s\t%s, %d endpoints, %d restarts%s\n", b.Name, b.State, b.Health, b.Endpoints, b.Restarts, extra)
	}
	mq := "off"
	if st.MQTT.Broker != "" {
		mq = config.RedactURL(st.MQTT.Broker) // a hub from before redaction sends it whole
		if st.MQTT.Embedded {
			mq += " (embedded)"
		}
		if st.MQTT.Anonymous {
			mq += "\n\tANONYMOUS: any local process may control devices and add endpoints; " + config.AnonymousBrokerFix
		}
	}
	fmt.Fprintf(tw, "mqtt\t%s\n", mq)
	fmt.Fprintf(tw, "endpoints\t%d\n", st.Endpoints)
	if len(st.LeftOut) > 0 {
		more := ""
		if st.LeftOutCount > len(st.LeftOut) {
			more = fmt.Sprintf(" and %d more", st.LeftOutCount-len(st.LeftOut))
		}
		fmt.Fprintf(tw, "left out\t%s%s\t(over Alexa's 300-endpoint limit)\n", strings.Join(st.LeftOut, ", "), more)
	}
	tw.Flush()
}

func cmdEndpoints(ctx context.Context, args []string, out, errw io.Writer) error {
	fs := flags("endpoints", errw)
	socket := socketFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	path, err := socket()
	if err != nil {
		return err
	}
	eps, err := web.NewClient(path).Endpoints(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(out, eps)
	}
	return printEndpoints(out, eps)
}

// printEndpoints lists eps by name as a table, escaped for the terminal.
func printEndpoints(out io.Writer, eps []web.Endpoint) error {
	sort.Slice(eps, func(i, j int) bool { return eps[i].Endpoint.FriendlyName < eps[j].Endpoint.FriendlyName })
	tw := tabwriter.NewWriter(newTermWriter(out), 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tBRIDGE\tCATEGORY\tREACHABLE\tSTATE\tSIGNAL\tLAST SEEN\tID")
	for _, e := range eps {
		// The state in words, as the page shows it ("open", "leak!", "1.2 kW");
		// the link as the bridge reports it ("72 %", "2 min ago").
		signal := e.SignalText()
		if signal == "" {
			signal = "—"
		}
		seen := "—"
		if t := e.LastSeen(); !t.IsZero() {
			seen = web.Ago(t)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\t%s\t%s\n", e.Endpoint.FriendlyName, e.Endpoint.Bridge, e.Endpoint.Category, e.Reachable,
			web.StateText(e.State), signal, seen, e.Endpoint.ID)
	}
	return tw.Flush()
}

func cmdPair(ctx context.Context, args []string, out, errw io.Writer) error {
	fs := flags("pair", errw)
	socket := socketFlags(fs)
	d := fs.Duration("for", 60*time.Second, "how long the network stays open")
	noWait := fs.Bool("no-wait", false, "return at once instead of waiting and printing each device as it joins")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("name one bridge to open, as in the configuration's bridges list (for example: avshub pair zigbee)")
	}
	path, err := socket()
	if err != nil {
		return err
	}
	c := web.NewClient(path)
	var events <-chan web.PairingEvent
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	if !*noWait {
		// Listen before opening: the first device may join at once.
		if events, err = c.PairingEvents(sctx, pos[0]); err != nil {
			return err
		}
	}
	if err := c.Pair(ctx, pos[0], *d); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s is open for pairing for %s: put your device in pairing mode now.\n", pos[0], *d)
	if *noWait {
		return nil
	}
	return watchPairing(ctx, events, pos[0], out)
}

// watchPairing prints pairing events of bridge as they arrive, each on a
// line, until the network closes or ctx ends.
func watchPairing(ctx context.Context, events <-chan web.PairingEvent, bridge string, out io.Writer) error {
	published, failed := 0, 0
	lastLeft := -1
	for {
		var ev web.PairingEvent
		select {
		case <-ctx.Done():
			fmt.Fprintf(out, "stopped watching (the network stays open until its time is up): %s joined.\n", plural(published, "device", "devices"))
			return nil
		case e, ok := <-events:
			if !ok {
				return fmt.Errorf("the hub closed the pairing event stream")
			}
			ev = e
		}
		if ev.Bridge != bridge {
			continue
		}
		at := ev.At.Local().Format("15:04:05")
		switch ev.Stage {
		case "open":
			if ev.Remaining != lastLeft {
				fmt.Fprintf(out, "%s %s is open for joining: %ds left\n", at, bridge, ev.Remaining)
				lastLeft = ev.Remaining
			}
			continue
		case "closed":
			fmt.Fprintf(out, "%s %s is closed again: %s joined", at, bridge, plural(published, "device", "devices"))
			if failed > 0 {
				fmt.Fprintf(out, ", %d failed", failed)
			}
			fmt.Fprintln(out, ".")
			return nil
		case "published":
			published++
		case "failed":
			failed++
		}
		if line := web.PairingLine(ev); line != "" {
			fmt.Fprintf(out, "%s %s\n", at, line)
		}
	}
}

func cmdRemove(ctx context.Context, args []string, out, errw io.Writer) error {
	fs := flags("remove", errw)
	socket := socketFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("give one endpoint (its id or name), in quotes when it has spaces")
	}
	path, err := socket()
	if err != nil {
		return err
	}
	id, name, err := web.NewClient(path).Remove(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%q (%s) is removed: its bridge forgot it, Alexa and the dashboards are told.\n", name, id)
	return nil
}

func cmdConfig(ctx context.Context, args []string, out, errw io.Writer) error {
	if len(args) == 0 {
		return usageError("say what to do: check")
	}
	if args[0] != "check" {
		return usageError("unknown sub-command %q: the only one is check", args[0])
	}
	fs := flags("config check", errw)
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	if err := parseNoArgs(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if err := cfg.CheckPlaceholders(); err != nil {
		return err
	}
	if err := checkBridges(ctx, cfg); err != nil {
		return err
	}
	enabled := 0
	for _, b := range cfg.Bridges {
		if !b.Disabled {
			enabled++
		}
	}
	mq := config.RedactURL(cfg.BrokerURL())
	if cfg.EmbeddedBrokerEnabled() {
		mq += " (embedded)"
	}
	fmt.Fprintf(out, "%s: ok (profile %s, %s enabled, data in %s, mqtt %s)\n", cfg.Path, cfg.Hub.Profile, plural(enabled, "bridge", "bridges"), cfg.Hub.DataDir, mq)
	return nil
}

func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// plural says "1 bridge", "2 bridges", "0 bridges".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
