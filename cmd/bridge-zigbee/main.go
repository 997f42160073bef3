// Command bridge-zigbee is avshub's Zigbee bridge plugin: a TI Z-Stack 3.x
// coordinator stick on a serial port, served over the bridge.v1 plugin protocol.
package main

import (
	"github.com/avshub/avshub/bridges/zigbee"
	"github.com/avshub/avshub/plugins/sdk"
)

func main() {
	sdk.Serve(zigbee.New(zigbee.WithLogger(sdk.Logger())))
}
