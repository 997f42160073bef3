package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
	"github.com/avshub/avshub/bridges/mqtt/z2mreal"
	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
	"github.com/avshub/avshub/bridges/zigbee/znpsim"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/avstest"
	"github.com/avshub/avshub/internal/hoptrace"
)

// afWatch timestamps every AF_DATA_REQUEST(_EXT) the coordinator emulator
// reads from its host.
type afWatch struct {
	mu    sync.Mutex
	times []time.Time
	in    []time.Time // AF_INCOMING_MSG written to the host
}

func (w *afWatch) frame(dir znpsim.Direction, f unpi.Frame) {
	if dir == znpsim.HostToZNP && f.Subsystem == unpi.AF && (f.Cmd == mt.AfDataRequest || f.Cmd == mt.AfDataRequestExt) {
		w.mu.Lock()
		w.times = append(w.times, time.Now())
		w.mu.Unlock()
	}
	if dir == znpsim.ZNPToHost && f.Subsystem == unpi.AF && f.Cmd == mt.AfIncomingMsg {
		w.mu.Lock()
		w.in = append(w.in, time.Now())
		w.mu.Unlock()
	}
}

// firstInAfter is the first AF_INCOMING_MSG written at or after t0.
func (w *afWatch) firstInAfter(t0 time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.in {
		if !t.Before(t0) {
			return t, true
		}
	}
	return time.Time{}, false
}

// firstAfter is the first AF_DATA_REQUEST read at or after t0.
func (w *afWatch) firstAfter(t0 time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.times {
		if !t.Before(t0) {
			return t, true
		}
	}
	return time.Time{}, false
}

// procCPU is the user+system CPU time of pid and its child processes (the
// hub's bridge plugins), from /proc.
func procCPU(pid int) time.Duration {
	var ticks int64
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from 3 (state) on
		if len(f) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if p != pid && ppid != pid {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += ut + st
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}

// sideBySide collects one path's figures.
type sideBySide struct {
	toWire, total []time.Duration
	fromDevice    []time.Duration // the device's answer on the line → the end
	cpu           time.Duration
}

func (s *sideBySide) report(b *testing.B) (p50 float64) {
	p50, p99 := percentiles(s.total)
	w50, w99 := percentiles(s.toWire)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(w50, "wire-p50-ms")
	b.ReportMetric(w99, "wire-p99-ms")
	b.ReportMetric(float64(s.cpu)/float64(time.Millisecond)/float64(len(s.total)), "cpu-ms/cmd")
	d50, d99 := percentiles(s.fromDevice)
	b.ReportMetric(d50, "back-p50-ms")
	b.ReportMetric(d99, "back-p99-ms")
	return p50
}

// BenchmarkTurnOnSideBySide drives one Hue bulb on one coordinator emulator,
// in one run, first through avshub, then through the real zigbee2mqtt:
//
//   - "avshub": an Alexa PowerController directive from the AVS emulator →
//     hub → go-plugin → bridge-zigbee → AF_DATA_REQUEST on the pty
//     ("wire-*"), and on to the Alexa.Response the emulator receives
//     (p50/p99); CPU is the avshub process and its bridge processes.
//   - "zigbee2mqtt": `zigbee2mqtt/<bulb>/set` published → AF_DATA_REQUEST on
//     the pty ("wire-*"), and on to the state zigbee2mqtt publishes (p50/p99);
//     CPU is the node process.
//
// The bulb is switched on and off alternately (each command changes it).
// znpsim's radio latency is 1 ns, so both are software cost. The broker and
// the AVS emulator run in the test process and are counted in neither.
//
//	go test -run '^$' -bench TurnOnSideBySide -benchtime 200x ./gateway/hub/
func BenchmarkTurnOnSideBySide(b *testing.B) {
	z2mreal.Require(b)
	var af afWatch
	r := startZigbeeSim(b, func(o *znpsim.Options) { o.Latency = benchZNPLatency; o.OnFrame = af.frame })
	var hue string
	for _, d := range r.sim.Devices() {
		if d.Type == "hue-color-bulb" {
			hue = d.IEEE
		}
	}
	bulbOn := func() bool {
		for _, d := range r.sim.Devices() {
			if d.IEEE == hue {
				return d.Attributes["onOff"] != 0
			}
		}
		return false
	}

	// avshub
	// The AVS emulator stands for Amazon's cloud, as the MQTT client stands
	// for zigbee2mqtt's consumer: it does not validate the events here (every
	// test does; see BenchmarkDirectiveRoundTrip's hub-novalidate).
	e := newEnv(b, envOptions{ExtraBridges: zigbeeBridgeYAML(r.link),
		Emulator: func(eo *avstest.Options) { eo.Validate = func([]byte) error { return nil } }})
	hops := hopTrace(b)
	hub := e.startDaemon()
	ctx := ctxFor(b, 60*time.Second) // setup only
	api := e.waitDaemonBridge(ctx, "zigbee")
	if err := api.Pair(ctx, "zigbee", time.Minute); err != nil {
		b.Fatalf("pair: %v", err)
	}
	for _, ieee := range r.ids {
		e.waitDaemonEndpoint(ctx, "zigbee", func(ep model.Endpoint) bool { return ep.DeviceID == ieee })
	}
	var avshubP50 float64 // the avshub half's p50, for the ratio
	b.Run("avshub", func(b *testing.B) {
		var s sideBySide
		names := []string{"TurnOn", "TurnOff"}
		one := func(i int) (time.Duration, time.Duration, error) {
			name := names[i%2]
			t0 := time.Now()
			res, err := e.emu.SendDirective(context.Background(), avstest.DirectiveRequest{Namespace: "Alexa.PowerController", Name: name,
				EndpointID: zid(hue), Payload: []byte("{}")}, true)
			total := time.Since(t0)
			if err != nil || !res.Complete || len(res.Events) == 0 {
				return 0, 0, fmt.Errorf("%s: %v", name, err)
			}
			key := hopMark(res.Directive, t0)
			p, err := parseEvent(res.Events[len(res.Events)-1])
			if err != nil || p.Header.Name != "Response" {
				return 0, 0, fmt.Errorf("%s answered %+v (%v)", name, p.Header, err)
			}
			w, ok := af.firstAfter(t0)
			if !ok || bulbOn() != (i%2 == 0) {
				return 0, 0, fmt.Errorf("%s: no AF_DATA_REQUEST (%v) or the bulb did not follow", name, ok)
			}
			hoptrace.AtTime(key, "stick-af-req", w)
			if in, ok := af.firstInAfter(w); ok {
				hoptrace.AtTime(key, "stick-answer", in)
			}
			return w.Sub(t0), total, nil
		}
		for i := 0; i < 2; i++ {
			if _, _, err := one(i); err != nil {
				b.Fatalf("warm-up: %v", err)
			}
		}
		c0 := procCPU(hub.cmd.Process.Pid)
		ev0 := len(e.emu.Events())
		stopPerf := perfRecord(b, append(childPIDs(hub.cmd.Process.Pid), hub.cmd.Process.Pid)...)
		stopStat := perfStat(b, map[string][]int{"hub": {hub.cmd.Process.Pid}, "bridges": childPIDs(hub.cmd.Process.Pid)})
		b.ResetTimer()
		for i := range b.N {
			t0now := time.Now()
			w, t, err := one(i)
			if err != nil {
				b.Fatalf("command %d: %v", i, err)
			}
			s.toWire, s.total = append(s.toWire, w), append(s.total, t)
			if in, ok := af.firstInAfter(t0now.Add(w)); ok {
				s.fromDevice = append(s.fromDevice, t-in.Sub(t0now))
			}
		}
		b.StopTimer()
		stopPerf()
		stopStat(b.N)
		hops()
		s.cpu = procCPU(hub.cmd.Process.Pid) - c0
		avshubP50 = s.report(b)
		for _, r := range e.emu.Events()[ev0:] { // one Response per directive, nothing else (no ChangeReport)
			if r.Name() != "Alexa.Response" {
				b.Fatalf("unexpected event during the run: %s", r.Name())
			}
		}
	})
	hub.stop()

	// zigbee2mqtt, on the same emulated stick (it forms its own network there
	// and the devices join it).
	broker := mqtttest.MustStart(b, mqtttest.Options{})
	// Its default log level (info) but without a line per MQTT message.
	z := z2mreal.MustStart(b, z2mreal.Config{Serial: r.link, MQTT: broker.URL, LogLevel: "info",
		Settings: map[string]any{"advanced": map[string]any{"log_namespaced_levels": map[string]any{"z2m:mqtt": "warning"}}}})
	topic := "zigbee2mqtt/0x" + hue
	states := make(chan string, 64)
	devicesReady := make(chan struct{})
	var once sync.Once
	c2, in2 := benchMQTTClient(b, broker.URL, topic)
	_, devs := benchMQTTClient(b, broker.URL, "zigbee2mqtt/bridge/devices")
	go func() {
		for p := range devs {
			var list []struct {
				IEEE  string `json:"ieee_address"`
				State string `json:"interview_state"`
			}
			if json.Unmarshal(p, &list) == nil {
				for _, d := range list {
					if d.IEEE == "0x"+hue && d.State == "SUCCESSFUL" {
						once.Do(func() { close(devicesReady) })
					}
				}
			}
		}
	}()
	go func() {
		for p := range in2 {
			var st struct{ State string }
			if json.Unmarshal(p, &st) == nil && st.State != "" {
				select {
				case states <- st.State:
				default:
				}
			}
		}
	}()
	if err := mqttPublish(c2, "zigbee2mqtt/bridge/request/permit_join", []byte(`{"time": 254}`)); err != nil {
		b.Fatal(err)
	}
	select {
	case <-devicesReady:
	case <-time.After(2 * time.Minute):
		b.Fatalf("zigbee2mqtt did not interview the bulb:\n%s", z.Output())
	}
	b.Run("zigbee2mqtt", func(b *testing.B) {
		var s sideBySide
		one := func(i int) (time.Duration, time.Duration, error) {
			want := map[bool]string{true: "ON", false: "OFF"}[i%2 == 0]
			for len(states) > 0 {
				<-states
			}
			t0 := time.Now()
			if err := mqttPublish(c2, topic+"/set", []byte(`{"state":"`+want+`"}`)); err != nil {
				return 0, 0, err
			}
			timeout := time.After(10 * time.Second)
			for {
				select {
				case got := <-states:
					if got != want {
						continue
					}
					total := time.Since(t0)
					w, ok := af.firstAfter(t0)
					if !ok || bulbOn() != (i%2 == 0) {
						return 0, 0, fmt.Errorf("%s: no AF_DATA_REQUEST (%v) or the bulb did not follow", want, ok)
					}
					return w.Sub(t0), total, nil
				case <-timeout:
					return 0, 0, fmt.Errorf("%s: zigbee2mqtt published no state", want)
				}
			}
		}
		for i := 0; i < 2; i++ {
			if _, _, err := one(i); err != nil {
				b.Fatalf("warm-up: %v", err)
			}
		}
		pid := z.PID()
		c0 := procCPU(pid)
		stopPerf := perfRecord(b, pid)
		stopStat := perfStat(b, map[string][]int{"node": {pid}})
		b.ResetTimer()
		for i := range b.N {
			t0now := time.Now()
			w, t, err := one(i)
			if err != nil {
				b.Fatalf("command %d: %v", i, err)
			}
			s.toWire, s.total = append(s.toWire, w), append(s.total, t)
			if in, ok := af.firstInAfter(t0now.Add(w)); ok {
				s.fromDevice = append(s.fromDevice, t-in.Sub(t0now))
			}
		}
		b.StopTimer()
		stopPerf()
		stopStat(b.N)
		s.cpu = procCPU(pid) - c0
		if p50 := s.report(b); avshubP50 > 0 {
			b.ReportMetric(avshubP50/p50, "avshub-p50-x-z2m") // goal (issue 12): < 1
		}
	})
}
