package avs

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestDeviceEndpointGolden(t *testing.T) {
	got := DeviceEndpoint(DeviceInfo{ProductID: "avshub_hub", SerialNumber: "DSN:0001/a", Locales: []string{"en-US", "de-DE"}})
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, got, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", "device_endpoint.golden.json")
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("DeviceEndpoint =\n%s\nwant\n%s", pretty.Bytes(), want)
	}
	if id := DeviceEndpointID(DeviceInfo{ProductID: "avshub_hub", SerialNumber: "DSN:0001/a"}); id != "avshub_5fhub::DSN_3a0001_2fa" {
		t.Errorf("DeviceEndpointID = %q", id)
	}
}
