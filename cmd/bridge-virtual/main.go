// Command bridge-virtual is the virtual bridge plugin: in-memory lights, a
// lock, thermostats and a temperature sensor. The hub launches it; run
// "bridge-virtual describe" to see its manifest, or "bridge-virtual --debug"
// to serve it for a debugger (the hub attaches through AVSHUB_REATTACH_BRIDGES).
//
// A bridge's main is this small: build the bridge, hand it to sdk.Serve.
// Nothing may be written to stdout before Serve (it carries the handshake).
package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/plugins/sdk"
)

func main() {
	b := virtual.New(sdk.Logger())
	// SIGUSR1 makes one simulated manual change (demos: kill -USR1 <pid>).
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			b.ManualChange()
		}
	}()
	sdk.Serve(b)
}
