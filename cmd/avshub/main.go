// Command avshub is the hub daemon and its command-line interface.
//
//	avshub run --config FILE           run the hub
//	avshub link --config FILE          link to an Amazon account (code-based linking)
//	avshub status | endpoints          ask the running hub (local API socket)
//	avshub pair BRIDGE --for 60s       let new devices join a bridge
//	avshub plugin check PATH           run the conformance checks on a bridge binary
//	avshub plugin trust NAME           trust a bridge's rebuilt binary
//	avshub config check --config FILE  validate a configuration file
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
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

type command struct {
	name, args, help string
	run              func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"run", "--config FILE", "run the hub", cmdRun},
		{"link", "--config FILE [--refresh-token-file F]", "link the hub to an Amazon account", cmdLink},
		{"status", "[--config FILE] [--json]", "show the running hub's state", cmdStatus},
		{"endpoints", "[--config FILE] [--json]", "list the running hub's endpoints", cmdEndpoints},
		{"pair", "BRIDGE [--for 60s] [--config FILE]", "let new devices join a bridge", cmdPair},
		{"plugin", "check PATH [--config FILE] [--json] [--no-commands] | trust NAME [--config FILE]",
			"check a bridge binary, or trust a rebuilt one", cmdPlugin},
		{"config", "check --config FILE", "validate a configuration file", cmdConfig},
		{"backup", "--config FILE --out FILE.tar.gz", "save the data directory", cmdBackup},
		{"restore", "--config FILE --in FILE.tar.gz", "restore the data directory (hub stopped)", cmdRestore},
		{"version", "", "print the version", func(_ context.Context, _ []string, out, _ io.Writer) error {
			fmt.Fprintf(out, "avshub %s\n", version)
			return nil
		}},
	}
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "usage: avshub %s %s\n", c.name, c.args)
			return 2
		default:
			fmt.Fprintf(stderr, "avshub %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "avshub: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "avshub: the home's Alexa Voice Service hub")
	fmt.Fprintln(w, "\nusage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  avshub %-9s %-45s %s\n", c.name, c.args, c.help)
	}
}

// flags returns a FlagSet for a subcommand writing errors to stderr.
func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("avshub "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, allowing flags after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
