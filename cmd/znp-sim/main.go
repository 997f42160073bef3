// Command znp-sim emulates a Z-Stack 3.x Zigbee coordinator stick on a
// pseudo-terminal, with simulated devices, for avshub's Zigbee bridge.
//
//	znp-sim --link PATH [--devices FILE] [--trace FILE] [--admin 127.0.0.1:PORT]
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

	"github.com/avshub/avshub/bridges/zigbee/znpsim"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "znp-sim:", err)
		os.Exit(1)
	}
}

func run() error {
	link := flag.String("link", "", "path to link to the pseudo-terminal (required)")
	devices := flag.String("devices", "", "devices YAML file (default: the built-in set)")
	trace := flag.String("trace", "", "file to append one line per frame to")
	admin := flag.String("admin", "", "address for the admin HTTP API, e.g. 127.0.0.1:8099")
	flag.Parse()
	if *link == "" {
		return errors.New("--link is required")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	yml := znpsim.DefaultDevicesYAML()
	if *devices != "" {
		b, err := os.ReadFile(*devices)
		if err != nil {
			return err
		}
		yml = b
	}
	specs, err := znpsim.ParseDevices(yml)
	if err != nil {
		return err
	}
	opts := znpsim.Options{Devices: specs, Logger: log}
	if *trace != "" {
		f, err := os.OpenFile(*trace, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		opts.Trace = f
	}
	sim, err := znpsim.New(opts)
	if err != nil {
		return err
	}
	defer sim.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *admin != "" {
		ln, err := net.Listen("tcp", *admin)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		log.Info("znp-sim admin API", "addr", ln.Addr().String())
	}
	return sim.RunPTY(ctx, *link, func(p string) {
		fmt.Printf("znp-sim ready port=%s\n", p)
	})
}
