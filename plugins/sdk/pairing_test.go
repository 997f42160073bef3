package sdk

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/avshub/avshub/discovery/model"
	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
)

// joiner is a bridge that pairs and removes: StartPairing reports a window
// and one device joining step by step; RemoveDevice records what it removed.
type joiner struct {
	stub
	em      Emitter
	removed chan string
	refuse  atomic.Bool
}

func (j *joiner) Describe() Description {
	return Description{Name: "joiner", Version: "1.1.0", APIVersions: []string{APIVersion}, Pairing: true,
		PairingProgress: true, Remove: true}
}

func (j *joiner) Run(ctx context.Context, em Emitter) error {
	j.em = em
	return j.stub.Run(ctx, em)
}

func (j *joiner) StartPairing(_ context.Context, d time.Duration) error {
	bulb := Light("bulb", "IKEA bulb", DimmableLight)
	j.em.Pairing(model.Pairing{Stage: model.PairingOpen, Remaining: d})
	j.em.Pairing(model.Pairing{Stage: model.PairingAnnounced, DeviceID: "bulb", Remaining: d})
	j.em.Pairing(model.Pairing{Stage: model.PairingInterviewing, DeviceID: "bulb", Detail: "reading the Basic cluster", Remaining: d})
	j.em.Upsert(bulb)
	j.em.Pairing(model.Pairing{Stage: model.PairingPublished, DeviceID: "bulb", Endpoint: &bulb.Endpoint, Remaining: d})
	return nil
}

func (j *joiner) RemoveDevice(_ context.Context, id string) error {
	if j.refuse.Load() {
		return model.Errorf(model.ErrUnreachable, "%s did not answer the leave request", id)
	}
	j.removed <- id
	return nil
}

// serveGRPC serves b over a real gRPC connection and returns a client on it.
func serveGRPC(t *testing.T, b Bridge) pb.BridgeClient {
	t.Helper()
	srv, stop := NewServer(b)
	gs := grpc.NewServer()
	pb.RegisterBridgeServer(gs, srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(l) }()
	cc, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cc.Close()
		gs.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stop(ctx)
	})
	c := pb.NewBridgeClient(cc)
	if _, err := c.Configure(context.Background(), &pb.ConfigureRequest{ConfigJson: "{}", ApiVersion: APIVersion}); err != nil {
		t.Fatal(err)
	}
	return c
}

// recv reads events until one matches, failing after a few seconds.
func recv(t *testing.T, s grpc.ServerStreamingClient[pb.Event], what string, match func(*pb.Event) bool) *pb.Event {
	t.Helper()
	for {
		ev, err := s.Recv()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if match(ev) {
			return ev
		}
	}
}

func TestPairingProgressAndRemoveOverTheWire(t *testing.T) {
	j := &joiner{stub: stub{devices: []model.Device{Lock("door", "Door")}}, removed: make(chan string, 1)}
	c := serveGRPC(t, j)
	d, err := c.Describe(context.Background(), &pb.DescribeRequest{HubApiVersions: []string{APIVersion}})
	if err != nil {
		t.Fatal(err)
	}
	if caps := d.GetCapabilities(); !caps.GetPairing() || !caps.GetRemove() || !caps.GetPairingProgress() {
		t.Fatalf("capabilities %v, want pairing, remove and pairing progress", caps)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := c.StreamEvents(ctx, &pb.StreamEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	recv(t, stream, "the snapshot", func(ev *pb.Event) bool { return ev.GetSnapshot() != nil })

	if r, err := c.StartPairing(ctx, &pb.StartPairingRequest{Duration: nil}); err != nil || r.GetError() != nil {
		t.Fatalf("StartPairing: %v %v", r, err)
	}
	var stages []pb.PairingStage
	var steps []string
	for len(stages) < 4 {
		ev := recv(t, stream, "pairing progress", func(ev *pb.Event) bool { return ev.GetPairing() != nil || ev.GetUpsert() != nil })
		if p := ev.GetPairing(); p != nil {
			stages = append(stages, p.GetStage())
			steps = append(steps, p.GetDetail())
			if p.GetStage() == pb.PairingStage_PAIRING_STAGE_PUBLISHED && p.GetEndpoint().GetTraits().GetBrightness() == nil {
				t.Errorf("published without its traits: %v", p.GetEndpoint())
			}
		}
	}
	want := []pb.PairingStage{pb.PairingStage_PAIRING_STAGE_OPEN, pb.PairingStage_PAIRING_STAGE_ANNOUNCED,
		pb.PairingStage_PAIRING_STAGE_INTERVIEWING, pb.PairingStage_PAIRING_STAGE_PUBLISHED}
	for i := range want {
		if stages[i] != want[i] {
			t.Fatalf("stages %v, want %v", stages, want)
		}
	}
	if steps[2] != "reading the Basic cluster" {
		t.Errorf("interview step %q", steps[2])
	}

	// Removing: the bridge is asked, then the SDK forgets the device on the stream.
	if r, err := c.RemoveDevice(ctx, &pb.RemoveDeviceRequest{DeviceId: "bulb"}); err != nil || r.GetError() != nil {
		t.Fatalf("RemoveDevice: %v %v", r, err)
	}
	if got := <-j.removed; got != "bulb" {
		t.Fatalf("removed %q", got)
	}
	ev := recv(t, stream, "the Remove event", func(ev *pb.Event) bool { return ev.GetRemove() != nil })
	if ev.GetRemove().GetDeviceId() != "bulb" {
		t.Fatalf("removed %v", ev.GetRemove())
	}
	// A device the bridge does not have, and a bridge that fails: typed errors, the device kept.
	r, err := c.RemoveDevice(ctx, &pb.RemoveDeviceRequest{DeviceId: "bulb"})
	if err != nil || r.GetError().GetKind() != pb.ErrorKind_ERROR_KIND_INVALID_VALUE {
		t.Errorf("removing an unknown device: %v %v", r, err)
	}
	j.refuse.Store(true)
	r, err = c.RemoveDevice(ctx, &pb.RemoveDeviceRequest{DeviceId: "door"})
	if err != nil || r.GetError().GetKind() != pb.ErrorKind_ERROR_KIND_UNREACHABLE {
		t.Errorf("a failed removal: %v %v", r, err)
	}
}

func TestRemoveNotSupported(t *testing.T) {
	l, _ := startLocal(t, &stub{devices: []model.Device{Lock("door", "Door")}})
	if err := l.RemoveDevice(context.Background(), "door"); model.AsError(err).Kind != model.ErrNotSupported {
		t.Errorf("RemoveDevice on a bridge without Remover: %v", err)
	}
	if len(l.Devices()) != 1 {
		t.Errorf("the device was forgotten: %+v", l.Devices())
	}
}

func TestPairingIsNotReplayed(t *testing.T) {
	em := newEmitter()
	em.Snapshot(nil)
	live := em.subscribe()
	em.Pairing(model.Pairing{Stage: model.PairingOpen, Remaining: time.Minute})
	if got := kinds(drain(t, live)); got != "health,snapshot,pairing" {
		t.Fatalf("live stream got %q", got)
	}
	// A stream opened later starts with the device set only: progress is news, not state.
	if got := kinds(drain(t, em.subscribe())); got != "health,snapshot" {
		t.Fatalf("late stream got %q", got)
	}
}
