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
	"os"

	"github.com/avshub/avshub/bridges/zigbee/znpsim"
	"github.com/avshub/avshub/cmd/internal/simcmd"
)

func main() { simcmd.Main("znp-sim", run) }

func run(ctx context.Context) error {
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
		f, err := simcmd.AppendFile(*trace)
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
	if *admin != "" {
		adm, err := simcmd.ServeAdmin(*admin, sim.Handler())
		if err != nil {
			return err
		}
		defer adm.Close()
		log.Info("znp-sim admin API", "addr", adm.Addr())
	}
	return sim.RunPTY(ctx, *link, func(p string) {
		fmt.Printf("znp-sim ready port=%s\n", p)
	})
}
