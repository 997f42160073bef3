package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/internal/hoptrace"
	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
	"github.com/avshub/avshub/plugins/proto/bridge/v1/convert"
)

// Protocol constants shared by the SDK (plugin side) and plugins/host.
const (
	// ProtocolVersion is the go-plugin protocol version of bridge.v1.
	ProtocolVersion = 1
	// APIVersion is the bridge.v1 API minor this SDK speaks.
	APIVersion = "1.2"
	// PluginName is the name the bridge service is dispensed under.
	PluginName = "bridge"
	// MagicCookieKey and MagicCookieValue identify an avshub bridge plugin. They
	// are frozen: changing them breaks every bridge ever built.
	MagicCookieKey   = "AVSHUB_BRIDGE_PLUGIN"
	MagicCookieValue = "b7d3c1a4-avshub-bridge-v1-5f0e9a2c"
	// ReattachEnv names the variable (JSON: bridge name -> ReattachConfig) that
	// makes the hub attach to bridges started with --debug instead of launching them.
	ReattachEnv = "AVSHUB_REATTACH_BRIDGES"
)

// Handshake is the go-plugin handshake of every avshub bridge.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   MagicCookieKey,
	MagicCookieValue: MagicCookieValue,
}

// WindowSize is the fixed HTTP/2 flow-control window (per stream and per
// connection) of the plugin link, on both sides. A fixed window turns off
// gRPC's bandwidth-delay estimator, which otherwise answers nearly every
// message with a window update and a PING, and the peer with a PING ack: on
// the hub's request/response calls that is two extra frames and wake-ups on
// each side per Execute. 1 MiB is more than a unix socket's bandwidth-delay
// product, so large snapshots are not held back.
const WindowSize = 1 << 20

// OneProc sets GOMAXPROCS to 1 unless the GOMAXPROCS environment variable
// sets it. The hub and a bridge process spend their time handing short pieces
// of work from goroutine to goroutine (a socket read, a decode, a gRPC call,
// an answer): with more than one P, each hand-off wakes another OS thread to
// steal the goroutine, so a directive costs futex wake-ups and context
// switches instead of running on, on the same thread. Measured on the
// directive path: the hub's context switches per directive 18.4 → 11.6, its
// futex calls 7.0 → 2.4 (BENCHMARKS.md). One core is many times what either
// needs (hundreds of directives or tens of thousands of device reports a
// second).
func OneProc() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// StreamWorkers is how many goroutines of a bridge's gRPC server serve its
// streams (grpc.NumStreamWorkers). A worker keeps its stack from one call to
// the next, where gRPC's default starts a goroutine per call and grows its
// stack every time. Long-lived streams (events, go-plugin's stdio and
// broker) each hold one; a call that finds every worker busy gets its own
// goroutine as by default.
const StreamWorkers = 8

// GRPCServer is the gRPC server of a bridge process (go-plugin's
// ServeConfig.GRPCServer): its default with the fixed WindowSize and
// StreamWorkers.
func GRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, grpc.StaticStreamWindowSize(WindowSize), grpc.StaticConnWindowSize(WindowSize),
		grpc.NumStreamWorkers(StreamWorkers))...)
}

// GRPCDialOptions are the host's gRPC options for the plugin link
// (go-plugin's ClientConfig.GRPCDialOptions): the fixed WindowSize.
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithStaticStreamWindowSize(WindowSize), grpc.WithStaticConnWindowSize(WindowSize)}
}

// ReattachConfig is one entry of ReattachEnv: where a --debug bridge listens.
type ReattachConfig struct {
	Protocol        string `json:"protocol"`
	ProtocolVersion int    `json:"protocolVersion"`
	Network         string `json:"network"`
	Addr            string `json:"addr"`
	Pid             int    `json:"pid"`
}

// PluginConfig converts r for plugin.ClientConfig.Reattach.
func (r ReattachConfig) PluginConfig() (*plugin.ReattachConfig, error) {
	var addr net.Addr
	var err error
	switch r.Network {
	case "unix":
		addr, err = net.ResolveUnixAddr("unix", r.Addr)
	case "tcp":
		addr, err = net.ResolveTCPAddr("tcp", r.Addr)
	default:
		return nil, fmt.Errorf("reattach: unknown network %q", r.Network)
	}
	if err != nil {
		return nil, fmt.Errorf("reattach: %w", err)
	}
	return &plugin.ReattachConfig{Protocol: plugin.Protocol(r.Protocol), ProtocolVersion: r.ProtocolVersion,
		Addr: addr, Pid: r.Pid, Test: true}, nil
}

// ParseReattach parses the value of ReattachEnv.
func ParseReattach(s string) (map[string]ReattachConfig, error) {
	m := map[string]ReattachConfig{}
	if s == "" {
		return m, nil
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("%s: %w", ReattachEnv, err)
	}
	return m, nil
}

// GRPCPlugin is the go-plugin glue for bridge.v1: on the plugin side it serves
// Impl, on the host side it returns a pb.BridgeClient.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the bridge to serve (plugin side only).
	Impl   Bridge
	core   *core
	onExit func(error)
}

// PluginSets returns the versioned plugin sets for go-plugin (plugin side when
// p.Impl is set, host side otherwise).
func PluginSets(p *GRPCPlugin) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: {PluginName: p}}
}

// GRPCServer registers the bridge service.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.core == nil {
		p.core = newCore(p.Impl, nil)
	}
	pb.RegisterBridgeServer(s, &server{core: p.core, onExit: p.onExit})
	return nil
}

// GRPCClient returns a pb.BridgeClient on the plugin's connection.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return pb.NewBridgeClient(cc), nil
}

// server implements pb.BridgeServer on a core.
type server struct {
	pb.UnimplementedBridgeServer
	core   *core
	onExit func(error)
}

// NewServer returns a bridge.v1 gRPC service for b, for serving it outside
// go-plugin (benchmarks, other transports). stop ends the bridge's Run.
func NewServer(b Bridge) (srv pb.BridgeServer, stop func(context.Context) error) {
	c := newCore(b, nil)
	return &server{core: c}, c.stop
}

func (s *server) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return describe(s.core.b.Describe()), nil
}

func describe(d Description) *pb.DescribeResponse {
	return &pb.DescribeResponse{Name: d.Name, Version: d.Version, ApiVersions: d.APIVersions,
		Capabilities:     &pb.Capabilities{Pairing: d.Pairing, Remove: d.Remove, PairingProgress: d.PairingProgress},
		ConfigSchemaJson: string(d.ConfigSchema), SampleConfigJson: string(d.SampleConfig)}
}

// DescriptionFrom converts a Describe response.
func DescriptionFrom(r *pb.DescribeResponse) Description {
	d := Description{Name: r.GetName(), Version: r.GetVersion(), APIVersions: r.GetApiVersions(),
		Pairing: r.GetCapabilities().GetPairing(), Remove: r.GetCapabilities().GetRemove(),
		PairingProgress: r.GetCapabilities().GetPairingProgress()}
	if s := r.GetConfigSchemaJson(); s != "" {
		d.ConfigSchema = json.RawMessage(s)
	}
	if s := r.GetSampleConfigJson(); s != "" {
		d.SampleConfig = json.RawMessage(s)
	}
	return d
}

func (s *server) Configure(ctx context.Context, r *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	cfg := Config{JSON: json.RawMessage(r.GetConfigJson()), DataDir: r.GetDataDir()}
	if len(cfg.JSON) > 0 && !json.Valid(cfg.JSON) {
		return nil, status.Error(codes.InvalidArgument, "configuration is not valid JSON")
	}
	if err := s.core.configure(ctx, cfg, s.onExit); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &pb.ConfigureResponse{}, nil
}

func (s *server) StreamEvents(_ *pb.StreamEventsRequest, stream grpc.ServerStreamingServer[pb.Event]) error {
	sub := s.core.em.subscribeWire()
	defer s.core.em.unsubscribe(sub)
	ctx := stream.Context()
	for {
		q, ok := sub.nextQueued(ctx)
		if !ok {
			return nil
		}
		out := convert.Event(q.ev)
		if q.snap != nil {
			out.Kind = &pb.Event_Snapshot{Snapshot: q.snap} // built from the device set (subscribeWire)
		}
		q = queued{}
		if err := stream.Send(out); err != nil {
			return err
		}
	}
}

func (s *server) Execute(ctx context.Context, r *pb.ExecuteRequest) (*pb.ExecuteResponse, error) {
	hoptrace.At(r.GetCorrelationId(), "bridge-in")
	res, err := s.core.execute(ctx, convert.RequestFrom(r))
	out := convert.Result(res, err)
	hoptrace.At(r.GetCorrelationId(), "bridge-out")
	return out, nil
}

func (s *server) GetState(ctx context.Context, r *pb.GetStateRequest) (*pb.GetStateResponse, error) {
	st, err := s.core.state(ctx, r.GetDeviceId())
	if err != nil {
		return &pb.GetStateResponse{Outcome: &pb.GetStateResponse_Error{Error: convert.Error(model.AsError(err))}}, nil
	}
	return &pb.GetStateResponse{Outcome: &pb.GetStateResponse_State{State: convert.State(st)}}, nil
}

func (s *server) StartPairing(ctx context.Context, r *pb.StartPairingRequest) (*pb.StartPairingResponse, error) {
	if err := s.core.startPairing(ctx, r.GetDuration().AsDuration()); err != nil {
		var de *model.Error
		errors.As(err, &de)
		return &pb.StartPairingResponse{Error: convert.Error(de)}, nil
	}
	return &pb.StartPairingResponse{}, nil
}

func (s *server) RemoveDevice(ctx context.Context, r *pb.RemoveDeviceRequest) (*pb.RemoveDeviceResponse, error) {
	if err := s.core.removeDevice(ctx, r.GetDeviceId()); err != nil {
		return &pb.RemoveDeviceResponse{Error: convert.Error(model.AsError(err))}, nil
	}
	return &pb.RemoveDeviceResponse{}, nil
}
