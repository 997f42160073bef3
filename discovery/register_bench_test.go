package discovery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/store"
)

// BenchmarkRegister measures what registering n devices costs the hub's
// discovery side: the registry over a real bbolt store, the Manager watching it
// and a loop that, like the AVS connection, computes Pending and records what
// was delivered whenever the Manager signals a change. Devices arrive one by one
// (Upsert after an empty snapshot, as zigbee2mqtt reports devices as they join or
// as bridge-mqtt emits them after its snapshot) or in one snapshot. ns/device at
// 1,000 and at 10,000 shows whether the cost per device grows with n (linear
// time: it stays flat).
//
// The baseline, in the same run, is the store's own floor: one bbolt write (and
// its fsync) per device, which is what the registry does per Upsert to remember
// the device across a restart.
func BenchmarkRegister(b *testing.B) {
	b.Run("baseline-bolt-write-1000", func(b *testing.B) {
		var total time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			st, err := store.Open(b.TempDir(), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			for j := range 1000 {
				if err := st.Update(discovery.EndpointsBucket, map[string][]byte{fmt.Sprint(j): []byte(`{"endpoint":{}}`)}, nil); err != nil {
					b.Fatal(err)
				}
			}
			total += time.Since(start)
			b.StopTimer()
			st.Close()
			b.StartTimer()
		}
		per := float64(total.Nanoseconds()) / float64(b.N) / 1000
		b.ReportMetric(per, "ns/device")
		b.ReportMetric(1e9/per, "devices/s")
	})
	for _, mode := range []string{"upserts", "snapshot"} {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%s-%d", mode, n), func(b *testing.B) {
				var total time.Duration
				for i := 0; i < b.N; i++ {
					total += registerOnce(b, mode, n)
				}
				per := float64(total.Nanoseconds()) / float64(b.N) / float64(n)
				b.ReportMetric(per, "ns/device")
				b.ReportMetric(1e9/per, "devices/s")
			})
		}
	}
}

func registerOnce(b *testing.B, mode string, n int) time.Duration {
	b.StopTimer()
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	log := quietLog()
	reg := discovery.NewRegistry("S", discovery.WithStore(st), discovery.WithLogger(log))
	render := func(ep model.Endpoint) (json.RawMessage, error) {
		return json.Marshal(map[string]any{"endpointId": ep.ID, "friendlyName": ep.FriendlyName,
			"description": ep.Description, "displayCategories": []string{"LIGHT"}})
	}
	m, err := discovery.NewManager(reg, discovery.ManagerOptions{Store: st, Render: render, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = m.Run(ctx) }()
	done := make(chan struct{})
	go func() { // the connection's publish loop
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-m.Changed():
			}
			rs, err := m.Pending(ctx)
			if err != nil {
				return
			}
			for _, r := range rs {
				_ = m.Delivered(ctx, r)
			}
		}
	}()
	devs := make([]model.Device, n)
	for i := range devs {
		devs[i] = model.Device{Endpoint: model.Endpoint{DeviceID: fmt.Sprintf("0x%016x", i),
			FriendlyName: fmt.Sprintf("Light %d", i), Category: model.CategoryLight,
			Traits: model.Traits{OnOff: &model.OnOff{}}}, State: model.State{On: model.Ptr(i%2 == 0)}, Reachable: true}
	}
	b.StartTimer()
	start := time.Now()
	switch mode {
	case "snapshot":
		reg.Apply("z2m", model.Event{Kind: model.EventSnapshot, Devices: devs})
	default:
		reg.Apply("z2m", model.Event{Kind: model.EventSnapshot})
		for i := range devs {
			reg.Apply("z2m", model.Event{Kind: model.EventUpsert, Device: &devs[i]})
		}
	}
	// Registered: every device in the registry and Alexa's view up to date.
	for {
		if reg.Len() == n {
			rs, err := m.Pending(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if len(rs) == 0 {
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	el := time.Since(start)
	b.StopTimer()
	cancel()
	<-done
	return el
}
