package sdk

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/avshub/avshub/discovery/model"
	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
	"github.com/avshub/avshub/plugins/proto/bridge/v1/convert"
)

// wireEvents reads a wire subscription's queued events as the gRPC server
// sends them (StreamEvents).
func wireEvents(t *testing.T, s *subscription) []*pb.Event {
	t.Helper()
	var out []*pb.Event
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		q, ok := s.nextQueued(ctx)
		cancel()
		if !ok {
			return out
		}
		ev := convert.Event(q.ev)
		if q.snap != nil {
			ev.Kind = &pb.Event_Snapshot{Snapshot: q.snap}
		}
		out = append(out, ev)
	}
}

// A wire stream's snapshot, built straight from the device set, is the
// snapshot a model stream gets, converted: at the broadcast, to a stream
// opened later, and after a queue overrun; and it is the set as it was when
// broadcast, not as it is when sent.
func TestWireSnapshotMatchesModel(t *testing.T) {
	em := newEmitter()
	at := time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC)
	em.now = func() time.Time { return at }
	wire, plain := em.subscribeWire(), em.subscribe()
	devs := []model.Device{
		Light("l", "Lamp", ColorLight, WithState(model.State{On: model.Ptr(true), Brightness: model.Ptr(40)})),
		TemperatureSensor("t", "Thermo", 21.5),
		Lock("k", "Door"),
	}
	em.Snapshot(devs)
	em.StateChanged("t", model.State{Temperature: model.Ptr(22.0)}, model.CausePhysical)
	em.Remove("k")

	check := func(name string, w *subscription, p *subscription) {
		t.Helper()
		got := wireEvents(t, w)
		var want []*pb.Event
		for _, ev := range drain(t, p) {
			want = append(want, convert.Event(ev))
		}
		if len(got) != len(want) {
			t.Fatalf("%s: wire stream has %d events, model stream %d", name, len(got), len(want))
		}
		snaps := 0
		for i := range got {
			if !proto.Equal(got[i], want[i]) {
				t.Errorf("%s: event %d on the wire\n%v\nwant\n%v", name, i, got[i], want[i])
			}
			if n := len(got[i].GetSnapshot().GetDevices()); n > 0 {
				snaps++
			}
		}
		if snaps != 1 {
			t.Errorf("%s: %d non-empty snapshots, want 1", name, snaps)
		}
	}
	check("at the broadcast", wire, plain)
	check("opened later", em.subscribeWire(), em.subscribe())

	// Overrun: both queues collapse into Health + Snapshot of the current set.
	for i := range maxQueue + 1 {
		em.StateChanged("t", model.State{Temperature: model.Ptr(float64(i))}, model.CausePoll)
	}
	check("after an overrun", wire, plain)
}
