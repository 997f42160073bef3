package dashboard

import (
	"context"
	"sort"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/discovery/model"
)

// signalExec records when Execute is called and returns at once.
type signalExec chan time.Time

func (s signalExec) Execute(_ context.Context, _ string, cmd model.Command, _ model.Cause) (model.State, error) {
	s <- time.Now()
	return cmd.Apply(model.State{}), nil
}

// BenchmarkCommandToExecute measures a dashboard command's latency from a
// plain MQTT client's publish (QoS 1) to Execute being called, through the
// embedded broker and the publisher's decoding and validation. The baseline,
// measured in the same run on the same broker, is a bare MQTT publish to a
// subscriber's callback.
func BenchmarkCommandToExecute(b *testing.B) {
	tg := benchTarget(b)
	hub := newTestHubB(b)
	exec := make(signalExec, 1)
	p, err := New(Config{Broker: tg, Logger: quiet()}, hub.reg, exec)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	light, _ := hub.reg.Get(model.EndpointID(testSerial, "virtual", "light-1"))
	stateT, setT, _, _, _ := p.Topics(light.Endpoint)
	client := benchDial(b, tg)
	// Wait until the publisher is up (its retained state is there).
	ready := make(chan struct{}, 1)
	client.Subscribe(stateT, 1, func(paho.Client, paho.Message) {
		select {
		case ready <- struct{}{}:
		default:
		}
	}).WaitTimeout(5 * time.Second)
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		b.Fatal("publisher not ready")
	}

	// Baseline: publish → subscriber callback on the same broker.
	echo := make(chan time.Time, 1)
	client.Subscribe("bench/echo", 1, func(paho.Client, paho.Message) { echo <- time.Now() }).WaitTimeout(5 * time.Second)
	base := make([]time.Duration, 0, b.N)
	lat := make([]time.Duration, 0, b.N)
	payloads := []string{`{"brightness":10}`, `{"brightness":90}`}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		client.Publish("bench/echo", 1, false, "x")
		base = append(base, (<-echo).Sub(t0))

		t0 = time.Now()
		client.Publish(setT, 1, false, payloads[i%2])
		lat = append(lat, (<-exec).Sub(t0))
	}
	b.StopTimer()
	b.ReportMetric(pct(lat, 50), "p50-µs")
	b.ReportMetric(pct(lat, 99), "p99-µs")
	b.ReportMetric(pct(base, 50), "baseline-p50-µs")
	b.ReportMetric(pct(base, 99), "baseline-p99-µs")
}

func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return float64(s[i].Microseconds())
}
