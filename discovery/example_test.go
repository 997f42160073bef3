package discovery_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/store"
)

// The hub's discovery loop: bridges feed the registry, the manager says what
// Alexa must be told, and each acknowledged report is recorded.
func ExampleManager() {
	reg := discovery.NewRegistry("DSN123")
	st := store.NewMem()
	render := func(ep model.Endpoint) (json.RawMessage, error) { // the hub passes profile.Endpoint
		return json.Marshal(map[string]string{"endpointId": ep.ID, "friendlyName": ep.FriendlyName})
	}
	m, _ := discovery.NewManager(reg, discovery.ManagerOptions{Store: st, Render: render,
		Static: []discovery.StaticEndpoint{{ID: "hub", JSON: json.RawMessage(`{"endpointId":"hub"}`)}}})

	reg.Apply("zigbee", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{
		{Endpoint: model.Endpoint{DeviceID: "00124b0001", FriendlyName: "Hall light"}, Reachable: true},
	}})
	ctx := context.Background()
	for range 2 { // the second pass finds nothing to send
		reports, _ := m.Pending(ctx)
		fmt.Println(len(reports), "report(s)")
		for _, r := range reports {
			fmt.Println(r.Name, len(r.Endpoints), "endpoints")
			_ = m.Delivered(ctx, r) // after Alexa acknowledged it
		}
	}
	// Output:
	// 1 report(s)
	// AddOrUpdateReport 2 endpoints
	// 0 report(s)
}
