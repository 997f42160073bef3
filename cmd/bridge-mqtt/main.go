// Command bridge-mqtt is avshub's MQTT bridge plugin: zigbee2mqtt devices and
// Home Assistant MQTT discovery entities (ESPHome, Tasmota, …) on one broker.
// The hub launches it; "bridge-mqtt describe" prints its manifest.
package main

import (
	"github.com/avshub/avshub/bridges/mqtt"
	"github.com/avshub/avshub/plugins/sdk"
)

func main() {
	sdk.Serve(mqtt.New(sdk.Logger()))
}
