// Package simcmd holds what the simulator commands (avs-sim, znp-sim,
// z2m-sim, skill-sim) share: a main that stops on SIGINT or SIGTERM and
// exits 1 with the error, the admin HTTP API's server, and the files they
// append their record or trace to.
package simcmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Main runs a simulator: run's context ends on SIGINT or SIGTERM, and an
// error is printed as "name: error" before the process exits 1.
func Main(name string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Admin is a simulator's admin HTTP API, served until Close.
type Admin struct {
	srv    *http.Server
	ln     net.Listener
	failed chan error
}

// ServeAdmin listens on addr (host:port; port 0 picks one) and serves h.
func ServeAdmin(addr string, h http.Handler) (*Admin, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin API: %w", err)
	}
	a := &Admin{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, ln: ln, failed: make(chan error, 1)}
	go func() {
		if err := a.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			a.failed <- fmt.Errorf("admin API: %w", err)
		}
	}()
	return a, nil
}

// Addr is the address the API listens on.
func (a *Admin) Addr() string { return a.ln.Addr().String() }

// Failed delivers the error that stopped the server before Close.
func (a *Admin) Failed() <-chan error { return a.failed }

// Close stops the API, waiting up to 2 s for the requests in flight.
func (a *Admin) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return a.srv.Shutdown(ctx)
}

// AppendFile opens path for appending (created with mode 0600: a record
// holds what the peers sent, tokens included).
func AppendFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s for appending: %w", path, err)
	}
	return f, nil
}
