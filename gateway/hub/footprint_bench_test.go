package hub

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/bridges/zigbee/znpsim"
	"github.com/avshub/avshub/discovery/model"
)

// BenchmarkFootprint measures the memory of the avshub daemon (the binary
// TestMain built) and its three bridges, idle, with the demo's devices: the
// virtual bridge with the demo's seven devices, the Zigbee bridge on znpsim's
// default products (on a pty, all paired) and the MQTT bridge on z2msim's
// default zigbee2mqtt installation (broker and simulators run in the test
// process and are not counted). After every device is published and known
// to Alexa (the AVS emulator) the daemon idles for footprintSettle, then
// each process's /proc/PID/smaps_rollup is read:
//
//   - RSS counts every resident page a process maps, shared ones in full in
//     each process: with one executable for the hub and its bridges, the
//     executable's pages are resident once but counted four times;
//   - PSS divides every shared page among the processes that map it, so the
//     PSS of the four processes adds up to the memory they really use.
//
// "separate-binaries" is the same-run baseline: the bridges started from the
// separate bridge-* binaries (as before the one executable).
//
//	go test -run '^$' -bench Footprint -benchtime 1x ./gateway/hub/
func BenchmarkFootprint(b *testing.B) {
	b.Run("separate-binaries", func(b *testing.B) { footprint(b, true) })
	b.Run("one-executable", func(b *testing.B) { footprint(b, false) })
}

// footprintSettle is how long the daemon idles before it is measured.
const footprintSettle = 15 * time.Second

// demoVirtualDevices are the virtual bridge's devices in the demo (cmd/avshub-demo).
var demoVirtualDevices = []virtual.DeviceConfig{
	{ID: "kitchen-light", Name: "Kitchen Light", Type: "light", Kind: "color"},
	{ID: "hall-light", Name: "Hall Light", Type: "light", Kind: "onoff"},
	{ID: "desk-lamp", Name: "Desk Lamp", Type: "light", Kind: "color_temperature"},
	{ID: "back-door", Name: "Back Door", Type: "lock"},
	{ID: "thermostat", Name: "Thermostat", Type: "thermostat", Kind: "single"},
	{ID: "heat-pump", Name: "Heat Pump", Type: "thermostat", Kind: "dual"},
	{ID: "outdoor-sensor", Name: "Outdoor Temperature", Type: "temperature_sensor"},
}

func footprint(b *testing.B, separate bool) {
	all, err := znpsim.ParseDevices(znpsim.DefaultDevicesYAML())
	if err != nil {
		b.Fatal(err)
	}
	r := startZigbeeSim(b, func(o *znpsim.Options) { o.Devices = all })
	ctx := ctxFor(b, 90*time.Second)
	brk, sim := startZ2MSim(b, ctx)
	bridges := zigbeeBridgeYAML(r.link) + mqttBridgeYAML(brk.URL)
	o := envOptions{Devices: demoVirtualDevices, ExtraBridges: bridges}
	if separate {
		o.VirtualPath = filepath.Join(binDir, "bridge-virtual")
		o.ExtraBridges = strings.NewReplacer("  - name: zigbee\n", "  - name: zigbee\n    path: "+filepath.Join(binDir, "bridge-zigbee")+"\n",
			"  - name: mqtt\n", "  - name: mqtt\n    path: "+filepath.Join(binDir, "bridge-mqtt")+"\n").Replace(bridges)
	}
	e := newEnv(b, o)
	d := e.startDaemon()
	api := e.waitDaemonBridge(ctx, "zigbee")
	if err := api.Pair(ctx, "zigbee", time.Minute); err != nil {
		b.Fatalf("pair: %v", err)
	}
	for _, ieee := range r.ids {
		e.waitDaemonEndpoint(ctx, "zigbee", func(ep model.Endpoint) bool { return ep.DeviceID == ieee })
	}
	e.waitDaemonBridge(ctx, "mqtt")
	if _, ok := sim.Device(z2mBulb); !ok {
		b.Fatalf("z2msim has no %q", z2mBulb)
	}
	e.waitDaemonEndpoint(ctx, "mqtt", func(ep model.Endpoint) bool { return ep.FriendlyName == z2mBulb })
	e.waitDaemonBridge(ctx, "virtual")
	e.waitDaemonEndpoint(ctx, "virtual", func(ep model.Endpoint) bool { return ep.DeviceID == "outdoor-sensor" })
	time.Sleep(footprintSettle) // the rest of the devices arrive, then nothing happens
	eps, err := api.Endpoints(ctx)
	if err != nil {
		b.Fatal(err)
	}
	perBridge := map[string]int{}
	for _, ep := range eps {
		perBridge[ep.Endpoint.Bridge]++
	}
	b.Logf("endpoints per bridge: %v", perBridge)

	hub := d.cmd.Process.Pid
	pids := append([]int{hub}, childPIDs(hub)...)
	if len(pids) != 4 {
		b.Fatalf("the daemon has %d child processes, want its 3 bridges", len(pids)-1)
	}
	var hubRSS, bridgesRSS, totalPSS float64
	for _, pid := range pids {
		rss, pss, err := smapsRollup(pid)
		if err != nil {
			b.Fatal(err)
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		b.Logf("pid %d %-40s RSS %5.1f MB  PSS %5.1f MB", pid, strings.ReplaceAll(strings.TrimPrefix(string(cmdline), binDir+"/"), "\x00", " "), rss, pss)
		if pid == hub {
			hubRSS = rss
		} else {
			bridgesRSS += rss
		}
		totalPSS += pss
	}
	for range b.N { // the measurement above is the benchmark's one result
	}
	b.ReportMetric(hubRSS, "hub-RSS-MB")
	b.ReportMetric(bridgesRSS, "bridges-RSS-MB")
	b.ReportMetric(hubRSS+bridgesRSS, "total-RSS-MB")
	b.ReportMetric(totalPSS, "total-PSS-MB")
	b.ReportMetric(0, "ns/op")
	d.stop()
}

// smapsRollup returns a process's RSS and PSS in MB (10^6 bytes) from
// /proc/PID/smaps_rollup.
func smapsRollup(pid int) (rss, pss float64, err error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var found int
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || fields[2] != "kB" {
			continue
		}
		kb, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "Rss:":
			rss, found = kb*1024/1e6, found+1
		case "Pss:":
			pss, found = kb*1024/1e6, found+1
		}
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("/proc/%d/smaps_rollup: no Rss and Pss lines", pid)
	}
	return rss, pss, sc.Err()
}
