package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/avshub/avshub/gateway/web"
)

// demo holds the running chain.
type demo struct {
	bin, out, profile string
	transport         string // avs or skill
	w                 io.Writer
	procs             []*proc

	avsURL, adminURL, caFile string
	znpAdmin, z2mAdmin       string
	brokerAddr, statusAddr   string
	socket, cfgPath          string
	skillListen, secretFile  string // the hub's skill endpoint and the HMAC secret (transport skill)
	hub                      *proc
	started                  time.Time
}

func (d *demo) skill() bool { return d.transport == "skill" }

func (d *demo) say(format string, args ...any) { fmt.Fprintf(d.w, format+"\n", args...) }

func (d *demo) section(title string) {
	fmt.Fprintf(d.w, "\n== %s\n", title)
}

func (d *demo) stopAll() {
	for i := len(d.procs) - 1; i >= 0; i-- {
		d.procs[i].stop()
	}
}

func (d *demo) start(ctx context.Context, name string, args []string, ready string) (*proc, map[string]string, error) {
	p, f, err := start(ctx, d.out, name, filepath.Join(d.bin, name), args, ready, 30*time.Second)
	if err != nil {
		return nil, nil, err
	}
	d.procs = append(d.procs, p)
	return p, f, nil
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// call does an HTTP request with a JSON body and decodes a JSON answer into out.
func call(ctx context.Context, method, url string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, url, err)
		}
	}
	return nil
}

// waitFor polls cond every 50 ms until it returns true, an error, or ctx ends.
func waitFor(ctx context.Context, what string, limit time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), last)
			}
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// hubEndpoints asks the hub's local API for its endpoints.
func (d *demo) hubEndpoints(ctx context.Context) ([]web.Endpoint, error) {
	return web.NewClient(d.socket).Endpoints(ctx)
}

// findEndpoint returns the first hub endpoint of a bridge matching pred.
func (d *demo) findEndpoint(ctx context.Context, bridge string, pred func(web.Endpoint) bool) (web.Endpoint, error) {
	var found web.Endpoint
	err := waitFor(ctx, "an endpoint of bridge "+bridge, 20*time.Second, func() (bool, error) {
		eps, err := d.hubEndpoints(ctx)
		if err != nil {
			return false, err
		}
		for _, e := range eps {
			if e.Endpoint.Bridge == bridge && pred(e) {
				found = e
				return true, nil
			}
		}
		return false, nil
	})
	return found, err
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
