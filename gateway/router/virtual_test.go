package router

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa"
	"github.com/avshub/avshub/plugins/sdk"
)

// TestVirtualBridge runs the router against the virtual bridge through
// sdk.Local: the same model.Bridge and Sink wiring the plugin host uses.
func TestVirtualBridge(t *testing.T) {
	p, err := alexa.ProfileByName(alexa.ProfileSmartHome, alexa.ProfileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reg := discovery.NewRegistry(serial, discovery.WithLogger(quiet()))
	rec := newRecorder(t)
	bridges := bridgeMap{}
	r, err := New(Options{Registry: reg, Profile: p, Bridges: bridges, Events: rec, Logger: quiet(),
		Timeout: 2 * time.Second, DeferredTimeout: 5 * time.Second, CoalesceWindow: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()

	lb := sdk.Local(virtual.New(quiet()), "virtual", r)
	bridges["virtual"] = lb
	cfg, _ := json.Marshal(virtual.Config{LockDelay: virtual.Duration(30 * time.Millisecond), Devices: []virtual.DeviceConfig{
		{ID: "lamp", Name: "Lamp", Type: virtual.TypeLight},
		{ID: "door", Name: "Door", Type: virtual.TypeLock},
		{ID: "shed", Name: "Shed", Type: virtual.TypeLock, Jammed: true},
		{ID: "porch", Name: "Porch", Type: virtual.TypeLight, Unreachable: true},
	}})
	if err := lb.Start(ctx, sdk.Config{JSON: cfg, DataDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lb.Close(context.Background()) }()
	vid := func(dev string) string { return model.EndpointID(serial, "virtual", dev) }
	waitFor(t, func() bool { _, ok := reg.Get(vid("porch")); return ok })

	tests := []struct {
		ns, name, device string
		want             []string // event name or ErrorResponse type, in order
	}{
		{"Alexa.PowerController", "TurnOn", "lamp", []string{"Response"}},
		{"Alexa.LockController", "Unlock", "door", []string{"DeferredResponse", "Response"}},
		{"Alexa.LockController", "Unlock", "shed", []string{"DeferredResponse", "HARDWARE_MALFUNCTION"}},
		{"Alexa.PowerController", "TurnOn", "porch", []string{"ENDPOINT_UNREACHABLE"}},
		{"Alexa", "ReportState", "lamp", []string{"StateReport"}},
	}
	for _, tt := range tests {
		d := directive(t, tt.ns, tt.name, vid(tt.device), "{}")
		if err := r.HandleDirective(ctx, d); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			ev := rec.next(t)
			for ev.Name == "ChangeReport" { // the jammed lock's state change may be reported
				ev = rec.next(t)
			}
			got := ev.Name
			if got == "ErrorResponse" {
				got = ev.Type
			}
			if got != w || ev.Token != d.Header.CorrelationToken {
				t.Fatalf("%s.%s %s: got %s, want %s\n%s", tt.ns, tt.name, tt.device, got, w, ev.Raw)
			}
		}
	}
}
