package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/avshub/avshub/plugins/sdk"
)

// Report is the result of Check: every check with its outcome, and the
// endpoints the bridge discovered.
type Report struct {
	Binary    string           `json:"binary"`
	Bridge    sdk.Description  `json:"bridge"`
	Passed    bool             `json:"passed"`
	Checks    []CheckResult    `json:"checks"`
	Endpoints []EndpointReport `json:"endpoints"`
	// Skipped lists what the bridge logged as skipped (message "skipped" with
	// item, part and reason).
	Skipped []SkippedItem `json:"skipped"`
	// Log is the bridge's own log while it was checked.
	Log []string `json:"log"`
}

// CheckOptions tunes CheckWith.
type CheckOptions struct {
	// Config is the bridge's configuration (JSON); nil means the bridge's
	// sample configuration (Description.SampleConfig).
	Config []byte
	// NoCommands skips the checks that send commands (read-only).
	NoCommands bool
	// BeforeCommands is called with the number of reachable devices just
	// before commands are sent.
	BeforeCommands func(devices int)
	// Env is the plugin's environment (none of avshub's is passed).
	Env []string
	// Args come before the plugin's own arguments (a bundled bridge: the
	// avshub executable with "bridge NAME").
	Args []string
}

// CheckResult is one check's outcome.
type CheckResult struct {
	Name       string  `json:"name"`
	Passed     bool    `json:"passed"`
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"durationMs"`
}

// EndpointReport is one endpoint the bridge discovered.
type EndpointReport struct {
	DeviceID     string   `json:"deviceId"`
	FriendlyName string   `json:"friendlyName"`
	Category     string   `json:"category"`
	Traits       []string `json:"traits"`
	Reachable    bool     `json:"reachable"`
}

// Check runs the binary conformance checks against the plugin at path,
// configured with configJSON (nil: the bridge's sample configuration), and
// returns a Report. The error is for failures to run at all (no such file);
// failed checks are in the Report.
func Check(ctx context.Context, path string, configJSON []byte) (*Report, error) {
	return CheckWith(ctx, path, CheckOptions{Config: configJSON})
}

// CheckWith is Check with options; it is `avshub plugin check`.
func CheckWith(ctx context.Context, path string, o CheckOptions) (*Report, error) {
	return checkWith(ctx, path, o, 0)
}

// checkWith runs the checks with a command deadline (0: the default).
func checkWith(ctx context.Context, path string, o CheckOptions, commandDeadline time.Duration) (*Report, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("plugin check: %w", err)
	}
	configJSON := o.Config
	if configJSON != nil && !json.Valid(configJSON) {
		return nil, fmt.Errorf("plugin check: the configuration is not valid JSON")
	}
	dataDir, err := os.MkdirTemp("", "avshub-plugin-check-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dataDir)
	capture := newLogCapture(filepath.Base(path))
	cfg, _ := Config{Config: configJSON, DataDir: dataDir, NoCommands: o.NoCommands, BeforeCommands: o.BeforeCommands,
		Env: o.Env, Args: o.Args, capture: capture, CommandDeadline: commandDeadline}.withDefaults(nil)
	r := &Report{Binary: path, Passed: true, Checks: []CheckResult{}, Endpoints: []EndpointReport{}}
	step := func(name string, f func(context.Context) error) bool {
		cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
		start := time.Now()
		err := f(cctx)
		res := CheckResult{Name: name, Passed: err == nil, DurationMS: float64(time.Since(start).Microseconds()) / 1000}
		if err != nil {
			res.Error = err.Error()
			r.Passed = false
		}
		r.Checks = append(r.Checks, res)
		return err == nil
	}
	s := runBinary(step, path, cfg)
	if s != nil {
		r.Bridge = s.desc
		for _, d := range s.devices {
			r.Endpoints = append(r.Endpoints, EndpointReport{DeviceID: d.Endpoint.DeviceID, FriendlyName: d.Endpoint.FriendlyName,
				Category: string(d.Endpoint.Category), Traits: d.Endpoint.Traits.Names(), Reachable: d.Reachable})
		}
	}
	r.Skipped, r.Log = capture.skipped(), capture.text()
	return r, nil
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for people: each check, the verdict, then the
// endpoints with their traits.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "plugin %s", r.Binary)
	if r.Bridge.Name != "" {
		fmt.Fprintf(&b, " (bridge %s %s, API %s)", r.Bridge.Name, r.Bridge.Version, strings.Join(r.Bridge.APIVersions, ", "))
	}
	b.WriteString("\n\n")
	for _, c := range r.Checks {
		mark := "PASS"
		if !c.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s  %-20s %8.1f ms\n", mark, c.Name, c.DurationMS)
		if c.Error != "" {
			for _, l := range strings.Split(c.Error, "\n") {
				fmt.Fprintf(&b, "        %s\n", l)
			}
		}
	}
	passed := 0
	for _, c := range r.Checks {
		if c.Passed {
			passed++
		}
	}
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "\n%s: %d of %d checks passed\n\nendpoints (%d):\n", verdict, passed, len(r.Checks), len(r.Endpoints))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  DEVICE\tNAME\tCATEGORY\tREACHABLE\tTRAITS")
	for _, e := range r.Endpoints {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%t\t%s\n", e.DeviceID, e.FriendlyName, e.Category, e.Reachable, strings.Join(e.Traits, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.Reset()
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "\nskipped (%d):\n", len(r.Skipped))
		for _, s := range r.Skipped {
			what := s.Item
			if s.Part != "" {
				what += " " + s.Part
			}
			fmt.Fprintf(&b, "  %s: %s\n", what, s.Reason)
		}
	}
	if !r.Passed && len(r.Log) > 0 {
		const keep = 60
		lines := r.Log
		fmt.Fprintf(&b, "\nthe bridge's log")
		if len(lines) > keep {
			fmt.Fprintf(&b, " (last %d of %d lines; --json has all)", keep, len(lines))
			lines = lines[len(lines)-keep:]
		}
		b.WriteString(":\n")
		for _, l := range lines {
			b.WriteString("  " + l + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
