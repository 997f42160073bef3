// Command bridge-mqtt is avshub's MQTT bridge plugin: zigbee2mqtt devices and
// Home Assistant MQTT discovery entities (ESPHome, Tasmota, …) on one broker.
// The hub launches it; "bridge-mqtt describe" prints its manifest. The avshub
// executable bundles the same bridge (`avshub bridge mqtt`); this separate
// binary is for tests and plugin authors.
package main

import (
	"os"

	"github.com/avshub/avshub/bridges/bundled"
)

func main() { bundled.MQTT(os.Args[1:]) }
