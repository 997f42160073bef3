package zigbee

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// baudRates are the termios speeds openPolled sets (Linux's B* constants).
var baudRates = map[int]uint32{
	9600: unix.B9600, 19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600,
	115200: unix.B115200, 230400: unix.B230400, 460800: unix.B460800, 500000: unix.B500000,
	576000: unix.B576000, 921600: unix.B921600, 1000000: unix.B1000000, 1152000: unix.B1152000,
	1500000: unix.B1500000, 2000000: unix.B2000000,
}

// openPolled opens a serial port as go.bug.st/serial does (raw 8N1, no flow
// control, exclusive), but non-blocking and read through the Go runtime's
// network poller: a read waiting for the coordinator parks its goroutine
// instead of holding a thread in select(2), which made every frame cost the
// process thread hand-offs (the scheduler retaking the thread's P, waking
// the runtime's monitor). ok is false when the rate has no termios constant
// (the caller then uses go.bug.st/serial).
func openPolled(path string, baud int) (port io.ReadWriteCloser, ok bool, err error) {
	speed, ok := baudRates[baud]
	if !ok {
		return nil, false, nil
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, true, fmt.Errorf("zigbee: open %s: %w", path, err)
	}
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		unix.Close(fd)
		return nil, true, fmt.Errorf("zigbee: %s is not a serial port: %w", path, err)
	}
	// cfmakeraw, 8N1, receiver on, modem lines ignored, no flow control.
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL |
		unix.IXON | unix.IXOFF | unix.IXANY | unix.INPCK
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB | unix.CSTOPB | unix.CRTSCTS | unix.CBAUD
	t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL | speed
	t.Ispeed, t.Ospeed = speed, speed
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		unix.Close(fd)
		return nil, true, fmt.Errorf("zigbee: configure %s: %w", path, err)
	}
	if err := unix.IoctlSetInt(fd, unix.TIOCEXCL, 0); err != nil {
		unix.Close(fd)
		return nil, true, fmt.Errorf("zigbee: take %s for this process: %w", path, err)
	}
	return &polledPort{File: os.NewFile(uintptr(fd), path), fd: fd}, true, nil
}

// polledPort is a serial port read and written through the runtime poller.
type polledPort struct {
	*os.File
	fd int
}

// Close gives up exclusive use and closes the port (a Read under way returns).
func (p *polledPort) Close() error {
	_ = unix.IoctlSetInt(p.fd, unix.TIOCNXCL, 0)
	return p.File.Close()
}
