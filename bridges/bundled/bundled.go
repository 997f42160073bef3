// Package bundled holds the entry points of the bridges that ship inside the
// avshub executable (`avshub bridge zigbee|mqtt|virtual`). cmd/bridge-* are
// thin mains over the same entry points, for tests and plugin authors.
package bundled

import (
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/avshub/avshub/bridges/mqtt"
	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/bridges/zigbee"
	"github.com/avshub/avshub/plugins/sdk"
)

// entries maps a bundled bridge's name to its entry point.
var entries = map[string]func(args []string){
	"zigbee":  Zigbee,
	"mqtt":    MQTT,
	"virtual": Virtual,
}

// constructors build each bundled bridge (without serving it).
var constructors = map[string]func() sdk.Bridge{
	"zigbee":  func() sdk.Bridge { return zigbee.New(zigbee.WithLogger(sdk.Logger())) },
	"mqtt":    func() sdk.Bridge { return mqtt.New(sdk.Logger()) },
	"virtual": func() sdk.Bridge { return virtual.New(sdk.Logger()) },
}

// Describe returns the manifest of the bundled bridge name, as
// `avshub bridge NAME describe` prints it (config check reads its schema).
func Describe(name string) (sdk.Description, error) {
	f, ok := constructors[name]
	if !ok {
		return sdk.Description{}, fmt.Errorf("no bundled bridge %q (bundled: %v)", name, Names())
	}
	return f().Describe(), nil
}

// Names returns the bundled bridges' names, sorted.
func Names() []string {
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Serve runs the bundled bridge name as a plugin with the command-line
// arguments args (see sdk.Serve: none, "describe" or "--debug"); it returns
// only when name is not a bundled bridge.
func Serve(name string, args []string) error {
	f, ok := entries[name]
	if !ok {
		return fmt.Errorf("no bundled bridge %q (bundled: %v)", name, Names())
	}
	f(args)
	return nil
}

// Zigbee serves the Zigbee bridge (a Z-Stack ZNP coordinator on a serial port).
func Zigbee(args []string) {
	sdk.Serve(constructors["zigbee"](), sdk.WithArgs(args))
}

// MQTT serves the MQTT bridge (zigbee2mqtt and Home Assistant MQTT discovery).
func MQTT(args []string) {
	sdk.Serve(constructors["mqtt"](), sdk.WithArgs(args))
}

// Virtual serves the virtual bridge (in-memory demo devices); SIGUSR1 makes
// one simulated manual change (demos: kill -USR1 <pid>).
func Virtual(args []string) {
	b := virtual.New(sdk.Logger())
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			b.ManualChange()
		}
	}()
	sdk.Serve(b, sdk.WithArgs(args))
}
