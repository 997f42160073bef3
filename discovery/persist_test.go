package discovery_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/store"
)

var _ discovery.Store = (*store.Bolt)(nil)
var _ discovery.Store = (*store.Mem)(nil)

// TestRestartWithBolt runs the registry and manager over a real bbolt data
// directory: after a restart with nothing changed, nothing is sent.
func TestRestartWithBolt(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	render := func(ep model.Endpoint) (json.RawMessage, error) {
		return json.Marshal(map[string]any{"endpointId": ep.ID, "friendlyName": ep.FriendlyName})
	}
	snapshot := model.Event{Kind: model.EventSnapshot, Devices: []model.Device{
		{Endpoint: model.Endpoint{DeviceID: "a", FriendlyName: "Lamp", Category: model.CategoryLight,
			Traits: model.Traits{OnOff: &model.OnOff{}}}, State: model.State{On: model.Ptr(true)}, Reachable: true},
		{Endpoint: model.Endpoint{DeviceID: "b", FriendlyName: "lamp"}, Reachable: true},
	}}
	run := func(apply func(r *discovery.Registry)) int {
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		reg := discovery.NewRegistry("DSN", discovery.WithStore(st), discovery.WithLogger(log))
		m, err := discovery.NewManager(reg, discovery.ManagerOptions{Store: st, Render: render, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		apply(reg)
		reports, err := m.Pending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range reports {
			n += len(r.Endpoints)
			if err := m.Delivered(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	if n := run(func(r *discovery.Registry) { r.Apply("zb", snapshot) }); n != 2 {
		t.Fatalf("first run published %d endpoints, want 2", n)
	}
	if n := run(func(*discovery.Registry) {}); n != 0 {
		t.Fatalf("restart before the bridge reports sent %d endpoints", n)
	}
	if n := run(func(r *discovery.Registry) { r.Apply("zb", snapshot) }); n != 0 {
		t.Fatalf("restart with nothing changed sent %d endpoints", n)
	}
}
