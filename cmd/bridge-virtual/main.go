// Command bridge-virtual is the virtual bridge plugin: in-memory lights, a
// lock, thermostats and a temperature sensor. The hub launches it; run
// "bridge-virtual describe" to see its manifest, or "bridge-virtual --debug"
// to serve it for a debugger (the hub attaches through AVSHUB_REATTACH_BRIDGES).
// SIGUSR1 makes one simulated manual change (demos: kill -USR1 <pid>). The
// avshub executable bundles the same bridge (`avshub bridge virtual`).
//
// A bridge's own main is this small: build the bridge, hand it to sdk.Serve
// (see bridges/bundled.Virtual). Nothing may be written to stdout before Serve
// (it carries the handshake).
package main

import (
	"os"

	"github.com/avshub/avshub/bridges/bundled"
)

func main() { bundled.Virtual(os.Args[1:]) }
