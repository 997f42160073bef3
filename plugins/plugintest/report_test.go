package plugintest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/avshub/avshub/plugins/sdk"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update to accept):\n%s", path, got)
	}
}

func sampleReport() *Report {
	return &Report{
		Binary: "bin/bridge-acme",
		Bridge: sdk.Description{Name: "acme", Version: "0.3.1", APIVersions: []string{"1.0"}},
		Passed: false,
		Checks: []CheckResult{
			{Name: "describe", Passed: true, DurationMS: 1.2},
			{Name: "commands", Passed: false, Error: "door lock=UNLOCKED: accepted but not completed before its deadline\nlamp on_off=true: state after the command has on=false, want true", DurationMS: 1000},
		},
		Endpoints: []EndpointReport{
			{DeviceID: "door", FriendlyName: "Front Door", Category: "SMARTLOCK", Traits: []string{"lock"}, Reachable: true},
			{DeviceID: "lamp", FriendlyName: "Lamp", Category: "LIGHT", Traits: []string{"on_off", "brightness"}, Reachable: false},
		},
		Skipped: []SkippedItem{{Item: "0x00158d0001a2b3c4", Part: "linkquality", Reason: "diagnostic value, not a device feature"}},
		Log:     []string{"info  acme bridge running devices=2", `warn  lamp does not answer err="connection refused"`},
	}
}

func TestReportGolden(t *testing.T) {
	var text, js bytes.Buffer
	r := sampleReport()
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.txt", text.Bytes())
	golden(t, "report.golden.json", js.Bytes())
}
