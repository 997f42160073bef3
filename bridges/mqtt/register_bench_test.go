package mqtt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/internal/procstat"
	"github.com/avshub/avshub/plugins/sdk"
)

// upsertCounter counts the bridge's Upsert events and signals when it reaches want.
type upsertCounter struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func (c *upsertCounter) BridgeEvent(_ string, ev model.Event) {
	if ev.Kind == model.EventUpsert && c.n.Add(1) == c.want {
		close(c.done)
	}
}

// bulbList is a zigbee2mqtt bridge/devices payload of n dimmable bulbs.
func bulbList(n int) []byte {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"ieee_address":"0x%016x","type":"Router","friendly_name":"bulb %d","supported":true,"disabled":false,`+
			`"definition":{"model":"m","vendor":"v","description":"d","source":"native","exposes":[{"type":"light","features":[`+
			`{"type":"binary","name":"state","property":"state","access":7,"value_on":"ON","value_off":"OFF"},`+
			`{"type":"numeric","name":"brightness","property":"brightness","access":7,"value_min":0,"value_max":254}]}]}}`, 0xa0000000+i, i)
	}
	buf.WriteByte(']')
	return buf.Bytes()
}

// haConfig is the Home Assistant discovery config of light i under base.
func haConfig(base string, i int) string {
	return fmt.Sprintf(`{"name":"Light %d","schema":"json","cmd_t":"%s/l%d/set","stat_t":"%s/l%d/state","brightness":true,`+
		`"uniq_id":"bench_l%d","dev":{"ids":["bench_l%d"],"name":"Light %d"}}`, i, base, i, base, i, i, i, i)
}

// BenchmarkRegisterDevices measures registering n devices (1,000 and 10,000)
// through the MQTT bridge (in process, on the embedded broker): after the
// bridge's first (empty) snapshot, the time until it has emitted an Upsert
// for every new device. ns/device at 1,000 and at 10,000 shows whether the
// cost per device grows with n (linear: the ratio stays near 1, the total
// near 10×).
//
//	z2m-list-N     zigbee2mqtt publishes bridge/devices with n bulbs (the
//	               whole list, as it does after devices joined)
//	ha-configs-N   n Home Assistant discovery configs, one message each
//	baseline-*     the same messages through the same broker to a plain
//	               subscriber (the list also decoded with encoding/json):
//	               the floor, in the same run
func BenchmarkRegisterDevices(b *testing.B) {
	broker := mqtttest.MustStart(b, mqtttest.Options{})
	pub := benchClient(b, broker.URL, "bench-reg-pub")
	for _, n := range []int{1000, 10000} {
		list := bulbList(n)
		b.Run(fmt.Sprintf("baseline-z2m-list-%d", n), func(b *testing.B) {
			sub := benchClient(b, broker.URL, "bench-reg-sub")
			topic := fmt.Sprintf("bench-reg-raw-%d", n)
			got := make(chan int, 1)
			benchSubscribe(b, sub, topic, func(_ paho.Client, m paho.Message) {
				var devs []map[string]any
				_ = json.Unmarshal(m.Payload(), &devs)
				got <- len(devs)
			})
			perDevice(b, n, func() (time.Duration, time.Duration) {
				t0, c0 := time.Now(), procstat.SelfCPU()
				pub.Publish(topic, 1, false, list)
				if k := <-got; k != n {
					b.Fatalf("decoded %d devices, want %d", k, n)
				}
				return time.Since(t0), procstat.SelfCPU() - c0
			})
		})
		b.Run(fmt.Sprintf("z2m-list-%d", n), func(b *testing.B) {
			perDevice(b, n, func() (time.Duration, time.Duration) {
				base := fmt.Sprintf("bench-reg-z2m-%d", time.Now().UnixNano())
				pub.Publish(base+"/bridge/state", 1, true, `{"state":"online"}`).WaitTimeout(time.Minute)
				defer pub.Publish(base+"/bridge/state", 1, true, "").WaitTimeout(time.Minute)
				return registerThroughBridge(b, broker.URL, base, "", n, func() { pub.Publish(base+"/bridge/devices", 1, false, list) })
			})
		})
		b.Run(fmt.Sprintf("baseline-ha-configs-%d", n), func(b *testing.B) {
			sub := benchClient(b, broker.URL, "bench-reg-sub")
			base := fmt.Sprintf("bench-reg-rawha-%d", n)
			var k atomic.Int64
			done := make(chan struct{}, 1)
			benchSubscribe(b, sub, base+"/#", func(paho.Client, paho.Message) {
				if k.Add(1)%int64(n) == 0 {
					done <- struct{}{}
				}
			})
			perDevice(b, n, func() (time.Duration, time.Duration) {
				t0, c0 := time.Now(), procstat.SelfCPU()
				for i := range n {
					pub.Publish(fmt.Sprintf("%s/light/l%d/config", base, i), 1, false, haConfig(base, i))
				}
				<-done
				return time.Since(t0), procstat.SelfCPU() - c0
			})
		})
		b.Run(fmt.Sprintf("ha-configs-%d", n), func(b *testing.B) {
			perDevice(b, n, func() (time.Duration, time.Duration) {
				prefix := fmt.Sprintf("bench-reg-ha-%d", time.Now().UnixNano())
				return registerThroughBridge(b, broker.URL, "", prefix, n, func() {
					for i := range n {
						pub.Publish(fmt.Sprintf("%s/light/l%d/config", prefix, i), 1, false, haConfig(prefix, i))
					}
				})
			})
		})
	}
}

// perDevice runs one b.N times (each registers n devices and returns how
// long that took and the CPU time the benchmark process, broker and publisher
// included, spent meanwhile) and reports the time per device, devices per
// second, and the total time and CPU time per run (on a shared machine the
// times swing with the load; the CPU time much less).
func perDevice(b *testing.B, n int, one func() (time.Duration, time.Duration)) {
	var total, cpu time.Duration
	for i := 0; i < b.N; i++ {
		d, c := one()
		total += d
		cpu += c
	}
	per := float64(total.Nanoseconds()) / float64(b.N) / float64(n)
	b.ReportMetric(per, "ns/device")
	b.ReportMetric(1e9/per, "devices/s")
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "total-ms")
	b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "process-cpu-ms")
	b.ReportMetric(0, "ns/op")
}

// registerThroughBridge starts a bridge on the zigbee2mqtt base topic or the
// HA prefix (the other one off), waits for its first snapshot, then returns
// how long publish and the wait for n Upserts took, and the process's CPU time
// meanwhile (the start is not counted).
func registerThroughBridge(b *testing.B, url, base, prefix string, n int, publish func()) (time.Duration, time.Duration) {
	br := New(quietLog())
	br.settle, br.getDelay = 20*time.Millisecond, time.Hour
	c := &upsertCounter{want: int64(n), done: make(chan struct{})}
	snap := make(chan struct{})
	local := sdk.Local(br, "mqtt", sinkFunc(func(ev model.Event) {
		if ev.Kind == model.EventSnapshot {
			close(snap)
		}
		c.BridgeEvent("mqtt", ev)
	}))
	var cfg string
	if prefix != "" {
		cfg = fmt.Sprintf(`{"broker":%q,"zigbee2mqtt":{"enabled":false},"homeassistant":{"prefix":%q}}`, url, prefix)
	} else {
		cfg = fmt.Sprintf(`{"broker":%q,"zigbee2mqtt":{"baseTopic":%q},"homeassistant":{"enabled":false}}`, url, base)
	}
	if err := local.Start(context.Background(), sdk.Config{JSON: json.RawMessage(cfg)}); err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = local.Close(ctx)
	}()
	select {
	case <-snap:
	case <-time.After(time.Minute):
		b.Fatal("no snapshot")
	}
	t0, c0 := time.Now(), procstat.SelfCPU()
	publish()
	select {
	case <-c.done:
	case <-time.After(10 * time.Minute):
		b.Fatalf("%d of %d devices registered after 10 minutes", c.n.Load(), n)
	}
	return time.Since(t0), procstat.SelfCPU() - c0
}

// sinkFunc is a model.Sink calling f.
type sinkFunc func(model.Event)

func (f sinkFunc) BridgeEvent(_ string, ev model.Event) { f(ev) }
