// Command z2m-sim emulates zigbee2mqtt on any MQTT broker: a realistic device
// set, /set and /get answered as zigbee2mqtt does, bridge/state and
// availability, and an admin HTTP API to change devices by hand.
//
//	z2m-sim --broker tcp://127.0.0.1:1883 --admin 127.0.0.1:8099 --base-topic zigbee2mqtt
//
// It prints one line "z2m-sim ready broker=… base=… admin=http://…" when the
// device set is published and the admin API listens, then runs until
// interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "z2m-sim:", err)
		os.Exit(1)
	}
}

func run() error {
	broker := flag.String("broker", "tcp://127.0.0.1:1883", "MQTT broker URL")
	admin := flag.String("admin", "127.0.0.1:0", "listen address of the admin HTTP API")
	base := flag.String("base-topic", "zigbee2mqtt", "zigbee2mqtt base topic")
	user := flag.String("username", "", "broker user name")
	legacy := flag.Bool("legacy-availability", false, "publish plain online/offline instead of JSON")
	flag.Parse()
	password := os.Getenv("Z2M_SIM_PASSWORD") // never on the command line

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	sim := z2msim.New(z2msim.Options{Broker: *broker, BaseTopic: *base, Username: *user, Password: password,
		LegacyAvailability: *legacy, Logger: log})
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := sim.Start(startCtx)
	cancel()
	if err != nil {
		return err
	}
	defer sim.Close()

	ln, err := net.Listen("tcp", *admin)
	if err != nil {
		return fmt.Errorf("admin listener: %w", err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("z2m-sim ready broker=%s base=%s admin=http://%s\n", *broker, *base, ln.Addr())

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("admin API: %w", err)
		}
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(shutCtx)
}
