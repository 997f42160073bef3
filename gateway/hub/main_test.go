package hub

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binDir holds the bridge binaries TestMain builds once for every test.
var binDir string

// TestMain builds the plugin binaries the end-to-end tests launch (real
// processes, as in production) into a temporary directory.
func TestMain(m *testing.M) {
	if role := os.Getenv("AVSHUB_BENCH_RELAY"); role != "" {
		if err := relayMain(role, flagArgs()); err != nil {
			fmt.Fprintln(os.Stderr, "relay:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "avshub-hub-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := func() int {
		defer os.RemoveAll(dir)
		for _, pkg := range []string{"bridge-virtual", "bridge-zigbee", "bridge-mqtt", "avshub", "skill-lambda"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, pkg), "github.com/avshub/avshub/cmd/"+pkg)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "building %s: %v\n", pkg, err)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// flagArgs are the command line's arguments after the test flags.
func flagArgs() []string {
	var out []string
	for _, a := range os.Args[1:] {
		if !strings.HasPrefix(a, "-test.") {
			out = append(out, a)
		}
	}
	return out
}
