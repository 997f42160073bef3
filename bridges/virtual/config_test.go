package virtual

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/avshub/avshub/plugins/sdk"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestDescribeGolden pins the manifest (schema and sample included): a change
// to the bridge's public configuration shows up in review.
func TestDescribeGolden(t *testing.T) {
	got, err := json.MarshalIndent(New(nil).Describe(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "describe.golden.json")
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
		t.Errorf("manifest differs from %s (go test -update to accept):\n%s", path, got)
	}
}

func TestParseConfigDefaults(t *testing.T) {
	c, err := ParseConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Devices) != len(DefaultDevices()) || c.LockDelay == 0 || c.ManualEvery != 0 {
		t.Fatalf("%+v", c)
	}
	c, err = ParseConfig([]byte(SampleConfig))
	if err != nil || len(c.Devices) != 11 || c.ManualEvery == 0 {
		t.Fatalf("sample: %+v, %v", c, err)
	}
}

// FuzzParseConfig: whatever the hub passes as configuration, the bridge
// answers with an error or a working device set, never a panic.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(SampleConfig))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"devices":[{"id":"a","name":"A","type":"thermostat","kind":"dual","temperature":-40}]}`))
	f.Add([]byte(`{"manualEvery":"1h2m3.5s","lockDelay":"0s"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		br := New(nil)
		if err := br.Configure(context.Background(), sdk.Config{JSON: b}); err != nil {
			t.Fatalf("ParseConfig accepted what Configure rejects: %v", err)
		}
		if len(br.snapshotLocked()) != len(c.Devices) {
			t.Fatal("device count differs")
		}
	})
}
