// Command badplugin is the virtual bridge with one fault chosen by the BAD
// environment variable, to prove plugintest's binary checks can fail:
//
//	BAD=stdout   prints a line on stdout before the handshake
//	BAD=sigint   exits on SIGINT
//	BAD=slowkill keeps running for 3 s after it is told to stop
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
	}
	sdk.Serve(b)
}
