package hub

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/bridges/zigbee/znpsim"
	"github.com/avshub/avshub/internal/procstat"
)

// BenchmarkIdleFootprint measures the memory and the idle CPU of the avshub
// daemon (the binary TestMain built) and its three bundled bridges with the
// demo's configuration (cmd/avshub-demo): the hub with its embedded MQTT
// broker, dashboard and status page; the virtual bridge with the demo's seven
// devices; the Zigbee bridge on znp-sim behind a pty with the demo's devices
// (znpsim.DemoDevicesYAML, all paired); the MQTT bridge on z2m-sim's default
// zigbee2mqtt installation, which publishes on the hub's embedded broker. The
// AVS emulator and the simulators run in the test process and are not
// counted. Once every device is an endpoint Alexa (the emulator) knows, the
// processes are left alone for footprintSettle, their CPU time is read over
// the following footprintQuiet, then each process's memory:
//
//   - RSS (VmRSS; Rss in /proc/PID/smaps_rollup) counts every resident page a
//     process maps, shared ones in full in each process: the one executable's
//     pages are resident once but counted in all four processes;
//   - PSS divides every shared page among the processes that map it, so the
//     four PSS figures add up to the memory they really use;
//   - exe is the part of RSS that is the avshub executable's own pages
//     (file-backed, shared), anon the process's private memory (Go heap,
//     goroutine stacks, the runtime's own structures).
//
// The goal is stated in RSS (total-RSS-MB ≤ 64); total-PSS-MB is what
// the machine spends. hub-idle-alloc-kB/s is what the idle hub allocates over
// the CPU window (its /metrics): the garbage that swings its heap at GOGC=100. AVSHUB_BENCH_SMAPS=DIR copies each process's
// /proc/PID/smaps there, for a closer look.
//
//	go test -run '^$' -bench IdleFootprint -benchtime 1x ./gateway/hub/
//
// "separate-binaries" runs the bridges from the separate bridge-* binaries
// instead (as before the one executable), for comparison.
func BenchmarkIdleFootprint(b *testing.B) {
	b.Run("one-executable", func(b *testing.B) { idleFootprint(b, false) })
	b.Run("separate-binaries", func(b *testing.B) { idleFootprint(b, true) })
}

const (
	// footprintSettle is how long the processes are left alone after
	// discovery before anything is read (start-up's garbage collected,
	// the runtime's scavenger returns the pages it freed).
	footprintSettle = 10 * time.Second
	// footprintQuiet is the interval the idle CPU is measured over.
	footprintQuiet = 10 * time.Second
)

// demoVirtualDevices are the virtual bridge's devices in the demo (cmd/avshub-demo).
var demoVirtualDevices = []virtual.DeviceConfig{
	{ID: "kitchen-light", Name: "Kitchen Light", Type: "light", Kind: "color"},
	{ID: "hall-light", Name: "Hall Light", Type: "light", Kind: "onoff"},
	{ID: "desk-lamp", Name: "Desk Lamp", Type: "light", Kind: "color_temperature"},
	{ID: "back-door", Name: "Back Door", Type: "lock"},
	{ID: "thermostat", Name: "Thermostat", Type: "thermostat", Kind: "single"},
	{ID: "heat-pump", Name: "Heat Pump", Type: "thermostat", Kind: "dual"},
	{ID: "outdoor-sensor", Name: "Outdoor Temperature", Type: "temperature_sensor", Temperature: ptr(8.5)},
}

func ptr[T any](v T) *T { return &v }

// demoEndpoints is how many endpoints each bridge publishes with the demo's
// devices (the Zigbee set's remote and z2m-sim's coordinator are none).
var demoEndpoints = map[string]int{"virtual": 7, "zigbee": 10, "mqtt": 6}

// procMemory is one process's memory in MB (10^6 bytes).
type procMemory struct {
	rss, pss, exeRSS, exePSS, anon float64
}

func idleFootprint(b *testing.B, separate bool) {
	devs, err := znpsim.ParseDevices(znpsim.DemoDevicesYAML())
	if err != nil {
		b.Fatal(err)
	}
	r := startZigbeeSim(b, func(o *znpsim.Options) { o.Devices = devs })
	ctx := ctxFor(b, 2*time.Minute)
	brokerAddr, statusAddr := freeTCPAddr(b), freeTCPAddr(b)
	bridges := zigbeeBridgeYAML(r.link) + mqttBridgeYAML("tcp://"+brokerAddr)
	o := envOptions{Devices: demoVirtualDevices, LockDelay: "2s", Window: "200ms", ExtraBridges: bridges,
		EmbeddedBroker: brokerAddr, StatusListen: statusAddr}
	if separate {
		o.VirtualPath = filepath.Join(binDir, "bridge-virtual")
		o.ExtraBridges = strings.NewReplacer("  - name: zigbee\n", "  - name: zigbee\n    path: "+filepath.Join(binDir, "bridge-zigbee")+"\n",
			"  - name: mqtt\n", "  - name: mqtt\n    path: "+filepath.Join(binDir, "bridge-mqtt")+"\n").Replace(bridges)
	}
	e := newEnv(b, o)
	d := e.startDaemon()
	// z2m-sim is a zigbee2mqtt installation on the hub's embedded broker, as in the demo.
	sim := z2msim.New(z2msim.Options{Broker: "tcp://" + brokerAddr, Logger: e2eQuietLogger()})
	if err := sim.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Close)
	api := e.waitDaemonBridge(ctx, "zigbee")
	if err := api.Pair(ctx, "zigbee", time.Minute); err != nil {
		b.Fatalf("pair: %v", err)
	}
	e.poll(ctx, "every demo device an endpoint Alexa knows", func() error {
		eps, err := api.Endpoints(ctx)
		if err != nil {
			return err
		}
		got := map[string]int{}
		for _, ep := range eps {
			if _, ok := e.emu.Endpoint(ep.Endpoint.ID); ok && ep.Reachable {
				got[ep.Endpoint.Bridge]++
			}
		}
		for br, n := range demoEndpoints {
			if got[br] != n {
				return fmt.Errorf("endpoints known to Alexa per bridge: %v, want %v", got, demoEndpoints)
			}
		}
		return nil
	})
	time.Sleep(footprintSettle)

	hub := d.cmd.Process.Pid
	pids := append([]int{hub}, childPIDs(hub)...)
	if len(pids) != 4 {
		b.Fatalf("the daemon has %d child processes, want its 3 bridges", len(pids)-1)
	}
	names := make([]string, len(pids))
	cpu0 := make([]time.Duration, len(pids))
	for i, pid := range pids {
		names[i] = processName(pid, hub)
		if cpu0[i], err = procstat.CPU(pid); err != nil {
			b.Fatal(err)
		}
	}
	metricsURL := "http://" + statusAddr + "/metrics"
	alloc0 := hubGoMetrics(b, metricsURL)["go_memstats_alloc_bytes_total"]
	start := time.Now()
	time.Sleep(footprintQuiet)
	wall := time.Since(start)
	alloc1 := hubGoMetrics(b, metricsURL)["go_memstats_alloc_bytes_total"]
	var totalRSS, totalPSS, totalCPU float64
	for i, pid := range pids {
		cpu1, err := procstat.CPU(pid)
		if err != nil {
			b.Fatal(err)
		}
		cpuPct := 100 * float64(cpu1-cpu0[i]) / float64(wall)
		m, err := readProcMemory(pid)
		if err != nil {
			b.Fatal(err)
		}
		if dir := os.Getenv("AVSHUB_BENCH_SMAPS"); dir != "" {
			if raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "smaps")); err == nil {
				_ = os.WriteFile(filepath.Join(dir, names[i]+".smaps"), raw, 0o644)
			}
		}
		b.Logf("%-8s pid %7d  RSS %5.1f MB (exe %5.1f, anon %5.1f)  PSS %5.1f MB (exe %5.1f)  idle CPU %.2f %%",
			names[i], pid, m.rss, m.exeRSS, m.anon, m.pss, m.exePSS, cpuPct)
		b.ReportMetric(m.rss, names[i]+"-RSS-MB")
		b.ReportMetric(m.pss, names[i]+"-PSS-MB")
		b.ReportMetric(cpuPct, names[i]+"-idle-CPU-%")
		totalRSS += m.rss
		totalPSS += m.pss
		totalCPU += cpuPct
	}
	logHubGoMemory(b, metricsURL)
	// What the idle hub allocates (and its collector must collect): at
	// GOGC=100 its heap swings between the live heap and twice that.
	b.ReportMetric((alloc1-alloc0)*1e3/wall.Seconds(), "hub-idle-alloc-kB/s")
	for range b.N { // the measurement above is the benchmark's one result
	}
	b.ReportMetric(totalRSS, "total-RSS-MB")
	b.ReportMetric(totalPSS, "total-PSS-MB")
	b.ReportMetric(totalCPU, "total-idle-CPU-%")
	b.ReportMetric(0, "ns/op")
	d.stop()
}

// logHubGoMemory logs where the hub's Go memory is, from its /metrics (the
// Go collector's memstats): the heap in use, the heap's free pages the
// runtime keeps, goroutine stacks and everything the runtime has mapped.
func logHubGoMemory(b *testing.B, url string) {
	v := hubGoMetrics(b, url)
	if v == nil {
		return
	}
	b.Logf("hub Go memory (MB): heap in use %.1f (objects %.1f), heap free kept %.1f, released %.1f, stacks %.1f, runtime's other %.1f, all mapped %.1f",
		v["go_memstats_heap_inuse_bytes"], v["go_memstats_heap_alloc_bytes"],
		v["go_memstats_heap_idle_bytes"]-v["go_memstats_heap_released_bytes"], v["go_memstats_heap_released_bytes"],
		v["go_memstats_stack_inuse_bytes"],
		v["go_memstats_mspan_inuse_bytes"]+v["go_memstats_mcache_inuse_bytes"]+v["go_memstats_buck_hash_sys_bytes"]+v["go_memstats_gc_sys_bytes"]+v["go_memstats_other_sys_bytes"],
		v["go_memstats_sys_bytes"])
}

// hubGoMetrics reads the hub's go_* metrics (the Go collector's) from its
// /metrics, in MB (10^6 bytes); nil (logged) when they cannot be read.
func hubGoMetrics(b *testing.B, url string) map[string]float64 {
	resp, err := http.Get(url)
	if err != nil {
		b.Logf("hub metrics: %v", err)
		return nil
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Logf("hub metrics: %v", err)
		return nil
	}
	v := map[string]float64{}
	for _, l := range strings.Split(string(raw), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && strings.HasPrefix(f[0], "go_") {
			if x, err := strconv.ParseFloat(f[1], 64); err == nil {
				v[f[0]] = x / 1e6
			}
		}
	}
	return v
}

// processName is "hub" for the daemon, else the bridge a child process serves.
func processName(pid, hub int) string {
	if pid == hub {
		return "hub"
	}
	raw, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	if len(args) >= 3 && args[1] == "bridge" {
		return args[2] // avshub bridge NAME
	}
	return strings.TrimPrefix(filepath.Base(args[0]), "bridge-") // bridge-NAME
}

// freeTCPAddr is a loopback address nothing listens on.
func freeTCPAddr(b testing.TB) string {
	b.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// readProcMemory reads a process's memory from /proc/PID/smaps: RSS and PSS
// in all, of the mappings of its executable (/proc/PID/exe) and its anonymous
// memory.
func readProcMemory(pid int) (procMemory, error) {
	var m procMemory
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	exe, err := os.Readlink(filepath.Join(dir, "exe"))
	if err != nil {
		return m, err
	}
	f, err := os.Open(filepath.Join(dir, "smaps"))
	if err != nil {
		return m, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var inExe bool
	var found int
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if !strings.HasSuffix(fields[0], ":") { // a mapping's header: range perms offset dev inode [path]
			inExe = len(fields) >= 6 && fields[5] == exe
			continue
		}
		if len(fields) != 3 || fields[2] != "kB" {
			continue
		}
		kb, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			continue
		}
		mb := kb * 1024 / 1e6
		switch fields[0] {
		case "Rss:":
			m.rss += mb
			found++
			if inExe {
				m.exeRSS += mb
			}
		case "Pss:":
			m.pss += mb
			if inExe {
				m.exePSS += mb
			}
		case "Anonymous:":
			m.anon += mb
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if found == 0 {
		return m, fmt.Errorf("%s/smaps: no Rss lines", dir)
	}
	return m, nil
}
