package mqtt

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/internal/procstat"
	"github.com/avshub/avshub/internal/testbuild"
	"github.com/avshub/avshub/plugins/host"
)

// snapshotSink records when the first snapshot arrives and how many devices it has.
type snapshotSink struct {
	once    sync.Once
	done    chan struct{}
	at      time.Time
	devices int
}

func (s *snapshotSink) BridgeEvent(_ string, ev model.Event) {
	if ev.Kind == model.EventSnapshot {
		s.once.Do(func() { s.at, s.devices = time.Now(), len(ev.Devices); close(s.done) })
	}
}

// listSent is a broker hook that records when the broker starts sending a
// retained bridge/devices to a subscriber (queued on the subscriber's
// connection; the write begins at once): the moment the list arrives.
type listSent struct {
	mochi.HookBase
	mu sync.Mutex
	at map[string]time.Time // topic → first send
}

func (h *listSent) ID() string { return "bench-list-sent" }

func (h *listSent) Provides(b byte) bool { return b == mochi.OnRetainPublished }

func (h *listSent) OnRetainPublished(_ *mochi.Client, pk packets.Packet) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.at[pk.TopicName]; !ok && len(pk.Payload) > 0 {
		h.at[pk.TopicName] = time.Now()
	}
}

// when returns when the broker first sent topic's retained message.
func (h *listSent) when(topic string) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.at[topic]
	return t, ok
}

// BenchmarkImportDeviceList measures the MQTT bridge as shipped (`avshub
// bridge mqtt`, started by the plugin host's supervisor with the GOGC and
// GOMEMLIMIT the hub gives its bundled MQTT bridge, gateway/hub/bundled.go)
// importing zigbee2mqtt's retained bridge/devices from the embedded broker
// (in the benchmark process). Its figures:
//
//	list-to-snapshot-ms    the import's wall time: from the broker starting
//	                       to send the list to the bridge (a hook on the
//	                       broker) to the bridge's first snapshot at the host
//	launch-to-snapshot-ms  from launching the process to that snapshot (the
//	                       process start, go-plugin's handshake, the MQTT
//	                       connection and subscription, then the import)
//	bridge-cpu-ms          the process's CPU time by the snapshot
//	peak-rss-MB            its peak RSS (VmHWM) by then
//
// On a shared machine the times swing with the load; the CPU time much less.
//
//	definitions  one device for every definition zigbee2mqtt 2.14.1 knows
//	             (testdata/coverage/gen.js, or $AVSHUB_COVERAGE_DEVICES)
//	baseline     the same launch with z2m-sim's 12-device list: the floor
//	             (exec, go-plugin handshake, connect, subscribe, the sync
//	             marker coming back) in the same run
//
// launch-to-snapshot-ms minus the baseline's is what the list itself costs
// end to end; list-to-snapshot-ms is the import alone.
func BenchmarkImportDeviceList(b *testing.B) {
	big := coverageDevices(b)
	exe := filepath.Join(b.TempDir(), "avshub")
	if err := testbuild.Build(context.Background(), "", exe, "../../cmd/avshub"); err != nil {
		b.Fatal(err)
	}
	broker := mqtttest.MustStart(b, mqtttest.Options{})
	sent := &listSent{at: map[string]time.Time{}}
	if err := broker.Server().AddHook(sent, nil); err != nil {
		b.Fatal(err)
	}
	pub := benchClient(b, broker.URL, "bench-import")
	for _, c := range []struct {
		name    string
		payload []byte
	}{{"baseline-z2msim", z2msim.BridgeDevices()}, {"definitions", big}} {
		z := newZ2MSource("zigbee2mqtt", newOnceLog(quietLog()))
		z.handle("zigbee2mqtt/bridge/devices", c.payload)
		want := len(z.units())
		b.Run(c.name, func(b *testing.B) {
			var total, list, cpu time.Duration
			var peak int64
			for i := 0; i < b.N; i++ {
				base := fmt.Sprintf("import-%s-%d-%d", c.name, i, time.Now().UnixNano())
				if t := pub.Publish(base+"/bridge/state", 1, true, `{"state":"online"}`); !t.WaitTimeout(time.Minute) || t.Error() != nil {
					b.Fatalf("publish state: %v", t.Error())
				}
				if t := pub.Publish(base+"/bridge/devices", 1, true, c.payload); !t.WaitTimeout(time.Minute) || t.Error() != nil {
					b.Fatalf("publish devices: %v", t.Error())
				}
				launch, snap, c, hwm := importOnce(b, exe, broker.URL, base, want)
				arrived, ok := sent.when(base + "/bridge/devices")
				if !ok || arrived.Before(launch) || arrived.After(snap) {
					b.Fatalf("the broker sent the list at %v (ok %v), outside launch %v .. snapshot %v", arrived, ok, launch, snap)
				}
				total += snap.Sub(launch)
				list += snap.Sub(arrived)
				cpu += c
				peak = max(peak, hwm)
				pub.Publish(base+"/bridge/devices", 1, true, "").WaitTimeout(time.Minute)
				pub.Publish(base+"/bridge/state", 1, true, "").WaitTimeout(time.Minute)
			}
			b.ReportMetric(float64(total.Microseconds())/1e3/float64(b.N), "launch-to-snapshot-ms")
			b.ReportMetric(float64(list.Microseconds())/1e3/float64(b.N), "list-to-snapshot-ms")
			b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "bridge-cpu-ms")
			b.ReportMetric(float64(peak)/1024, "peak-rss-MB")
			b.ReportMetric(float64(len(c.payload))/1e6, "list-MB")
			b.ReportMetric(float64(want), "devices")
			b.ReportMetric(0, "ns/op") // list-to-snapshot-ms is the figure; ns/op includes publishing the list
		})
	}
}

// importOnce launches the bridge on base, waits for its first snapshot (want
// devices) and returns when it launched it, when the snapshot arrived, the
// process's CPU time and its peak RSS in kB.
func importOnce(b *testing.B, exe, url, base string, want int) (launched, snapshot time.Time, cpu time.Duration, hwm int64) {
	sink := &snapshotSink{done: make(chan struct{})}
	cfg := fmt.Sprintf(`{"broker":%q,"zigbee2mqtt":{"baseTopic":%q},"homeassistant":{"enabled":false}}`, url, base)
	s, err := host.New(host.Config{Name: "mqtt", Path: exe, Args: []string{"bridge", "mqtt"},
		Env: []string{"GOGC=50", "GOMEMLIMIT=48MiB"}, Config: []byte(cfg), DataDir: b.TempDir(), Sink: sink, Logger: quietLog()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	start := time.Now()
	go func() { ended <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-ended; err != nil {
			b.Errorf("supervisor: %v", err)
		}
	}()
	select {
	case <-sink.done:
	case <-time.After(3 * time.Minute):
		b.Fatalf("no snapshot after 3 minutes: %+v", s.Status())
	}
	if sink.devices != want {
		b.Fatalf("snapshot of %d devices, want %d", sink.devices, want)
	}
	pid := s.Status().PID
	if hwm, err = procstat.StatusKB(pid, "VmHWM"); err != nil {
		b.Fatal(err)
	}
	if cpu, err = procstat.CPU(pid); err != nil {
		b.Fatal(err)
	}
	return start, sink.at, cpu, hwm
}
