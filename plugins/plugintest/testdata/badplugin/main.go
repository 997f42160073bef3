// Command badplugin is the virtual bridge with one fault chosen by the BAD
// environment variable, to prove plugintest's binary checks can fail:
//
//	BAD=stdout   prints a line on stdout before the handshake
//	BAD=sigint   exits on SIGINT
//	BAD=slowkill keeps running for 3 s after it is told to stop
//	BAD=skipped  logs two skipped parts (not a fault: plugin check lists them)
//	BAD=range    reports brightness 150 in its snapshot
//	BAD=hang     never returns from Execute until its context ends, and then late
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/discovery/model"
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

type outOfRange struct{ *virtual.Bridge }

func (b outOfRange) Run(ctx context.Context, em sdk.Emitter) error {
	return b.Bridge.Run(ctx, brightness150{em})
}

type brightness150 struct{ sdk.Emitter }

func (e brightness150) Snapshot(devs []model.Device) {
	for i := range devs {
		if devs[i].State.Brightness != nil {
			devs[i].State.Brightness = model.Ptr(150)
		}
	}
	e.Emitter.Snapshot(devs)
}

type hanging struct{ *virtual.Bridge }

func (hanging) Execute(ctx context.Context, _ model.Request) (model.Result, error) {
	<-ctx.Done()
	time.Sleep(100 * time.Millisecond)
	return model.Result{}, ctx.Err()
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
	case "range":
		b = outOfRange{virtual.New(sdk.Logger())}
	case "hang":
		b = hanging{virtual.New(sdk.Logger())}
	}
	sdk.Serve(b)
}
