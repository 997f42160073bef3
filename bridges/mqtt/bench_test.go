package mqtt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/internal/cleanstore"
	"github.com/avshub/avshub/plugins/sdk"
)

// latencies collects samples and reports p50 and p99 in microseconds.
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	b.ReportMetric(float64(l[len(l)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(l[len(l)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(0, "ns/op") // the percentiles are the figures; ns/op includes set-up waits
}

func benchClient(b *testing.B, url, id string) paho.Client {
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).SetOrderMatters(false).SetStore(cleanstore.New()))
	if t := c.Connect(); !t.WaitTimeout(5*time.Second) || t.Error() != nil {
		b.Fatalf("connect: %v", t.Error())
	}
	b.Cleanup(func() { c.Disconnect(50) })
	return c
}

func benchSubscribe(b *testing.B, c paho.Client, topic string, h paho.MessageHandler) {
	if t := c.Subscribe(topic, 1, h); !t.WaitTimeout(5*time.Second) || t.Error() != nil {
		b.Fatalf("subscribe: %v", t.Error())
	}
}

// chanSink forwards state events to a channel.
type chanSink struct{ states chan time.Time }

func (s chanSink) BridgeEvent(_ string, ev model.Event) {
	if ev.Kind == model.EventState {
		select {
		case s.states <- time.Now():
		default:
		}
	}
}

// BenchmarkLatency measures, on one embedded broker in one run: a raw MQTT
// publish→receive round trip (the baseline), a directive → /set published,
// and a device state message → StateChanged emitted by the bridge.
func BenchmarkLatency(b *testing.B) {
	broker, err := mqtttest.Start(mqtttest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer broker.Close()
	pub := benchClient(b, broker.URL, "bench-pub")
	sub := benchClient(b, broker.URL, "bench-sub")

	b.Run("raw-publish-receive", func(b *testing.B) {
		got := make(chan time.Time, 1)
		benchSubscribe(b, sub, "bench/raw", func(paho.Client, paho.Message) { got <- time.Now() })
		var l latencies
		for b.Loop() {
			t0 := time.Now()
			pub.Publish("bench/raw", 1, false, "x")
			l = append(l, (<-got).Sub(t0))
		}
		l.report(b)
	})

	// A zigbee2mqtt with one bulb, played by the test: it echoes every /set.
	base := "benchz2m"
	devices := `[{"ieee_address":"0x0000000000000001","type":"Router","friendly_name":"bulb","supported":true,"disabled":false,
		"definition":{"model":"m","vendor":"v","description":"d","source":"native","exposes":[{"type":"light","features":[
		{"type":"binary","name":"state","property":"state","access":7,"value_on":"ON","value_off":"OFF"},
		{"type":"numeric","name":"brightness","property":"brightness","access":7,"value_min":0,"value_max":254}]}]}}]`
	if t := pub.Publish(base+"/bridge/devices", 1, true, devices); !t.WaitTimeout(5 * time.Second) {
		b.Fatal("publish devices")
	}
	sets := make(chan time.Time, 1)
	benchSubscribe(b, sub, base+"/bulb/set", func(c paho.Client, m paho.Message) {
		sets <- time.Now()
		var p map[string]any
		_ = json.Unmarshal(m.Payload(), &p)
		echo, _ := json.Marshal(p)
		c.Publish(base+"/bulb", 1, false, echo)
	})
	br := New(quietLog())
	br.settle, br.getDelay = 20*time.Millisecond, time.Hour
	sink := chanSink{states: make(chan time.Time, 1)}
	local := sdk.Local(br, "mqtt", sink)
	cfg := fmt.Sprintf(`{"broker":%q,"zigbee2mqtt":{"baseTopic":%q},"homeassistant":{"enabled":false}}`, broker.URL, base)
	if err := local.Start(context.Background(), sdk.Config{JSON: json.RawMessage(cfg)}); err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = local.Close(ctx)
	}()
	const id = "z2m:0x0000000000000001"
	deadline := time.Now().Add(10 * time.Second)
	for {
		ready := false
		for _, d := range local.Devices() {
			ready = ready || (d.Endpoint.DeviceID == id && d.Reachable)
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the bridge did not see the bulb")
		}
		time.Sleep(10 * time.Millisecond) // set-up only, outside the measurements
	}

	b.Run("directive-to-set-published", func(b *testing.B) {
		var l latencies
		var mu sync.Mutex
		level := 0
		for b.Loop() {
			level = level%100 + 1
			t0 := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := local.Execute(ctx, model.Request{CorrelationID: "b", DeviceID: id, Command: model.SetBrightness(level), Deadline: time.Now().Add(4 * time.Second)})
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			mu.Lock()
			l = append(l, (<-sets).Sub(t0))
			mu.Unlock()
			drain(sink.states)
		}
		l.report(b)
	})

	b.Run("state-message-to-StateChanged", func(b *testing.B) {
		var l latencies
		// Alternate 10 % and 90 %, starting from 50 %, so every message is a change.
		pub.Publish(base+"/bulb", 1, false, `{"state":"ON","brightness":127}`).WaitTimeout(time.Second)
		select {
		case <-sink.states:
		case <-time.After(time.Second):
		}
		level := 229
		for b.Loop() {
			level = 254 - level
			drain(sink.states)
			t0 := time.Now()
			pub.Publish(base+"/bulb", 1, false, fmt.Sprintf(`{"state":"ON","brightness":%d}`, level))
			select {
			case t1 := <-sink.states:
				l = append(l, t1.Sub(t0))
			case <-time.After(5 * time.Second):
				b.Fatal("no StateChanged")
			}
		}
		l.report(b)
	})
}

func drain(c chan time.Time) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}
