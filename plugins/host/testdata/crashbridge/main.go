// Command crashbridge is a test plugin for plugins/host: the virtual bridge
// with two faults. With CRASH_ON_START=1 in its environment it exits before
// serving. A command for device "slow" creates the file "executing" in the
// data directory and then waits (up to 30 s) so the test can kill the process
// mid-command. With IMPLAUSIBLE=1 its snapshot gives every dimmable light
// brightness 150 and every thermostat a 327.67 °C reading and target (a Zigbee
// sensor's 0x7FFF), and every command's answer claims brightness 150. With
// PAIR_AND_REMOVE=1 it declares pairing with progress and removing (API 1.1):
// StartPairing reports a window and a device "joiner" joining step by step,
// and RemoveDevice forgets a device; without it, it declares neither, as a
// bridge built with the 1.0 SDK would.
package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

type bridge struct {
	*virtual.Bridge
	dataDir string
	em      sdk.Emitter
}

func (b *bridge) Configure(ctx context.Context, c sdk.Config) error {
	b.dataDir = c.DataDir
	return b.Bridge.Configure(ctx, c)
}

func (b *bridge) Describe() sdk.Description {
	d := b.Bridge.Describe()
	if os.Getenv("PAIR_AND_REMOVE") == "1" {
		d.Pairing, d.PairingProgress, d.Remove = true, true, true
	}
	return d
}

// StartPairing reports a window and one device joining during it.
func (b *bridge) StartPairing(_ context.Context, d time.Duration) error {
	j := sdk.Light("joiner", "Joiner", sdk.DimmableLight)
	b.em.Pairing(model.Pairing{Stage: model.PairingOpen, Remaining: d})
	b.em.Pairing(model.Pairing{Stage: model.PairingAnnounced, DeviceID: "joiner", Remaining: d})
	b.em.Pairing(model.Pairing{Stage: model.PairingInterviewing, DeviceID: "joiner", Detail: "reading\x1b[31m the Basic cluster", Remaining: d})
	b.em.Upsert(j)
	b.em.Pairing(model.Pairing{Stage: model.PairingPublished, DeviceID: "joiner", Endpoint: &j.Endpoint, Remaining: d})
	return nil
}

// RemoveDevice forgets a device (the SDK sends the Remove event).
func (b *bridge) RemoveDevice(context.Context, string) error { return nil }

func (b *bridge) Execute(ctx context.Context, req model.Request) (model.Result, error) {
	if req.DeviceID == "slow" {
		_ = os.WriteFile(filepath.Join(b.dataDir, "executing"), nil, 0o600)
		select {
		case <-ctx.Done():
		case <-time.After(30 * time.Second):
		}
	}
	res, err := b.Bridge.Execute(ctx, req)
	if os.Getenv("IMPLAUSIBLE") == "1" && req.Command.Trait == model.TraitBrightness {
		res.State.Brightness = model.Ptr(150)
	}
	return res, err
}

// implausible is an Emitter that corrupts snapshots as IMPLAUSIBLE=1 says.
type implausible struct{ sdk.Emitter }

func (e implausible) Snapshot(devs []model.Device) {
	for i := range devs {
		corrupt(&devs[i].State)
	}
	e.Emitter.Snapshot(devs)
}

func corrupt(s *model.State) {
	if s.Brightness != nil {
		s.Brightness = model.Ptr(150)
	}
	if s.Thermostat != nil {
		s.Temperature = model.Ptr(327.67)
		s.Thermostat.Target = model.Ptr(327.67)
	}
}

func (b *bridge) Run(ctx context.Context, em sdk.Emitter) error {
	if os.Getenv("IMPLAUSIBLE") == "1" {
		em = implausible{em}
	}
	b.em = em
	return b.Bridge.Run(ctx, em)
}

func main() {
	if os.Getenv("CRASH_ON_START") == "1" {
		os.Exit(3)
	}
	sdk.Serve(&bridge{Bridge: virtual.New(sdk.Logger())})
}
