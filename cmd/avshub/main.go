// Command avshub is the hub daemon and its command-line interface.
//
//	avshub run --config FILE           run the hub
//	avshub link --config FILE          link to an Amazon account (code-based linking)
//	avshub status | endpoints          ask the running hub (local API socket)
//	avshub pair BRIDGE --for 60s       let new devices join a bridge, watching them join
//	avshub remove ENDPOINT             make a device leave its bridge and forget it
//	avshub plugin check PATH|NAME      run the conformance checks on a bridge binary or a bundled bridge
//	avshub plugin trust NAME           trust a bridge's rebuilt binary
//	avshub plugin new NAME             scaffold a bridge (Go or JavaScript)
//	avshub bridge zigbee|mqtt|virtual  serve a bundled bridge (the hub runs it)
//	avshub config check --config FILE  validate a configuration file
//	avshub skill doctor --config FILE  check the hub's side of the Smart Home skill road
//	avshub backup | restore            save or restore the data directory
//	avshub version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

type command struct {
	name, args, help string
	run              func(ctx context.Context, args []string, stdout, stderr io.Writer) error
	// about says what the command does, for its --help; example is one or more
	// command lines to copy.
	about, example string
}

var commands []command

func init() {
	commands = []command{
		{name: "run", args: "[--config FILE]", help: "run the hub", run: cmdRun,
			about:   "Runs the hub in the foreground: the Alexa connection, the bridges, the MQTT broker and the status page. SIGHUP reloads the configuration; SIGINT or SIGTERM stops it.",
			example: "avshub run --config /etc/avshub/avshub.yaml"},
		{name: "link", args: "[--config FILE] [--refresh-token-file F]", help: "link the hub to an Amazon account", run: cmdLink,
			about:   "Links the hub to an Amazon account with code-based linking: it prints a web address and a code to enter there, and waits until you have. With --refresh-token-file it imports a refresh token a companion app obtained instead.",
			example: "avshub link --config /etc/avshub/avshub.yaml"},
		{name: "status", args: "[--config FILE | --socket PATH] [--json]", help: "show the running hub's state", run: cmdStatus,
			about:   "Shows the running hub's state: the Alexa connection, the account link, each bridge and the MQTT broker. When the hub is not running it says so (exit status 1) and still shows whether it is linked.",
			example: "avshub status --config /etc/avshub/avshub.yaml\navshub status --socket /var/lib/avshub/avshub.sock --json"},
		{name: "endpoints", args: "[--config FILE | --socket PATH] [--json]", help: "list the running hub's endpoints", run: cmdEndpoints,
			about:   "Lists every endpoint the running hub knows, with its bridge, category, reachability and state.",
			example: "avshub endpoints --config /etc/avshub/avshub.yaml\navshub endpoints --json"},
		{name: "pair", args: "BRIDGE [--for 60s] [--no-wait] [--config FILE | --socket PATH]", help: "let new devices join a bridge", run: cmdPair,
			about:   "Opens the network of the bridge named BRIDGE (as in the configuration's bridges list, for example zigbee) so that new devices can join, for the given time (at most 10m). Put the device in pairing mode while it is open. It waits, printing the time left and each device as it happens: announced, each interview step, published with what it can do, or why it failed; --no-wait returns at once (for scripts).",
			example: "avshub pair zigbee --for 2m"},
		{name: "rename", args: "ENDPOINT NAME [--area AREA] [--config FILE | --socket PATH]", help: "give a device a name Alexa and the dashboards use", run: cmdRename,
			about:   "Renames the endpoint ENDPOINT (its id, or its current name) to NAME on the hub: the name is kept across restarts and re-pairing, Alexa gets it at once (one AddOrUpdateReport) and the dashboards in place. An empty NAME (\"\") goes back to the bridge's name. --area puts the device in a room (Home Assistant's suggested area).",
			example: "avshub rename \"IKEA bulb\" \"Kitchen lamp\" --area Kitchen"},
		{name: "remove", args: "ENDPOINT [--config FILE | --socket PATH]", help: "make a device leave its bridge and forget it", run: cmdRemove,
			about:   "Removes the device of the endpoint ENDPOINT (its id or name): a Zigbee device is asked to leave the network and forgotten, a zigbee2mqtt or Home Assistant device is forgotten until it is announced again. Alexa deletes it (a DeleteReport) and the dashboards lose it (an empty retained discovery config). To keep the device but not show it, use avshub hide.",
			example: "avshub remove \"Hall light\""},
		{name: "hide", args: "ENDPOINT [--from alexa|dashboards|alexa,dashboards] [--config FILE | --socket PATH]", help: "hide a device from Alexa or the dashboards", run: cmdHide(true),
			about:   "Hides the endpoint ENDPOINT (its id or name) from Alexa (it is deleted from the Alexa app, a DeleteReport) or from the dashboards (its MQTT discovery config is cleared), without removing the device from the hub. unhide shows it again.",
			example: "avshub hide \"Hall light\" --from alexa"},
		{name: "unhide", args: "ENDPOINT [--from alexa|dashboards|alexa,dashboards] [--config FILE | --socket PATH]", help: "show a hidden device again", run: cmdHide(false),
			about:   "Shows the endpoint ENDPOINT (its id or name) to Alexa or the dashboards again after avshub hide.",
			example: "avshub unhide \"Hall light\" --from alexa,dashboards"},
		{name: "plugin", args: "check PATH|BUNDLED [--config FILE] [--json] [--no-commands] | trust NAME [--config FILE] | new NAME [--lang go|js] [--dir DIR]", help: "check a bridge binary or a bundled bridge, trust a rebuilt one, or start a new one", run: cmdPlugin,
			about:   "plugin check starts the bridge binary at PATH (or the bridge BUNDLED in avshub: zigbee, mqtt, virtual) as the hub would and runs the conformance checks on it (it sends commands to the devices it reports unless --no-commands). --config is an avshub configuration naming the bridge, or the bridge's own configuration. plugin trust NAME records the checksum of the bridge binary now installed for the bridge NAME, so that the hub adopts a rebuilt binary. plugin new NAME writes a new bridge project (Go, or JavaScript with --lang js) that builds and passes the checks; see plugins/README.md.",
			example: "avshub plugin check zigbee --config /etc/avshub/avshub.yaml\navshub plugin check ./bridge-acme --json\navshub plugin trust zigbee --config /etc/avshub/avshub.yaml\navshub plugin new acme --lang js"},
		{name: "bridge", args: "zigbee|mqtt|virtual [describe | --debug]", help: "serve a bundled bridge (the hub runs this)", run: cmdBridge,
			about:   "Serves one of the bridges bundled in this executable as a plugin process. The hub starts it itself for every configured bridge without a path (go-plugin handshake on stdout, so run it by hand only with describe, which prints its manifest, or --debug, which serves it for a hub to attach to through AVSHUB_REATTACH_BRIDGES).",
			example: "avshub bridge zigbee describe"},
		{name: "config", args: "check [--config FILE]", help: "validate a configuration file", run: cmdConfig,
			about:   "config check reads a configuration file as the hub would and reports the first error with its line and key; it refuses placeholders such as CHANGE-ME left in the file.",
			example: "avshub config check --config /etc/avshub/avshub.yaml"},
		{name: "skill", args: "doctor [--config FILE]", help: "check the hub's side of the Smart Home skill road", run: cmdSkill,
			about:   "skill doctor checks what the hub needs for alexa.transport: skill (docs/alexa-skill.md): the HMAC secret, that skill.publicUrl reaches this hub through the tunnel or proxy with a valid certificate and the same secret, the event gateway tokens from AcceptGrant, and the hub's clock against Amazon's. Run it while the hub runs.",
			example: "avshub skill doctor --config /etc/avshub/avshub.yaml"},
		{name: "backup", args: "--out FILE.tar.gz [--config FILE]", help: "save the data directory and the configuration", run: cmdBackup,
			about:   "Writes the data directory (a consistent snapshot of the database, taken through the running hub when it runs) and the configuration file to a gzip'd tar archive. It works while the hub runs.",
			example: "avshub backup --config /etc/avshub/avshub.yaml --out avshub-$(date +%F).tar.gz"},
		{name: "restore", args: "--in FILE.tar.gz [--config FILE]", help: "restore the data directory (hub stopped)", run: cmdRestore,
			about:   "Replaces the data directory with the one in a backup archive, keeping the previous one beside it. Stop the hub first. The configuration in the archive is not written over yours: it is restored as avshub.yaml.from-backup in the data directory.",
			example: "systemctl stop avshub && avshub restore --config /etc/avshub/avshub.yaml --in avshub-2026-01-01.tar.gz"},
		{name: "version", help: "print the version", run: func(_ context.Context, args []string, out, errw io.Writer) error {
			fs := flags("version", errw)
			if err := parseNoArgs(fs, args); err != nil {
				return err
			}
			fmt.Fprintf(out, "avshub %s\n", version)
			return nil
		}, about: "Prints the hub's version.", example: "avshub version"},
	}
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses: 0 success (and --help), 1 the command failed, 2 it was used wrongly.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	if isHelp(args[0]) {
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				return showHelp(context.Background(), c, stdout, args[2:])
			}
		}
		usage(stdout)
		return exitOK
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "avshub: unknown command %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	ctx := context.Background()
	if c.name != "bridge" { // a bridge process takes signals as the bridge SDK and go-plugin expect
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	if wantsHelp(args[1:]) {
		return showHelp(ctx, c, stdout, args[1:])
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "usage: avshub %s %s\n", c.name, c.args)
		if msg := strings.TrimPrefix(err.Error(), errUsage.Error()); msg != "" {
			fmt.Fprintf(stderr, "%s\n", strings.TrimPrefix(msg, ": "))
		}
		fmt.Fprintf(stderr, "run `avshub %s --help` for more\n", c.name)
		return exitUsage
	case errors.Is(err, errFlags):
		// The flag package has printed the problem and the usage.
		return exitUsage
	default:
		fmt.Fprintf(stderr, "avshub %s: %v\n", c.name, err)
		return exitFailed
	}
}

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" || a == "help" }

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

var (
	errUsage = errors.New("usage")
	// errFlags is a flag parsing error already reported by the flag package.
	errFlags = errors.New("bad flags")
)

// usageError is errUsage with a reason.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "avshub: the home's Alexa Voice Service hub")
	fmt.Fprintln(w, "\nusage: avshub COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.help)
	}
	fmt.Fprintln(w, "\ncommon flags:")
	fmt.Fprintf(w, "  --config FILE   the configuration file (default %s)\n", defaultConfig)
	fmt.Fprintln(w, "  --socket PATH   the running hub's local API socket, instead of the one the configuration names")
	fmt.Fprintln(w, "  --json          machine-readable output (status, endpoints, plugin check)")
	fmt.Fprintln(w, "\nexit status: 0 done, 1 failed, 2 wrong usage")
	fmt.Fprintln(w, "run `avshub COMMAND --help` (or `avshub help COMMAND`) for a command's description and an example")
}

// commandHelp prints a command's description, flags (when fs is not nil) and example.
func commandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: avshub %s %s\n\n%s\n", c.name, c.args, c.about)
	if fs != nil {
		var n int
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nflags:")
			out := fs.Output()
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(out)
		}
	}
	if c.example != "" {
		fmt.Fprintln(w, "\nexample:")
		for _, l := range strings.Split(c.example, "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
}

// showHelp runs c with --help (after its sub-command word, if it has one:
// the one args name, else its first) so that the flag set of what was asked
// about prints the help on out.
func showHelp(ctx context.Context, c *command, out io.Writer, args []string) int {
	help := []string{"--help"}
	if subs := subCommands(c); len(subs) > 0 {
		sub := subs[0]
		if len(args) > 0 && slices.Contains(subs, args[0]) {
			sub = args[0]
		}
		help = []string{sub, "--help"}
	}
	if err := c.run(ctx, help, out, out); err != nil && !errors.Is(err, flag.ErrHelp) {
		commandHelp(out, c, nil)
	}
	return exitOK
}

// subCommands lists the sub-command words of c's usage ("check … | trust …
// | new …"): the lower-case words that start it or follow a "|".
func subCommands(c *command) []string {
	var subs []string
	f := strings.Fields(c.args)
	for i, w := range f {
		if (i == 0 || f[i-1] == "|") && w != "" && strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") == "" {
			subs = append(subs, w)
		}
	}
	return subs
}

// wantsHelp reports whether args ask for help (-h, --help, -help) before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

// flags returns a FlagSet for a subcommand writing errors to stderr; -h and
// --help print the command's help on stdout-like stderr and exit 0.
func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("avshub "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	top := strings.Fields(name)[0]
	fs.Usage = func() {
		if c := lookup(top); c != nil {
			commandHelp(fs.Output(), c, fs)
		}
	}
	return fs
}

// parse parses args, allowing flags after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %w", errFlags, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseNoArgs is parse for commands that take no positional arguments.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError("unexpected argument %q (this command takes flags only)", pos[0])
	}
	return nil
}
