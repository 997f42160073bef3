package mqtt

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

type fixtureMsg struct {
	Topic   string          `json:"topic"`
	Payload json.RawMessage `json:"payload"`
}

// payload returns a fixture payload: a JSON string is sent as its text, anything
// else as JSON.
func (m fixtureMsg) payload() []byte {
	var s string
	if json.Unmarshal(m.Payload, &s) == nil {
		return []byte(s)
	}
	return m.Payload
}

func loadFixture(t testing.TB, path string) []fixtureMsg {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []fixtureMsg
	if err := json.Unmarshal(b, &msgs); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return msgs
}

type goldenOut struct {
	Endpoints []model.Device `json:"endpoints"`
	Skipped   []Skip         `json:"skipped"`
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func checkGolden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test -update rewrites it):\n%s", path, got)
	}
}

func unitsOut(us []*unit) []model.Device {
	out := make([]model.Device, 0, len(us))
	for _, u := range us {
		out = append(out, u.dev)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Endpoint.DeviceID < out[j].Endpoint.DeviceID })
	return out
}

func sortSkips(s []Skip) []Skip {
	sort.Slice(s, func(i, j int) bool { return s[i].ID+s[i].Reason < s[j].ID+s[j].Reason })
	return s
}

// Exposes → traits, for the simulator's device set (real zigbee-herdsman-
// converters shapes) and for other real-world shapes.
func TestGoldenZ2MExposes(t *testing.T) {
	cases := map[string][]byte{"sim_devices": z2msim.BridgeDevices()}
	for _, name := range []string{"extra_devices", "kinds_devices"} {
		b, err := os.ReadFile("testdata/z2m/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		cases[name] = b
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			z := newZ2MSource("zigbee2mqtt", newOnceLog(quietLog()))
			z.handle("zigbee2mqtt/bridge/devices", payload)
			checkGolden(t, filepath.Join("testdata", "z2m", name+".golden.json"), goldenOut{Endpoints: unitsOut(z.units()), Skipped: sortSkips(append([]Skip(nil), z.skips...))})
		})
	}
}

// Discovery payloads (Tasmota legacy, ESPHome, device-based, odd cases) →
// endpoints, with their state after the fixture's state messages.
func TestGoldenHADiscovery(t *testing.T) {
	files, _ := filepath.Glob("testdata/ha/*.json")
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
			for _, m := range loadFixture(t, f) {
				h.handle(m.Topic, m.payload())
			}
			units := h.units()
			var skips []Skip
			for _, s := range h.skips {
				skips = append(skips, s)
			}
			for _, s := range h.loose {
				skips = append(skips, s)
			}
			checkGolden(t, filepath.Join("testdata", "ha", name+".golden.json"), goldenOut{Endpoints: unitsOut(units), Skipped: sortSkips(skips)})
		})
	}
}
