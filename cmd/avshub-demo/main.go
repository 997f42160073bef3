// Command avshub-demo runs the whole avshub chain on simulators and plays a
// scripted conversation through the AVS emulator, printing a readable
// transcript. `make demo` runs it; -keep leaves everything running.
//
// It starts avs-sim (AVS and Login with Amazon), links the hub by code-based
// linking, starts the hub with its embedded MQTT broker and three bridges
// (virtual; zigbee on znp-sim behind a pseudo-terminal; mqtt on z2m-sim), then
// talks to them only through their public interfaces: the emulator's admin API
// (what Alexa would say), the simulators' admin APIs (a hand on a switch), the
// hub's local API and MQTT (a dashboard).
//
// With -transport skill the same conversation takes the Smart Home skill road
// instead: skill-sim plays Alexa, Login with Amazon and the event gateway,
// runs the real Lambda forwarder (skill-lambda) under its emulated Lambda
// Runtime API, links the hub with Alexa.Authorization.AcceptGrant and
// discovers with Alexa.Discovery.Discover; nothing talks to AVS.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "bin", "directory with the built binaries")
	out := flag.String("out", ".demo", "directory for the transcript, records and logs (emptied first)")
	keep := flag.Bool("keep", false, "leave everything running after the scenario and print where to look")
	profile := flag.String("profile", "", "Alexa profile of the hub: avs or smarthome (default avs; always smarthome with -transport skill)")
	transport := flag.String("transport", "avs", "the road to Alexa: avs (an AVS device) or skill (the backend of a Smart Home skill)")
	timeout := flag.Duration("timeout", 4*time.Minute, "give up after this long")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch {
	case *transport != "avs" && *transport != "skill":
		fmt.Fprintf(os.Stderr, "-transport must be avs or skill\n")
		os.Exit(2)
	case *transport == "skill" && *profile == "avs":
		fmt.Fprintf(os.Stderr, "a Smart Home skill speaks the native interfaces: -transport skill needs -profile smarthome\n")
		os.Exit(2)
	case *transport == "skill":
		*profile = "smarthome"
	case *profile == "":
		*profile = "avs"
	}
	if err := run(ctx, *bin, *out, *profile, *transport, *keep, *timeout); err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo FAILED: %v\n(see %s for the transcript and every process's log)\n", err, *out)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin, out, profile, transport string, keep bool, timeout time.Duration) error {
	bin, _ = filepath.Abs(bin)
	out, _ = filepath.Abs(out)
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	tf, err := os.Create(filepath.Join(out, "transcript.txt"))
	if err != nil {
		return err
	}
	defer tf.Close()
	d := &demo{bin: bin, out: out, profile: profile, transport: transport, w: io.MultiWriter(os.Stdout, tf)}
	defer d.stopAll()
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := d.scenario(sctx); err != nil {
		return err
	}
	if keep {
		d.whereToLook()
		<-ctx.Done()
	}
	return nil
}
