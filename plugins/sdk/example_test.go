package sdk_test

import (
	"context"
	"fmt"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

// The typed helpers build complete devices: traits, a sensible default state
// and reachability.
func ExampleLight() {
	d := sdk.Light("kitchen", "Kitchen Light", sdk.ExtendedColorLight, sdk.WithInfo("acme", "bulb-9", "colour bulb"))
	ct := d.Endpoint.Traits.ColorTemperature
	fmt.Println(d.Endpoint.Category, d.Endpoint.Traits.Color != nil, ct.MinKelvin, ct.MaxKelvin, *d.State.On, d.Reachable)
	// Output: LIGHT true 2200 6500 false true
}

// The SDK checks every command against the device before the bridge sees it.
func ExampleLocal() {
	b := &oneLamp{}
	snap := make(snapshotSink, 1)
	l := sdk.Local(b, "demo", snap)
	if err := l.Start(context.Background(), sdk.Config{}); err != nil {
		panic(err)
	}
	defer l.Close(context.Background())
	<-snap // the hub has the device set
	_, err := l.Execute(context.Background(), model.Request{DeviceID: "lamp", Command: model.SetBrightness(50)})
	fmt.Println(err)
	res, err := l.Execute(context.Background(), model.Request{DeviceID: "lamp", Command: model.SetPower(true)})
	fmt.Println(res.Status, *res.State.On, err)
	// Output:
	// NOT_SUPPORTED: the endpoint has no brightness trait
	// DONE true <nil>
}

// snapshotSink signals when a snapshot arrives.
type snapshotSink chan struct{}

func (s snapshotSink) BridgeEvent(_ string, ev model.Event) {
	if ev.Kind == model.EventSnapshot {
		s <- struct{}{}
	}
}

// oneLamp is the smallest useful bridge: one on/off lamp.
type oneLamp struct{ on bool }

func (b *oneLamp) Describe() sdk.Description {
	return sdk.Description{Name: "demo", Version: "1.0.0", APIVersions: []string{sdk.APIVersion}}
}
func (b *oneLamp) Configure(context.Context, sdk.Config) error { return nil }
func (b *oneLamp) Run(ctx context.Context, em sdk.Emitter) error {
	em.Health(model.Health{State: model.HealthHealthy})
	em.Snapshot([]model.Device{sdk.Light("lamp", "Lamp", sdk.OnOffLight)})
	<-ctx.Done()
	return nil
}
func (b *oneLamp) Execute(_ context.Context, req model.Request) (model.Result, error) {
	b.on = *req.Command.Power
	return model.Result{Status: model.Done, State: model.State{On: &b.on}}, nil
}
func (b *oneLamp) State(context.Context, string) (model.State, error) {
	return model.State{On: &b.on}, nil
}
