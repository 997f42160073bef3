//go:build !linux

package zigbee

import "io"

// openPolled is Linux only; elsewhere go.bug.st/serial opens the port.
func openPolled(string, int) (io.ReadWriteCloser, bool, error) { return nil, false, nil }
