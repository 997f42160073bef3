package plugintest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var badBin, virtualBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plugintest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	badBin, virtualBin = filepath.Join(dir, "badplugin"), filepath.Join(dir, "bridge-virtual")
	for bin, pkg := range map[string]string{badBin: "./testdata/badplugin", virtualBin: "../../cmd/bridge-virtual"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func failedChecks(r *Report) []string {
	var f []string
	for _, c := range r.Checks {
		if !c.Passed {
			f = append(f, c.Name)
		}
	}
	return f
}

func TestBinaryChecksCatchFaults(t *testing.T) {
	tests := []struct {
		bad  string
		want string
	}{
		{"stdout", "handshake-first"},
		{"sigint", "handshake-first"},
		{"slowkill", "exit-on-kill"},
	}
	for _, tt := range tests {
		t.Run(tt.bad, func(t *testing.T) {
			cfg, _ := Config{Env: []string{"BAD=" + tt.bad}, DataDir: t.TempDir(), Config: json.RawMessage(`{"lockDelay":"10ms"}`)}.withDefaults(nil)
			r := &Report{Passed: true}
			step := func(name string, f func(context.Context) error) bool {
				err := f(context.Background())
				r.Checks = append(r.Checks, CheckResult{Name: name, Passed: err == nil})
				if err != nil {
					t.Logf("%s: %v", name, err)
				}
				return err == nil
			}
			runBinary(step, badBin, cfg)
			if got := failedChecks(r); !slices.Contains(got, tt.want) {
				t.Errorf("failed checks %v, want %s among them", got, tt.want)
			}
		})
	}
}

func TestCheckReport(t *testing.T) {
	r, err := Check(context.Background(), virtualBin, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Passed || failedChecks(r) != nil {
		t.Fatalf("virtual bridge failed %v", failedChecks(r))
	}
	if r.Bridge.Name != "virtual" || len(r.Endpoints) != 11 { // the sample configuration
		t.Fatalf("bridge %q with %d endpoints", r.Bridge.Name, len(r.Endpoints))
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PASSED", "front-door", "lock", "Heat Pump", "thermostat, temperature_sensor"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Passed    bool `json:"passed"`
		Endpoints []struct {
			DeviceID string   `json:"deviceId"`
			Traits   []string `json:"traits"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || !doc.Passed || len(doc.Endpoints) != 11 || len(doc.Endpoints[0].Traits) == 0 {
		t.Fatalf("JSON report %s (%v)", js.String(), err)
	}

	// A configuration picks the endpoints; a bad one fails configure.
	r, err = Check(context.Background(), virtualBin, []byte(`{"lockDelay":"10ms","devices":[{"id":"a","name":"A","type":"lock"}]}`))
	if err != nil || !r.Passed || len(r.Endpoints) != 1 {
		t.Fatalf("with config: %+v, %v", r, err)
	}
	r, err = Check(context.Background(), virtualBin, []byte(`{"devices":[{"id":"a","type":"toaster"}]}`))
	if err != nil || r.Passed {
		t.Fatalf("bad config passed: %v", err)
	}
	if _, err := Check(context.Background(), filepath.Join(t.TempDir(), "missing"), nil); err == nil {
		t.Fatal("missing binary: no error")
	}
}

// Read-only mode sends no commands; otherwise the kit says before it does;
// the bridge's "skipped" records are listed, each once; its log is kept.
func TestCheckOptionsAndSkipped(t *testing.T) {
	announced := -1
	r, err := CheckWith(context.Background(), badBin, CheckOptions{Env: []string{"BAD=skipped"}, NoCommands: true,
		BeforeCommands: func(n int) { announced = n }})
	if err != nil || !r.Passed {
		t.Fatalf("%+v %v", r, err)
	}
	for _, c := range r.Checks {
		if c.Name == "commands" || c.Name == "typed-errors" {
			t.Errorf("read-only check ran %s", c.Name)
		}
	}
	if announced != -1 {
		t.Error("read-only check announced commands")
	}
	want := []SkippedItem{{Item: "0x00158d0001a2b3c4", Part: "linkquality", Reason: "diagnostic value, not a device feature"},
		{Item: "garage-sensor", Reason: "no expose avshub can map"}}
	if !slices.Equal(r.Skipped, want) {
		t.Errorf("skipped %+v, want %+v", r.Skipped, want)
	}
	if !slices.ContainsFunc(r.Log, func(l string) bool { return strings.Contains(l, "virtual bridge running") }) {
		t.Errorf("bridge log not captured: %q", r.Log)
	}
	r, err = CheckWith(context.Background(), virtualBin, CheckOptions{BeforeCommands: func(n int) { announced = n }})
	if err != nil || !r.Passed || announced != 11 {
		t.Fatalf("passed %v, announced %d devices (want the sample's 11): %v", r.Passed, announced, err)
	}
	var js bytes.Buffer
	_ = r.WriteJSON(&js)
	if !strings.Contains(js.String(), `"skipped": []`) {
		t.Errorf("JSON report has no empty skipped list:\n%s", js.String())
	}
}

// The planted bugs of issue 17, each caught by plugin check (the binary) with
// a message that names the cause.
func TestPlantedBugsCaughtByPluginCheck(t *testing.T) {
	tests := []struct{ bad, check, want string }{
		{"range", "state-ranges", "brightness 150 is outside 0–100"},
		{"hang", "commands", "Execute did not return before its deadline (2 s)"},
		{"stdout", "handshake-first", "not a go-plugin gRPC handshake"},
		{"sigint", "handshake-first", "exited on SIGINT"},
	}
	for _, tt := range tests {
		t.Run(tt.bad, func(t *testing.T) {
			r, err := checkWith(context.Background(), badBin, CheckOptions{Env: []string{"BAD=" + tt.bad}}, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if r.Passed {
				t.Fatal("the planted bug passed plugin check")
			}
			for _, c := range r.Checks {
				if c.Name == tt.check {
					if c.Passed || !strings.Contains(c.Error, tt.want) {
						t.Errorf("%s: passed %v, message %q; want it to say %q", c.Name, c.Passed, c.Error, tt.want)
					}
					return
				}
			}
			t.Errorf("no %s check in %+v", tt.check, r.Checks)
		})
	}
}
