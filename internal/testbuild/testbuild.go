// Package testbuild builds the executables a test starts (plugin bridges) for
// the architecture the test binary itself was compiled for, so that a test
// cross-compiled for linux/arm64 or linux/arm and run under qemu-user starts
// ARM plugins too.
package testbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
)

// EmulatorEnv names the variable holding the user-mode emulator the test runs
// under (for example /usr/bin/qemu-aarch64-static); make test-arm sets it.
const EmulatorEnv = "AVSHUB_TEST_EMULATOR"

// Build runs `go build -o out pkg` in dir (the working directory when empty).
// Natively it builds as the go command would by default. Under an emulator
// (EmulatorEnv set) it builds pure Go for the running binary's GOOS, GOARCH
// and GOARM into out+".bin" and writes out as a shell script that runs it under
// the emulator: binfmt_misc may not be registered, and the host starting a
// plugin execs out like any executable.
func Build(ctx context.Context, dir, out, pkg string) error {
	emu := os.Getenv(EmulatorEnv)
	target := out
	if emu != "" {
		target = out + ".bin"
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", target, pkg)
	cmd.Dir = dir
	if emu != "" {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH, "GOARM="+goarm())
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	if emu == "" {
		return nil
	}
	script := "#!/bin/sh\nexec " + strconv.Quote(emu) + " " + strconv.Quote(target) + " \"$@\"\n"
	if err := os.WriteFile(out, []byte(script), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}

// goarm is the GOARM the running binary was built with (7 when it records none).
func goarm() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOARM" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "7"
}
