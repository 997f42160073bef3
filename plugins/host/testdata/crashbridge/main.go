// Command crashbridge is a test plugin for plugins/host: the virtual bridge
// with two faults. With CRASH_ON_START=1 in its environment it exits before
// serving. A command for device "slow" creates the file "executing" in the
// data directory and then waits (up to 30 s) so the test can kill the process
// mid-command.
package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/plugins/sdk"
)

type bridge struct {
	*virtual.Bridge
	dataDir string
}

func (b *bridge) Configure(ctx context.Context, c sdk.Config) error {
	b.dataDir = c.DataDir
	return b.Bridge.Configure(ctx, c)
}

func (b *bridge) Execute(ctx context.Context, req discovery.Request) (discovery.Result, error) {
	if req.DeviceID == "slow" {
		_ = os.WriteFile(filepath.Join(b.dataDir, "executing"), nil, 0o600)
		select {
		case <-ctx.Done():
		case <-time.After(30 * time.Second):
		}
	}
	return b.Bridge.Execute(ctx, req)
}

func main() {
	if os.Getenv("CRASH_ON_START") == "1" {
		os.Exit(3)
	}
	sdk.Serve(&bridge{Bridge: virtual.New(sdk.Logger())})
}
