package router

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa"
)

type discardSender struct{}

func (discardSender) Send(context.Context, []byte) error { return nil }

// reportLatency reports p50 and p99 of the recorded durations.
func reportLatency(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkDirective measures directive → bridge → Response through the router
// with an in-process bridge, against a baseline doing the unavoidable work
// alone (decode with the profile, call the bridge, build the Response) in the
// same run.
func BenchmarkDirective(b *testing.B) {
	p, err := alexa.ProfileByName(alexa.ProfileSmartHome, alexa.ProfileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	reg := discovery.NewRegistry(serial, discovery.WithLogger(quiet()))
	br := &testBridge{}
	br.set(func(_ context.Context, req model.Request) (model.Result, error) {
		return model.Result{Status: model.Done, State: req.Command.Apply(model.State{})}, nil
	})
	r, err := New(Options{Registry: reg, Profile: p, Bridges: bridgeMap{"zb": br}, Events: discardSender{}, Logger: quiet()})
	if err != nil {
		b.Fatal(err)
	}
	r.BridgeEvent("zb", model.Event{Kind: model.EventSnapshot, Devices: []model.Device{
		dev("l1", "Lamp", lightTraits, model.State{On: model.Ptr(false), Brightness: model.Ptr(50)}, true)}})
	d := directive(b, "Alexa.PowerController", "TurnOn", id("l1"), `{}`)
	ctx := context.Background()

	b.Run("baseline", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			e, _ := reg.Get(id("l1"))
			in, err := p.Decode(d, e.Endpoint, e.State)
			if err != nil {
				b.Fatal(err)
			}
			res, _ := br.Execute(ctx, model.Request{DeviceID: "l1", Command: in.Command})
			st := e.State.Merge(res.State)
			if _, err := alexa.NewResponse(d, e.Endpoint.ID, p.Properties(e.Endpoint, st, true, start)); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		reportLatency(b, lat)
	})
	b.Run("router", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			if err := r.HandleDirective(ctx, d); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		reportLatency(b, lat)
	})
	br.mu.Lock()
	br.calls = nil
	br.mu.Unlock()
}
