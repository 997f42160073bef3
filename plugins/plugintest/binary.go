package plugintest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
	"github.com/avshub/avshub/plugins/sdk"
)

// checkDescribeCommand runs "path describe" and checks it prints a manifest.
func checkDescribeCommand(ctx context.Context, path string, cfg Config) error {
	cmd := exec.CommandContext(ctx, path, append(slices.Clip(cfg.Args), "describe")...)
	cmd.Env = cfg.Env
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s describe: %w", path, err)
	}
	var d sdk.Description
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return fmt.Errorf("%s describe printed no manifest: %w", path, err)
	}
	if d.Name == "" || d.Version == "" {
		return fmt.Errorf("%s describe: manifest without name or version: %s", path, out)
	}
	return nil
}

// sigintGrace is how long handshake-first waits after SIGINT before it asks
// the plugin to serve.
const sigintGrace = 300 * time.Millisecond

// checkRawHandshake starts the plugin without go-plugin's client: the first
// line on stdout must be the handshake; after a SIGINT it must still serve.
func checkRawHandshake(ctx context.Context, path string, cfg Config) error {
	cmd := exec.Command(path, cfg.Args...)
	cmd.Env = append(append([]string(nil), cfg.Env...),
		sdk.MagicCookieKey+"="+sdk.MagicCookieValue,
		"PLUGIN_PROTOCOL_VERSIONS=1",
		"PLUGIN_MIN_PORT=10000", "PLUGIN_MAX_PORT=25000")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", path, err)
	}
	waited := make(chan struct{}) // closed once the process has been waited for
	var waitErr error
	waitStarted := false
	defer func() {
		_ = cmd.Process.Kill()
		if !waitStarted {
			_ = cmd.Wait()
			return
		}
		<-waited
	}()
	lines := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- l
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(cfg.StartTimeout):
		return fmt.Errorf("no handshake on stdout within %v", cfg.StartTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	f := strings.Split(strings.TrimSpace(line), "|")
	if len(f) < 5 || f[0] != "1" || f[1] != fmt.Sprint(sdk.ProtocolVersion) || f[4] != "grpc" {
		return fmt.Errorf("the first line on stdout is not a go-plugin gRPC handshake: %q", line)
	}
	// The handshake line is read: waiting for the process may start now.
	waitStarted = true
	go func() { waitErr = cmd.Wait(); close(waited) }()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		return err
	}
	// A plugin that dies of SIGINT does so at once; give it that moment
	// before asking it to serve (a call right away could still be answered).
	select {
	case <-waited:
		return fmt.Errorf("the plugin exited on SIGINT (%v); plugins must ignore it (the terminal's ^C reaches the hub's whole process group, and the hub stops its plugins itself)", waitErr)
	case <-time.After(sigintGrace):
	case <-ctx.Done():
		return ctx.Err()
	}
	target := f[3]
	if f[2] == "unix" {
		target = "unix:" + f[3]
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// The call proves the process survived the SIGINT and still serves.
	if _, err := pb.NewBridgeClient(conn).Describe(cctx, &pb.DescribeRequest{}, grpc.WaitForReady(true)); err != nil {
		return fmt.Errorf("after SIGINT the plugin no longer serves (plugins must ignore SIGINT): %w", err)
	}
	return nil
}

// pluginProcess is a plugin started through go-plugin as the hub starts it.
type pluginProcess struct {
	c      *plugin.Client
	client pb.BridgeClient
}

func startPlugin(path string, cfg Config) (*pluginProcess, error) {
	sum, err := fileSum(path)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, cfg.Args...)
	cmd.Env = append([]string(nil), cfg.Env...)
	logger := hclog.NewNullLogger()
	if cfg.capture != nil {
		logger = cfg.capture.logger()
	}
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.PluginSets(&sdk.GRPCPlugin{}),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Cmd:              cmd,
		SecureConfig:     &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     cfg.StartTimeout,
		Logger:           logger,
	})
	rpc, err := c.Client()
	if err != nil {
		c.Kill()
		return nil, fmt.Errorf("start %s through go-plugin: %w", path, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		c.Kill()
		return nil, fmt.Errorf("dispense: %w", err)
	}
	bc, ok := raw.(pb.BridgeClient)
	if !ok {
		c.Kill()
		return nil, fmt.Errorf("dispense returned %T", raw)
	}
	return &pluginProcess{c: c, client: bc}, nil
}

// kill stops the plugin the way the hub does and checks it exited gracefully
// within 2 s (go-plugin force-kills after 2 s).
func (p *pluginProcess) kill() error {
	pid := 0
	if rc := p.c.ReattachConfig(); rc != nil {
		pid = rc.Pid
	}
	start := time.Now()
	p.c.Kill()
	took := time.Since(start)
	if !p.c.Exited() {
		return errors.New("the plugin process did not exit after Kill")
	}
	if pid != 0 && syscall.Kill(pid, 0) == nil && !zombie(pid) {
		return fmt.Errorf("plugin process %d still exists after Kill", pid)
	}
	if took >= 2*time.Second {
		return fmt.Errorf("the plugin took %v to exit after Kill (must be under 2 s; it was force-killed)", took.Round(time.Millisecond))
	}
	return nil
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

func fileSum(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("plugin executable: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
