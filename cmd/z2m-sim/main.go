// Command z2m-sim emulates zigbee2mqtt on any MQTT broker: a realistic device
// set, /set and /get answered as zigbee2mqtt does, bridge/state and
// availability, and an admin HTTP API to change devices by hand.
//
//	z2m-sim --broker tcp://127.0.0.1:1883 --admin 127.0.0.1:8099 --base-topic zigbee2mqtt [--kinds]
//
// It prints one line "z2m-sim ready broker=… base=… admin=http://…" when the
// device set is published and the admin API listens, then runs until
// interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/cmd/internal/simcmd"
)

func main() { simcmd.Main("z2m-sim", run) }

func run(ctx context.Context) error {
	broker := flag.String("broker", "tcp://127.0.0.1:1883", "MQTT broker URL")
	admin := flag.String("admin", "127.0.0.1:0", "listen address of the admin HTTP API")
	base := flag.String("base-topic", "zigbee2mqtt", "zigbee2mqtt base topic")
	user := flag.String("username", "", "broker user name")
	legacy := flag.Bool("legacy-availability", false, "publish plain online/offline instead of JSON")
	kinds := flag.Bool("kinds", false, "also carry the newer kinds (blinds, door, leak, motion, smoke and CO sensors, a siren, a metering plug, a fan, a button) as the real zigbee2mqtt described them")
	flag.Parse()
	password := os.Getenv("Z2M_SIM_PASSWORD") // never on the command line

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	sim := z2msim.New(z2msim.Options{Broker: *broker, BaseTopic: *base, Username: *user, Password: password,
		LegacyAvailability: *legacy, Kinds: *kinds, Logger: log})
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := sim.Start(startCtx)
	cancel()
	if err != nil {
		return err
	}
	defer sim.Close()

	adm, err := simcmd.ServeAdmin(*admin, sim.Handler())
	if err != nil {
		return err
	}
	defer adm.Close()
	fmt.Printf("z2m-sim ready broker=%s base=%s admin=http://%s\n", *broker, *base, adm.Addr())
	select {
	case <-ctx.Done():
		return nil
	case err := <-adm.Failed():
		return err
	}
}
