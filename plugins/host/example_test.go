package host_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/host"
	"github.com/avshub/avshub/plugins/sdk"
)

// How the hub runs its bridges: one Supervisor each, in an errgroup, with
// --debug bridges attached through AVSHUB_REATTACH_BRIDGES.
func Example() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	defer host.CleanupClients() // last resort behind the orderly shutdown

	var sink model.Sink // the hub's router
	rc, err := host.ReattachFromEnv(os.Getenv(sdk.ReattachEnv), "virtual")
	if err != nil {
		slog.Error("bad reattach variable", "err", err)
	}
	sup, err := host.New(host.Config{
		Name:     "virtual",
		Path:     "bin/bridge-virtual",
		Config:   json.RawMessage(`{"manualEvery":"30s"}`),
		DataDir:  "/var/lib/avshub/bridges/virtual",
		Sink:     sink,
		Reattach: rc,
	})
	if err != nil {
		return
	}
	var _ model.Bridge = sup // the router executes commands through it
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return sup.Run(ctx) })
	_ = g.Wait() // after ctx ends: commands drained, plugin stopped
}
