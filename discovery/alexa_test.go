package discovery_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa"
	"github.com/avshub/avshub/gateway/alexa/schema"
	"github.com/avshub/avshub/gateway/store"
)

// TestReportsWithRealProfiles renders 350 endpoints with each Alexa profile:
// every report respects the limits, and the AddOrUpdateReports built from
// them (first and last) pass the official schema.
func TestReportsWithRealProfiles(t *testing.T) {
	for _, name := range []string{alexa.ProfileAVS, alexa.ProfileSmartHome} {
		t.Run(name, func(t *testing.T) {
			p, err := alexa.ProfileByName(name, alexa.ProfileOptions{Locales: []string{"en-US", "de-DE", "fr-FR"}})
			if err != nil {
				t.Fatal(err)
			}
			reg := discovery.NewRegistry("DSN", discovery.WithLogger(quietLog()))
			var devs []model.Device
			for i := range 350 {
				devs = append(devs, model.Device{Reachable: true, Endpoint: model.Endpoint{
					DeviceID: fmt.Sprintf("light-%03d", i), FriendlyName: fmt.Sprintf("Light %d", i), Category: model.CategoryLight,
					Manufacturer: "Example", Model: "Bulb", Description: "A colour bulb",
					Traits: model.Traits{OnOff: &model.OnOff{}, Brightness: &model.Brightness{}, Color: &model.Color{},
						ColorTemperature: &model.ColorTemperature{MinKelvin: 2200, MaxKelvin: 6500}}}})
			}
			reg.Apply("zigbee", model.Event{Kind: model.EventSnapshot, Devices: devs})
			m, err := discovery.NewManager(reg, discovery.ManagerOptions{Store: store.NewMem(), Render: p.Endpoint, Logger: quietLog()})
			if err != nil {
				t.Fatal(err)
			}
			reports, err := m.Pending(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for i, r := range reports {
				size := len(r.Endpoints) - 1
				for _, e := range r.Endpoints {
					size += len(e)
				}
				if len(r.Endpoints) > discovery.MaxEndpoints || size > discovery.MaxReportBytes {
					t.Fatalf("report with %d endpoints, %d bytes", len(r.Endpoints), size)
				}
				total += len(r.Endpoints)
				if i != 0 && i != len(reports)-1 {
					continue // the schema check is slow; the first and last reports stand for the others
				}
				ev, err := alexa.NewDiscoveryReport(r.Name, r.Endpoints)
				if err != nil {
					t.Fatal(err)
				}
				ev, err = alexa.WithScopeToken(ev, "test-token")
				if err != nil {
					t.Fatal(err)
				}
				if err := schema.Validate(ev); err != nil {
					t.Fatalf("%s fails the schema: %v", r.Name, err)
				}
			}
			if total != discovery.MaxEndpoints || len(m.Omitted()) != 50 {
				t.Fatalf("published %d, omitted %d; want 300 and 50", total, len(m.Omitted()))
			}
			t.Logf("%s: %d reports for 300 endpoints", name, len(reports))
		})
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
