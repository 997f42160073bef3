package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/mqtttest"
	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/bridges/zigbee/znpsim"
	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/discovery/model"
)

// Fault tests with the real device bridges: the Zigbee bridge on a Z-Stack
// coordinator emulator behind a real pty, and the MQTT bridge on an embedded
// broker with a zigbee2mqtt emulator. After every fault, Alexa's view of every
// endpoint matches the devices.

// zigbeeTestTypes are the simulated products the Zigbee fault tests pair (a
// subset of znpsim's default set, to keep pairing short).
var zigbeeTestTypes = []string{"hue-color-bulb", "dimmable-bulb", "aqara-temp"}

// zigbeeRig is a coordinator emulator on a pty.
type zigbeeRig struct {
	sim  *znpsim.Sim
	link string
	ids  []string // device ids (IEEE, 16 hex digits) of the published devices
}

// startZigbeeSim puts a coordinator emulator with zigbeeTestTypes on a pty;
// tweaks change its options (the fault tests use none).
func startZigbeeSim(t testing.TB, tweaks ...func(*znpsim.Options)) *zigbeeRig {
	t.Helper()
	return startZigbeeSimOf(t, zigbeeTestTypes, tweaks...)
}

// startZigbeeSimOf is startZigbeeSim with the default devices of the given
// types (nil: every default device).
func startZigbeeSimOf(t testing.TB, types []string, tweaks ...func(*znpsim.Options)) *zigbeeRig {
	t.Helper()
	all, err := znpsim.ParseDevices(znpsim.DefaultDevicesYAML())
	if err != nil {
		t.Fatal(err)
	}
	var specs []znpsim.DeviceSpec
	r := &zigbeeRig{link: filepath.Join(t.TempDir(), "ttyZNP")}
	for _, s := range all {
		if types == nil || slices.Contains(types, s.Type) {
			specs = append(specs, s)
			ieee, err := znpsim.ParseIEEE(s.IEEE)
			if err != nil {
				t.Fatal(err)
			}
			r.ids = append(r.ids, znpsim.FormatIEEE(ieee))
		}
	}
	if types != nil && len(specs) != len(types) {
		t.Fatalf("znpsim's default devices lack some of %v", types)
	}
	o := znpsim.Options{Devices: specs, Logger: e2eQuietLogger(), Latency: 2 * time.Millisecond, JoinDelay: 10 * time.Millisecond}
	for _, f := range tweaks {
		f(&o)
	}
	sim, err := znpsim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.sim = sim
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	end := make(chan error, 1)
	go func() { end <- sim.RunPTY(ctx, r.link, func(string) { close(ready) }) }()
	select {
	case <-ready:
	case err := <-end:
		cancel()
		t.Skipf("cannot run the coordinator emulator on a pty: %v", err)
	}
	// Registered before newEnv's cleanup, so it runs after the hub (and its
	// bridge) has stopped.
	t.Cleanup(func() {
		cancel()
		if err := <-end; err != nil {
			t.Errorf("coordinator emulator: %v", err)
		}
		_ = sim.Close()
	})
	return r
}

// zigbeeBridgeYAML is the hub's bridges entry for the Zigbee bridge on link:
// the bridge bundled in the avshub executable, as shipped.
func zigbeeBridgeYAML(link string) string {
	return fmt.Sprintf(`  - name: zigbee
    startTimeout: 20s
    config: {port: %q, availabilitySeconds: 3600, responseTimeoutMs: 1500}
`, link)
}

// zid is the global endpoint id of a Zigbee device.
func zid(ieee string) string { return model.EndpointID(testSerial, "zigbee", ieee) }

// bridgeStatus is the named bridge's status line (zero when it is not listed).
func (e *testEnv) bridgeStatus(name string) (state, health string, pid, restarts int) {
	for _, b := range e.hub.Status().Bridges {
		if b.Name == name {
			return b.State, b.Health, b.PID, b.Restarts
		}
	}
	return "", "", 0, 0
}

// waitBridgeEndpoints waits until the registry holds every one of ids for
// bridge, reachable, and the emulator knows each of them.
func (e *testEnv) waitBridgeEndpoints(ctx context.Context, bridge string, ids []string) {
	e.t.Helper()
	e.poll(ctx, bridge+" endpoints published, reachable and known by Alexa", func() error {
		for _, d := range ids {
			gid := model.EndpointID(testSerial, bridge, d)
			ent, ok := e.hub.reg.Get(gid)
			switch {
			case !ok:
				return fmt.Errorf("registry lacks %s/%s", bridge, d)
			case !ent.Reachable:
				return fmt.Errorf("%s/%s unreachable", bridge, d)
			}
			if _, ok := e.emu.Endpoint(gid); !ok {
				return fmt.Errorf("Alexa does not know %s/%s", bridge, d)
			}
		}
		return nil
	})
}

// waitDiscoverySettled waits until every bridge has sent its snapshot, Alexa
// knows every endpoint the registry holds (but those hidden from it) and no
// discovery report is pending: every report of the start has been delivered,
// so an AddOrUpdateReport seen after this is news, not a late one of the start.
func (e *testEnv) waitDiscoverySettled(ctx context.Context) {
	e.t.Helper()
	e.poll(ctx, "every bridge synced, Alexa knowing every endpoint and no discovery report pending", func() error {
		for _, b := range e.hub.Status().Bridges {
			if !e.hub.reg.Synced(b.Name) {
				return fmt.Errorf("bridge %s has not sent its snapshot", b.Name)
			}
		}
		for _, ent := range e.hub.reg.List() {
			if e.hub.reg.Settings(ent.Endpoint.ID).HiddenFromAlexa {
				continue
			}
			if _, ok := e.emu.Endpoint(ent.Endpoint.ID); !ok {
				return fmt.Errorf("Alexa does not know %s", ent.Endpoint.ID)
			}
		}
		if p, err := e.hub.manager.Pending(ctx); err != nil || len(p) != 0 {
			return fmt.Errorf("%d discovery reports pending (%v)", len(p), err)
		}
		return nil
	})
}

// reportedEndpoints lists the endpoint ids of the accepted discovery events
// named "namespace.name" from index from (for a failure's message).
func (e *testEnv) reportedEndpoints(from int, name string) []string {
	var out []string
	for i, r := range e.emu.Events() {
		if i < from || r.Name() != name || r.Status >= 300 {
			continue
		}
		var ev struct {
			Event struct {
				Payload struct {
					Endpoints []struct {
						EndpointID string `json:"endpointId"`
					} `json:"endpoints"`
				} `json:"payload"`
			} `json:"event"`
		}
		if err := json.Unmarshal(r.Event, &ev); err != nil {
			out = append(out, "undecodable: "+err.Error())
			continue
		}
		for _, ep := range ev.Event.Payload.Endpoints {
			out = append(out, ep.EndpointID)
		}
	}
	return out
}

// bridgeEndpoints lists the device ids the registry holds for bridge.
func (e *testEnv) bridgeEndpoints(bridge string) []string {
	var out []string
	for _, ent := range e.hub.reg.List() {
		if ent.Endpoint.Bridge == bridge {
			out = append(out, ent.Endpoint.DeviceID)
		}
	}
	slices.Sort(out)
	return out
}

// killBridge SIGKILLs the named bridge's process and waits until every one of
// its endpoints (global ids) has gone unreachable and come back, and the
// bridge runs again as a new process.
func (e *testEnv) killBridge(ctx context.Context, bridge string, endpoints []string) {
	e.t.Helper()
	_, _, pid, restarts := e.bridgeStatus(bridge)
	if pid == 0 {
		e.t.Fatalf("no %s bridge process", bridge)
	}
	changes := e.hub.reg.Subscribe(ctx)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		e.t.Fatal(err)
	}
	want := map[string]bool{}
	for _, ep := range endpoints {
		want[ep] = true
	}
	down, up := map[string]bool{}, map[string]bool{}
	for len(up) < len(want) {
		select {
		case c, ok := <-changes:
			if !ok {
				e.t.Fatal("registry subscription ended")
			}
			if !want[c.Entry.Endpoint.ID] {
				continue
			}
			if c.Kind != discovery.ChangeReachability && c.Kind != discovery.ChangeAdded && c.Kind != discovery.ChangeUpdated {
				continue
			}
			if !c.Entry.Reachable {
				down[c.Entry.Endpoint.ID] = true
				delete(up, c.Entry.Endpoint.ID)
			} else if down[c.Entry.Endpoint.ID] {
				up[c.Entry.Endpoint.ID] = true
			}
		case <-ctx.Done():
			e.t.Fatalf("after SIGKILL of the %s bridge: %d of %d endpoints went unreachable, %d came back", bridge, len(down), len(want), len(up))
		}
	}
	e.poll(ctx, "the "+bridge+" bridge to run again", func() error {
		state, health, p, r := e.bridgeStatus(bridge)
		switch {
		case p == 0 || p == pid || state != "running":
			return fmt.Errorf("state %s pid %d (killed %d)", state, p, pid)
		case r != restarts+1:
			return fmt.Errorf("restarts %d, want %d", r, restarts+1)
		case health != string(model.HealthHealthy):
			return fmt.Errorf("health %s", health)
		}
		return nil
	})
}

// powerState is what Alexa was last told of an endpoint's PowerController.powerState.
func (e *testEnv) powerState(ep string) any {
	return e.alexaView()[ep]["Alexa.PowerController||powerState"].Value
}

// powerToldSince returns every powerState the events from index from on told
// Alexa of one endpoint (responses and reports, changed and context).
func (e *testEnv) powerToldSince(from int, ep string) []any {
	var out []any
	for i, r := range e.emu.Events() {
		if i < from || r.Status >= 300 {
			continue
		}
		p, err := parseEvent(r.Event)
		if err != nil || p.Endpoint != ep {
			continue
		}
		for _, x := range p.props() {
			if x.key() == "Alexa.PowerController||powerState" {
				out = append(out, x.Value)
			}
		}
	}
	return out
}

// zigbeeOnOffMatches compares what Alexa was told of each bulb's power with
// the emulated device's On/Off attribute (the devices' own truth, not the
// bridge's); Alexa must have been told the power of the bulbs in told.
func zigbeeOnOffMatches(e *testEnv, r *zigbeeRig, told ...string) error {
	for _, d := range r.sim.Devices() {
		on, ok := d.Attributes["onOff"]
		if !ok {
			continue
		}
		want := "OFF"
		if on != 0 {
			want = "ON"
		}
		got := e.powerState(zid(d.IEEE))
		if got == nil && !slices.Contains(told, d.IEEE) {
			continue // Alexa was never told this bulb's power (nothing to contradict)
		}
		if got != want {
			return fmt.Errorf("%s (%s): Alexa was told powerState %v, the device's onOff is %d", d.IEEE, d.Type, got, on)
		}
	}
	return nil
}

// zigbeeDBMatches compares the on/off state in the Zigbee bridge's device
// database (its data directory under the hub's) with the emulated devices.
func zigbeeDBMatches(e *testEnv, r *zigbeeRig) error {
	b, err := os.ReadFile(filepath.Join(e.cfg.Hub.DataDir, "bridges", "zigbee", "zigbee.json"))
	if err != nil {
		return err
	}
	var db struct {
		Devices []struct {
			IEEE  string      `json:"ieee"`
			State model.State `json:"state"`
		} `json:"devices"`
	}
	if err := json.Unmarshal(b, &db); err != nil {
		return fmt.Errorf("zigbee.json: %w", err)
	}
	saved := map[string]bool{}
	for _, d := range db.Devices {
		if d.State.On != nil {
			saved[d.IEEE] = *d.State.On
		}
	}
	for _, d := range r.sim.Devices() {
		on, ok := d.Attributes["onOff"]
		if !ok {
			continue
		}
		if got, ok := saved[d.IEEE]; !ok || got != (on != 0) {
			return fmt.Errorf("%s: saved on=%v (present %v), the device's onOff is %d", d.IEEE, got, ok, on)
		}
	}
	return nil
}

// startZigbeeHub starts a hub with the Zigbee bridge on r's pty and pairs its devices.
func startZigbeeHub(t *testing.T, ctx context.Context, r *zigbeeRig) *testEnv {
	t.Helper()
	e := newEnv(t, envOptions{ExtraBridges: zigbeeBridgeYAML(r.link)})
	e.start()
	e.waitConnected()
	e.poll(ctx, "the zigbee bridge to be healthy", func() error {
		if state, health, _, _ := e.bridgeStatus("zigbee"); state != "running" || health != string(model.HealthHealthy) {
			return fmt.Errorf("zigbee bridge %s %s", state, health)
		}
		return nil
	})
	if err := e.hub.Pair(ctx, "zigbee", time.Minute); err != nil {
		t.Fatalf("Pair: %v", err)
	}
	e.waitBridgeEndpoints(ctx, "zigbee", r.ids)
	if got, want := e.bridgeEndpoints("zigbee"), slices.Sorted(slices.Values(r.ids)); !slices.Equal(got, want) {
		t.Fatalf("zigbee endpoints %v, want %v", got, want)
	}
	return e
}

// TestFaultZigbeeBridgeSIGKILL kills the Zigbee bridge process: its endpoints
// go unreachable, the supervisor restarts it, the devices come back from the
// bridge's device database without pairing again, the bridge re-reads them (a
// change by hand just before the crash reaches Alexa; one reported and not
// saved is not undone by the database's older state), Alexa's view matches
// the devices, and directives work.
func TestFaultZigbeeBridgeSIGKILL(t *testing.T) {
	r := startZigbeeSim(t)
	ctx := ctxFor(t, 45*time.Second)
	e := startZigbeeHub(t, ctx, r)
	hue, dim := r.ids[0], r.ids[1]

	// Move the devices away from their initial state: one by Alexa, one by hand.
	if a := e.mustSend("Alexa.PowerController", "TurnOn", zid(hue), "", map[string]any{}); a.Name != "Response" {
		t.Fatalf("TurnOn: %s %v", a.Name, a.Payload)
	}
	if err := r.sim.Set("0x"+dim, map[string]int64{"onOff": 1}); err != nil {
		t.Fatal(err)
	}
	e.poll(ctx, "Alexa's view of the Zigbee bulbs to match the devices", func() error { return zigbeeOnOffMatches(e, r, hue, dim) })
	e.poll(ctx, "Alexa's view to match the Zigbee bridge", func() error { return e.consistentOf(ctx, "zigbee", len(r.ids), false) })
	// Every report of the start delivered: one after the restart is the restart's.
	e.waitDiscoverySettled(ctx)
	// Changes by hand just before the crash. The bulb's reaches the hub and
	// the bridge is killed at once, most likely before it saves it (it saves
	// within 500 ms): its database still says ON, and its snapshot after the
	// restart must not take Alexa back to that. The dimmable bulb's comes as
	// the bridge is killed, neither saved nor, maybe, reported: the restarted
	// bridge finds it by reading the device, and Alexa is told.
	if err := r.sim.Set("0x"+hue, map[string]int64{"onOff": 0}); err != nil {
		t.Fatal(err)
	}
	e.poll(ctx, "the hub to hear of the bulb switched off by hand", func() error {
		if ent, ok := e.hub.reg.Get(zid(hue)); !ok || ent.State.On == nil || *ent.State.On {
			return fmt.Errorf("the hub's state of the bulb: %+v", ent.State)
		}
		return nil
	})
	if err := r.sim.Set("0x"+dim, map[string]int64{"onOff": 0}); err != nil {
		t.Fatal(err)
	}

	from := len(e.emu.Events())
	eps := make([]string, len(r.ids))
	for i, d := range r.ids {
		eps[i] = zid(d)
	}
	e.killBridge(ctx, "zigbee", eps)

	// Known again without pairing: the same endpoints, none deleted or re-discovered.
	if got, want := e.bridgeEndpoints("zigbee"), slices.Sorted(slices.Values(r.ids)); !slices.Equal(got, want) {
		t.Errorf("zigbee endpoints after the restart %v, want %v", got, want)
	}
	if n := e.countEvents(from, "Alexa.Discovery.DeleteReport"); n != 0 {
		t.Errorf("%d DeleteReport after the bridge restart", n)
	}
	if n := e.countEvents(from, "Alexa.Discovery.AddOrUpdateReport"); n != 0 {
		t.Errorf("%d AddOrUpdateReport after a bridge restart with nothing changed (of %v)", n, e.reportedEndpoints(from, "Alexa.Discovery.AddOrUpdateReport"))
	}
	if state, _, _, _ := e.bridgeStatus("zigbee"); state != "running" {
		t.Errorf("zigbee bridge %s", state)
	}
	e.poll(ctx, "Alexa's view of the Zigbee bulbs to match the devices after the restart", func() error { return zigbeeOnOffMatches(e, r, hue, dim) })
	e.poll(ctx, "Alexa's view to match the Zigbee bridge after the restart", func() error { return e.consistentOf(ctx, "zigbee", len(r.ids), false) })
	if err := e.consistentOf(ctx, "zigbee", len(r.ids), true); err != nil {
		t.Errorf("after ReportState: %v", err)
	}
	e.poll(ctx, "the zigbee bridge's database to catch up with the devices", func() error { return zigbeeDBMatches(e, r) })
	if told := e.powerToldSince(from, zid(hue)); slices.Contains(told, any("ON")) {
		t.Errorf("after the kill Alexa was told the bulb switched off by hand is ON (powerState told: %v)", told)
	}

	// A directive reaches the device through the new process.
	if a := e.mustSend("Alexa.PowerController", "TurnOn", zid(dim), "", map[string]any{}); a.Name != "Response" {
		t.Fatalf("TurnOn after the restart: %s %v", a.Name, a.Payload)
	}
	e.poll(ctx, "the dimmable bulb to be on", func() error {
		for _, d := range r.sim.Devices() {
			if d.IEEE == dim && d.Attributes["onOff"] != 1 {
				return errors.New("the device's onOff is still 0")
			}
		}
		return zigbeeOnOffMatches(e, r, hue, dim)
	})
	e.noRefusedEvents()
	e.waitConsistent() // the virtual bridge's endpoints were not disturbed
}

// TestFaultZigbeeSerialUnplug pulls the coordinator stick out: the bridge
// reports UNHEALTHY and a directive is answered with an ErrorResponse; once
// the stick is back the bridge is healthy again, directives work and Alexa's
// view matches the devices.
func TestFaultZigbeeSerialUnplug(t *testing.T) {
	r := startZigbeeSim(t)
	ctx := ctxFor(t, 45*time.Second)
	e := startZigbeeHub(t, ctx, r)
	hue := r.ids[0]

	if err := r.sim.Unplug(); err != nil {
		t.Fatal(err)
	}
	e.poll(ctx, "the zigbee bridge to report UNHEALTHY", func() error {
		if _, health, _, _ := e.bridgeStatus("zigbee"); health != string(model.HealthUnhealthy) {
			return fmt.Errorf("health %q", health)
		}
		return nil
	})
	a := e.mustSend("Alexa.PowerController", "TurnOn", zid(hue), "", map[string]any{})
	if a.Name != "ErrorResponse" || (a.Payload["type"] != "BRIDGE_UNREACHABLE" && a.Payload["type"] != "ENDPOINT_UNREACHABLE") {
		t.Errorf("TurnOn while unplugged answered %v %v, want an ErrorResponse BRIDGE_UNREACHABLE or ENDPOINT_UNREACHABLE", a.Events, a.Payload)
	}
	for _, d := range r.sim.Devices() {
		if d.IEEE == hue && d.Attributes["onOff"] != 0 {
			t.Errorf("the bulb turned on while the stick was unplugged")
		}
	}

	if err := r.sim.Replug(); err != nil {
		t.Fatal(err)
	}
	e.poll(ctx, "the zigbee bridge to be HEALTHY again", func() error {
		if _, health, _, _ := e.bridgeStatus("zigbee"); health != string(model.HealthHealthy) {
			return fmt.Errorf("health %q", health)
		}
		return nil
	})
	e.waitBridgeEndpoints(ctx, "zigbee", r.ids)
	if a := e.mustSend("Alexa.PowerController", "TurnOn", zid(hue), "", map[string]any{}); a.Name != "Response" {
		t.Fatalf("TurnOn after replug: %s %v", a.Name, a.Payload)
	}
	e.poll(ctx, "Alexa's view of the Zigbee bulbs to match the devices after replug", func() error { return zigbeeOnOffMatches(e, r, hue) })
	e.poll(ctx, "Alexa's view to match the Zigbee bridge after replug", func() error { return e.consistentOf(ctx, "zigbee", len(r.ids), false) })
	if err := e.consistentOf(ctx, "zigbee", len(r.ids), true); err != nil {
		t.Errorf("after ReportState: %v", err)
	}
	e.noRefusedEvents()
}

// z2mBulb is the zigbee2mqtt name of the light the MQTT tests drive.
const z2mBulb = "Hallway Bulb"

// startZ2MSim starts an embedded broker (mqtttest, in the test process) with a
// zigbee2mqtt emulator connected to it; both stop when the test ends (after
// a hub started later, whose cleanup runs first).
func startZ2MSim(t testing.TB, ctx context.Context) (*mqtttest.Broker, *z2msim.Sim) {
	t.Helper()
	brk, err := mqtttest.Start(mqtttest.Options{})
	if err != nil {
		t.Fatalf("broker: %v", err)
	}
	t.Cleanup(func() { _ = brk.Close() })
	sim := z2msim.New(z2msim.Options{Broker: brk.URL, Logger: e2eQuietLogger()})
	if err := sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return brk, sim
}

// mqttBridgeYAML is the hub's bridges entry for the MQTT bridge on broker:
// the bridge bundled in the avshub executable, as shipped.
func mqttBridgeYAML(broker string) string {
	return fmt.Sprintf(`  - name: mqtt
    startTimeout: 20s
    config: {broker: %q}
`, broker)
}

// TestFaultMQTTBridgeSIGKILL kills the MQTT bridge process (zigbee2mqtt
// devices on an embedded broker): its endpoints go unreachable, the bridge is
// restarted, the endpoints come back, a directive works and Alexa's view
// matches the devices.
func TestFaultMQTTBridgeSIGKILL(t *testing.T) {
	ctx := ctxFor(t, 45*time.Second)
	brk, sim := startZ2MSim(t, ctx)

	e := newEnv(t, envOptions{ExtraBridges: mqttBridgeYAML(brk.URL)})
	e.start()
	e.waitConnected()

	// The light the test drives, found by its zigbee2mqtt name.
	const bulbName = z2mBulb
	var bulb string
	e.poll(ctx, "the MQTT bridge to publish "+bulbName, func() error {
		for _, ent := range e.hub.reg.List() {
			if ent.Endpoint.Bridge == "mqtt" && ent.Endpoint.FriendlyName == bulbName && ent.Endpoint.Traits.OnOff != nil {
				bulb = ent.Endpoint.DeviceID
				return nil
			}
		}
		return fmt.Errorf("no %q among %v", bulbName, e.bridgeEndpoints("mqtt"))
	})
	// Every device with a capability is published (the remote may or may not be).
	e.poll(ctx, "the MQTT bridge's endpoints", func() error {
		if n := len(e.bridgeEndpoints("mqtt")); n < len(sim.Devices())-1 {
			return fmt.Errorf("%d mqtt endpoints for %d zigbee2mqtt devices", n, len(sim.Devices()))
		}
		return nil
	})
	ids := e.bridgeEndpoints("mqtt")
	e.waitBridgeEndpoints(ctx, "mqtt", ids)
	bulbEP := model.EndpointID(testSerial, "mqtt", bulb)
	if a := e.mustSend("Alexa.PowerController", "TurnOn", bulbEP, "", map[string]any{}); a.Name != "Response" {
		t.Fatalf("TurnOn: %s %v", a.Name, a.Payload)
	}
	bulbIs := func(want string) func() error {
		return func() error {
			d, ok := sim.Device(bulbName)
			if !ok {
				return errors.New("the simulator lost the bulb")
			}
			if d.State["state"] != want {
				return fmt.Errorf("the bulb's state is %v, want %s", d.State["state"], want)
			}
			if got := e.powerState(bulbEP); got != want {
				return fmt.Errorf("Alexa was told powerState %v, want %s", got, want)
			}
			return nil
		}
	}
	e.poll(ctx, "the bulb on", bulbIs("ON"))
	e.poll(ctx, "Alexa's view to match the MQTT bridge", func() error { return e.consistentOf(ctx, "mqtt", len(ids), false) })
	// Every report of the start delivered: one after the restart is the restart's.
	e.waitDiscoverySettled(ctx)

	from := len(e.emu.Events())
	eps := make([]string, len(ids))
	for i, d := range ids {
		eps[i] = model.EndpointID(testSerial, "mqtt", d)
	}
	e.killBridge(ctx, "mqtt", eps)
	if got := e.bridgeEndpoints("mqtt"); !slices.Equal(got, ids) {
		t.Errorf("mqtt endpoints after the restart %v, want %v", got, ids)
	}
	if n := e.countEvents(from, "Alexa.Discovery.DeleteReport"); n != 0 {
		t.Errorf("%d DeleteReport after the bridge restart", n)
	}
	if n := e.countEvents(from, "Alexa.Discovery.AddOrUpdateReport"); n != 0 {
		t.Errorf("%d AddOrUpdateReport after a bridge restart with nothing changed (of %v)", n, e.reportedEndpoints(from, "Alexa.Discovery.AddOrUpdateReport"))
	}
	e.poll(ctx, "Alexa's view to match the MQTT bridge after the restart", func() error { return e.consistentOf(ctx, "mqtt", len(ids), false) })
	if err := e.consistentOf(ctx, "mqtt", len(ids), true); err != nil {
		t.Errorf("after ReportState: %v", err)
	}
	e.poll(ctx, "the bulb still on, as Alexa was told", bulbIs("ON"))
	if a := e.mustSend("Alexa.PowerController", "TurnOff", bulbEP, "", map[string]any{}); a.Name != "Response" {
		t.Fatalf("TurnOff after the restart: %s %v", a.Name, a.Payload)
	}
	e.poll(ctx, "the bulb off", bulbIs("OFF"))
	e.noRefusedEvents()
}
