// Command bridge-zigbee is avshub's Zigbee bridge plugin: a TI Z-Stack 3.x
// coordinator stick on a serial port, served over the bridge.v1 plugin
// protocol. The avshub executable bundles the same bridge (`avshub bridge
// zigbee`); this separate binary is for tests and plugin authors.
package main

import (
	"os"

	"github.com/avshub/avshub/bridges/bundled"
)

func main() { bundled.Zigbee(os.Args[1:]) }
