package host

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/discovery/model"
	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
	"github.com/avshub/avshub/plugins/proto/bridge/v1/convert"
	"github.com/avshub/avshub/plugins/sdk"
)

// BenchmarkExecute measures one Execute round trip (SetPower on a virtual
// light, answered Done) three ways in the same run:
//
//	supervisor        Supervisor.Execute: go-plugin, AutoMTLS, unix socket, plugin process
//	raw-grpc-process  a plain gRPC client (no TLS) to the same plugin binary over its unix socket
//	raw-grpc-local    a plain gRPC client to the SDK server in this process over a unix socket
//
// The difference between the first two is what go-plugin (TLS, supervisor
// bookkeeping) costs; the last is the floor without a process boundary.
func BenchmarkExecute(b *testing.B) {
	req := func(i int) model.Request {
		return model.Request{CorrelationID: "bench", DeviceID: "hall-light", Command: model.SetPower(i%2 == 0),
			Deadline: time.Now().Add(5 * time.Second)}
	}
	b.Run("supervisor", func(b *testing.B) {
		rec := &recorder{}
		s, err := New(Config{Name: "virtual", Path: virtualBin, Sink: rec, Logger: discardLogger()})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = s.Run(ctx) }()
		defer func() { cancel(); <-done }()
		waitRunning(b, s)
		pid := s.Status().PID
		var lat latencies
		b.ResetTimer()
		host0, bridge0 := selfCPU(), procCPU(pid)
		n := 0
		for i := 0; b.Loop(); i++ {
			t0 := time.Now()
			if _, err := s.Execute(context.Background(), req(i)); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
			n++
		}
		lat.report(b)
		b.ReportMetric(float64(selfCPU()-host0)/float64(time.Microsecond)/float64(n), "host-cpu-µs/op")
		b.ReportMetric(float64(procCPU(pid)-bridge0)/float64(time.Microsecond)/float64(n), "bridge-cpu-µs/op")
	})
	b.Run("raw-grpc-process", func(b *testing.B) {
		client, stop := rawPluginProcess(b)
		defer stop()
		benchRaw(b, client, req)
	})
	b.Run("raw-grpc-local", func(b *testing.B) {
		dir, err := os.MkdirTemp("", "bench-")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
		lis, err := net.Listen("unix", filepath.Join(dir, "s"))
		if err != nil {
			b.Fatal(err)
		}
		srv, stopBridge := sdk.NewServer(virtual.New(discardLogger()))
		gs := grpc.NewServer()
		pb.RegisterBridgeServer(gs, srv)
		go func() { _ = gs.Serve(lis) }()
		defer func() {
			gs.Stop()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = stopBridge(ctx)
		}()
		conn, err := grpc.NewClient("unix:"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		benchRaw(b, pb.NewBridgeClient(conn), req)
	})
}

func waitRunning(b *testing.B, s *Supervisor) {
	deadline := time.Now().Add(10 * time.Second)
	for s.Status().State != StateRunning || s.Status().Health.State != model.HealthHealthy {
		if time.Now().After(deadline) {
			b.Fatalf("bridge not running: %+v", s.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// benchRaw configures the bridge, waits for its snapshot, then measures Execute.
func benchRaw(b *testing.B, c pb.BridgeClient, req func(int) model.Request) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := c.Configure(ctx, &pb.ConfigureRequest{ConfigJson: "{}"}); err != nil {
		b.Fatal(err)
	}
	stream, err := c.StreamEvents(ctx, &pb.StreamEventsRequest{})
	if err != nil {
		b.Fatal(err)
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			b.Fatal(err)
		}
		if m.GetSnapshot() != nil {
			break
		}
	}
	go func() {
		for {
			if _, err := stream.Recv(); err != nil {
				return
			}
		}
	}()
	var lat latencies
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		resp, err := c.Execute(ctx, convert.Request(req(i)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := convert.ResultFrom(resp); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	lat.report(b)
}

// selfCPU is this process's user+system CPU time (the host side).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is a process's user+system CPU time from /proc (clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// latencies reports the p50 and p99 of per-call durations.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	b.ReportMetric(float64(l[len(l)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(l[len(l)*99/100].Microseconds()), "p99-µs")
}

// rawPluginProcess starts the virtual bridge binary with the go-plugin
// environment but without AutoMTLS, and connects a plain gRPC client to the
// socket from its handshake line.
func rawPluginProcess(b *testing.B) (pb.BridgeClient, func()) {
	cmd := exec.Command(virtualBin)
	cmd.Env = []string{sdk.MagicCookieKey + "=" + sdk.MagicCookieValue, "PLUGIN_PROTOCOL_VERSIONS=1",
		"PLUGIN_MIN_PORT=10000", "PLUGIN_MAX_PORT=25000"}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		b.Fatal(err)
	}
	f := strings.Split(strings.TrimSpace(line), "|")
	conn, err := grpc.NewClient("unix:"+f[3], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		_ = cmd.Process.Kill()
		b.Fatal(err)
	}
	return pb.NewBridgeClient(conn), func() {
		conn.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
}
