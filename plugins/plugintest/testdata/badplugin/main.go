// Command badplugin is the virtual bridge with one fault chosen by the BAD
// environment variable, to prove plugintest's binary checks can fail:
//
//	BAD=stdout   prints a line on stdout before the handshake
//	BAD=sigint   exits on SIGINT
//	BAD=slowkill keeps running for 3 s after it is told to stop
//	BAD=skipped  logs two skipped parts (not a fault: plugin check lists them)
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/plugins/sdk"
)

type slowStop struct{ *virtual.Bridge }

func (b slowStop) Run(ctx context.Context, em sdk.Emitter) error {
	err := b.Bridge.Run(ctx, em)
	time.Sleep(3 * time.Second) // the fault under test: ignores the stop
	return err
}

type skipping struct{ *virtual.Bridge }

func (b skipping) Run(ctx context.Context, em sdk.Emitter) error {
	log := sdk.Logger()
	log.Info("skipped", "item", "0x00158d0001a2b3c4", "part", "linkquality", "reason", "diagnostic value, not a device feature")
	log.Info("skipped", "item", "0x00158d0001a2b3c4", "part", "linkquality", "reason", "diagnostic value, not a device feature")
	log.Info("skipped", "item", "garage-sensor", "reason", "no expose avshub can map")
	return b.Bridge.Run(ctx, em)
}

func main() {
	var b sdk.Bridge = virtual.New(sdk.Logger())
	switch os.Getenv("BAD") {
	case "stdout":
		fmt.Println("starting up...")
	case "sigint":
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt)
		go func() { <-ch; os.Exit(1) }()
	case "slowkill":
		b = slowStop{virtual.New(sdk.Logger())}
	case "skipped":
		b = skipping{virtual.New(sdk.Logger())}
	}
	sdk.Serve(b)
}
