package znpsim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// RunPTY puts the simulator on a pseudo-terminal and links path to its
// device node (like /dev/serial/by-id/…), until ctx ends. ready, if not nil,
// is called once the link exists. Unplug removes the link and closes the
// terminal (the host sees the stick vanish); Replug creates a new one.
func (s *Sim) RunPTY(ctx context.Context, path string, ready func(path string)) error {
	s.mu.Lock()
	s.linkPath = path
	s.mu.Unlock()
	first := true
	for {
		master, slave, err := openPTY()
		if err != nil {
			return fmt.Errorf("znpsim: open pty: %w", err)
		}
		if err := makeRaw(slave); err != nil {
			master.Close()
			slave.Close()
			return fmt.Errorf("znpsim: raw mode: %w", err)
		}
		_ = os.Remove(path)
		if err := os.Symlink(slave.Name(), path); err != nil {
			master.Close()
			slave.Close()
			return fmt.Errorf("znpsim: link %s: %w", path, err)
		}
		if first && ready != nil {
			ready(path)
		}
		first = false
		s.log.Info("znpsim: serial port ready", "link", path, "pty", slave.Name())
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Serve(sctx, master) }()
		var plugged bool
		select {
		case <-ctx.Done():
		case plugged = <-s.plugged:
		case err := <-done:
			s.log.Warn("znpsim: line ended; recreating the pty", "err", err)
			done <- err
			plugged = true
		}
		cancel()
		master.Close()
		slave.Close()
		<-done
		_ = os.Remove(path)
		if ctx.Err() != nil {
			return nil
		}
		if !plugged { // unplugged: wait for replug
			s.log.Info("znpsim: stick unplugged", "link", path)
			for !plugged {
				select {
				case <-ctx.Done():
					return nil
				case plugged = <-s.plugged:
				}
			}
			// A stick that is plugged back in has rebooted: the coordinator is not running.
			s.mu.Lock()
			s.rebootLocked()
			s.mu.Unlock()
		}
	}
}

// rebootLocked is a power cycle: runtime state is lost, NV survives.
func (s *Sim) rebootLocked() {
	s.devState = 0
	s.afEPs = map[uint8]afEP{}
	s.permitEnd = time.Time{}
}

// Unplug makes the stick vanish (RunPTY only).
func (s *Sim) Unplug() error { return s.plug(false) }

// Replug brings an unplugged stick back (RunPTY only).
func (s *Sim) Replug() error { return s.plug(true) }

// ErrNotPTY is returned by Unplug and Replug when the simulator is not on a pty.
var ErrNotPTY = errors.New("znpsim: not running on a pty")

func (s *Sim) plug(in bool) error {
	s.mu.Lock()
	p := s.linkPath
	s.mu.Unlock()
	if p == "" {
		return ErrNotPTY
	}
	select {
	case s.plugged <- in:
		return nil
	default:
		return errors.New("znpsim: a plug change is already pending")
	}
}

func makeRaw(f *os.File) error {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t)
}

// openPTY opens a pty pair whose master is non-blocking (pollable), so that
// Close interrupts a pending Read and write deadlines work. creack/pty hands
// out a blocking master (it calls Fd), hence the dup.
func openPTY() (*os.File, *os.File, error) {
	m, sl, err := pty.Open()
	if err != nil {
		return nil, nil, err
	}
	// Close-on-exec: processes started later (a bridge plugin) must not
	// inherit the master, or closing it here would not hang the line up.
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	m.Close()
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		sl.Close()
		return nil, nil, err
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), sl, nil
}
