package zigbee

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/avshub/avshub/internal/testbuild"
	"github.com/avshub/avshub/plugins/plugintest"
)

// pairedRig returns a simulator whose devices joined a network the rig's data
// directory knows (the bridge that paired them is stopped).
func pairedRig(t *testing.T) (*rig, json.RawMessage) {
	r := newRig(t, testDevices(t))
	r.pair(published...)
	r.stopBridge()
	return r, json.RawMessage(fmt.Sprintf(`{"port":%q,"responseTimeoutMs":2000}`, r.link))
}

// TestPluginConformance runs the SDK's conformance kit against the bridge in
// process, wired to the simulated stick with every device kind paired.
func TestPluginConformance(t *testing.T) {
	r, cfg := pairedRig(t)
	plugintest.Run(t, New(WithLogger(testLogger(t))), plugintest.Config{Config: cfg, DataDir: r.dir, CommandDeadline: 8 * time.Second})
}

// TestPluginBinaryConformance builds cmd/bridge-zigbee and runs the binary checks.
func TestPluginBinaryConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin binary")
	}
	r, cfg := pairedRig(t)
	bin := filepath.Join(t.TempDir(), "bridge-zigbee")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if err := testbuild.Build(t.Context(), root, bin, "./cmd/bridge-zigbee"); err != nil {
		t.Fatal(err)
	}
	plugintest.RunBinary(t, bin, plugintest.Config{Config: cfg, DataDir: r.dir, CommandDeadline: 8 * time.Second})
}
