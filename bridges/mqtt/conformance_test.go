package mqtt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt"
	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/plugins/plugintest"
)

// simConfig starts a broker with z2m-sim on it and returns the bridge config.
func simConfig(t *testing.T) json.RawMessage {
	t.Helper()
	b := mqtttest.MustStart(t, mqtttest.Options{})
	sim := z2msim.New(z2msim.Options{Broker: b.URL, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return json.RawMessage(fmt.Sprintf(`{"broker":%q,"commandTimeout":"2s"}`, b.URL))
}

// The bridge passes the plugin conformance kit, in process and as the built
// plugin binary, with z2m-sim's devices on the embedded broker.
func TestConformanceInProcess(t *testing.T) {
	plugintest.Run(t, mqtt.New(slog.New(slog.NewTextHandler(io.Discard, nil))), plugintest.Config{Config: simConfig(t)})
}

func TestConformanceBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bridge-mqtt")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/bridge-mqtt").CombinedOutput(); err != nil {
		t.Fatalf("build bridge-mqtt: %v\n%s", err, out)
	}
	plugintest.RunBinary(t, bin, plugintest.Config{Config: simConfig(t)})
}

// silentConfig is simConfig with every simulated device asleep: commands
// reach zigbee2mqtt, and the devices never answer.
func silentConfig(t *testing.T) json.RawMessage {
	t.Helper()
	b := mqtttest.MustStart(t, mqtttest.Options{})
	sim := z2msim.New(z2msim.Options{Broker: b.URL, SendTimeout: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	for _, d := range sim.Devices() {
		if err := sim.SetAsleep(d.FriendlyName, true); err != nil {
			t.Fatal(err)
		}
	}
	return json.RawMessage(fmt.Sprintf(`{"broker":%q,"commandTimeout":"1s","confirmTimeout":"2s"}`, b.URL))
}

// Devices that never answer: every command is answered before its deadline
// (Accepted) and fails, in process and as the plugin binary.
func TestConformanceSilentDevices(t *testing.T) {
	cfg := plugintest.Config{Config: silentConfig(t), SilentDevices: true, CommandDeadline: 2 * time.Second}
	t.Run("in-process", func(t *testing.T) {
		plugintest.Run(t, mqtt.New(slog.New(slog.NewTextHandler(io.Discard, nil))), cfg)
	})
	t.Run("binary", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "bridge-mqtt")
		if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/bridge-mqtt").CombinedOutput(); err != nil {
			t.Fatalf("build bridge-mqtt: %v\n%s", err, out)
		}
		plugintest.RunBinary(t, bin, cfg)
	})
}
