package main

import (
	"context"
	"io"
	"strings"

	"github.com/avshub/avshub/bridges/bundled"
)

// cmdBridge serves a bundled bridge as a plugin process: the hub launches
// itself as `avshub bridge NAME` for every configured bridge without a path.
// realMain runs it before installing any signal handling, so the process
// behaves as a separate bridge binary would.
func cmdBridge(_ context.Context, args []string, out, errw io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := flags("bridge", errw)
		if err := parseNoArgs(fs, args); err != nil {
			return err
		}
		return usageError("name a bundled bridge: %s", strings.Join(bundled.Names(), ", "))
	}
	if err := bundled.Serve(args[0], args[1:]); err != nil {
		return usageError("%v", err)
	}
	return nil // not reached: Serve exits the process
}
