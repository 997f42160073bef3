package hub

import (
	"fmt"
	"os"
	"sync"

	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/internal/hoptrace"
	"github.com/avshub/avshub/plugins/host"
)

// bundledRuntime is the Go runtime's memory setting for one bundled bridge
// process: GOGC and GOMEMLIMIT in the plugin's (otherwise empty) environment.
// docs/memory.md says why these values.
type bundledRuntime struct{ gogc, memLimit string }

var bundledRuntimes = map[string]bundledRuntime{
	// Idle device bridges hold a few MB of live heap: a GC cycle at half that
	// again keeps the heap small, and the soft limit collects harder near it.
	"zigbee":  {gogc: "50", memLimit: "24MiB"},
	"virtual": {gogc: "50", memLimit: "24MiB"},
	// The MQTT bridge imports zigbee2mqtt's whole device list (18 MB of JSON
	// for a big home) in one message: room for that burst, collected at once.
	"mqtt": {gogc: "50", memLimit: "48MiB"},
}

// bundledEnv is the environment of a bundled bridge process.
func bundledEnv(name string) []string {
	rt, ok := bundledRuntimes[name]
	if !ok {
		return nil
	}
	env := []string{"GOGC=" + rt.gogc, "GOMEMLIMIT=" + rt.memLimit}
	if d := os.Getenv(hoptrace.Env); d != "" { // the benchmarks' per-hop trace
		env = append(env, hoptrace.Env+"="+d)
	}
	return env
}

// self is the executable bundled bridges run as (`SELF bridge NAME`) and the
// checksum every launch must match: the hub's own.
type self struct {
	once      sync.Once
	path, sum string
	err       error
}

// resolve returns the executable's path and sha256, computed once per hub:
// the file at opts.Self, or the running hub's own image (/proc/self/exe,
// which is still the started one when a package upgrade replaced the file).
func (s *self) resolve(opts Options) (path, sum string, err error) {
	s.once.Do(func() {
		if opts.Self != "" {
			s.path = opts.Self
			s.sum, s.err = host.FileSHA256(opts.Self)
			return
		}
		if s.path, s.err = os.Executable(); s.err != nil {
			return
		}
		image := "/proc/self/exe"
		if _, err := os.Stat(image); err != nil {
			image = s.path
		}
		s.sum, s.err = host.FileSHA256(image)
	})
	if s.err != nil {
		return "", "", fmt.Errorf("the hub's own executable, for its bundled bridges: %w", s.err)
	}
	return s.path, s.sum, nil
}

// bundledLaunch fills hc for the bundled bridge c runs: the hub's executable
// with `bridge NAME`, checked against the hub's own checksum (in dev mode:
// pinned at the first start like any bridge, so that rebuilds are adopted).
func (b *bridgeSet) bundledLaunch(hc *host.Config, c config.Bridge) error {
	name := c.BundledName()
	path, sum, err := b.self.resolve(b.h.opts)
	if err != nil {
		return err
	}
	hc.Path, hc.Args = path, []string{"bridge", name}
	if !hc.Dev {
		hc.SHA256, hc.PinFile, hc.Bundled = sum, "", true
	}
	hc.Env = bundledEnv(name)
	return nil
}
