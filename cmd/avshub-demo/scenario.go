package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/dashboard"
	"github.com/avshub/avshub/gateway/web"
)

// scenario starts the chain and plays the conversation. Every step checks
// what came back, so a broken chain fails the demo instead of printing noise.
func (d *demo) scenario(ctx context.Context) error {
	d.started = time.Now()
	d.say("avshub demo: the whole chain on simulators (transport %s, profile %s)", d.transport, d.profile)

	d.section("Start the simulators")
	if d.skill() {
		if err := d.startSkillSim(ctx); err != nil {
			return err
		}
	} else {
		certs := filepath.Join(d.out, "avs-sim-certs")
		_, f, err := d.start(ctx, "avs-sim", []string{"--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--cert-dir", certs,
			"--record", filepath.Join(d.out, "avs-events.jsonl"), "--profile", d.profile}, "avs-sim ready")
		if err != nil {
			return err
		}
		d.avsURL, d.adminURL, d.caFile = f["url"], f["admin"], f["ca"]
		if !strings.HasPrefix(d.adminURL, "http") {
			d.adminURL = "http://" + d.adminURL
		}
		d.say("  avs-sim (AVS + Login with Amazon) at %s, admin API %s", d.avsURL, d.adminURL)
	}

	znpAdmin, err := freeAddr()
	if err != nil {
		return err
	}
	tty := filepath.Join(d.out, "ttyZNP")
	zdevs, err := d.writeZigbeeDevices()
	if err != nil {
		return err
	}
	if _, _, err := d.start(ctx, "znp-sim", []string{"--link", tty, "--trace", filepath.Join(d.out, "znp-trace.log"),
		"--admin", znpAdmin, "--devices", zdevs}, "znp-sim ready"); err != nil {
		return err
	}
	d.znpAdmin = "http://" + znpAdmin
	d.say("  znp-sim (a Z-Stack coordinator) on the pseudo-terminal %s, admin API %s", tty, d.znpAdmin)

	if err := d.writeConfig(tty); err != nil {
		return err
	}

	if !d.skill() {
		d.section("Link the hub to the (emulated) Amazon account: code-based linking")
		if err := d.link(ctx); err != nil {
			return err
		}
	}

	d.section("Start the hub (embedded MQTT broker, bridges: virtual, zigbee, mqtt)")
	t0 := time.Now()
	hub, _, err := d.start(ctx, "avshub", []string{"run", "--config", d.cfgPath}, "")
	if err != nil {
		return err
	}
	d.hub = hub
	if d.skill() {
		if err := d.linkSkill(ctx, t0); err != nil {
			return err
		}
	} else {
		if err := d.waitConnected(ctx); err != nil {
			return err
		}
		d.say("  hub CONNECTED to AVS %s after start (post-connect: VerifyGateway → Discovery → SynchronizeState)", time.Since(t0).Round(time.Millisecond))
	}

	z2mAdmin, err := freeAddr()
	if err != nil {
		return err
	}
	if _, _, err := d.start(ctx, "z2m-sim", []string{"--broker", "tcp://" + d.brokerAddr, "--admin", z2mAdmin,
		"--base-topic", "zigbee2mqtt"}, "z2m-sim ready"); err != nil {
		return err
	}
	d.z2mAdmin = "http://" + z2mAdmin
	d.say("  z2m-sim (a zigbee2mqtt installation) on the hub's embedded broker %s", d.brokerAddr)

	d.section("Discovery: what Alexa knows")
	if err := d.waitBridges(ctx); err != nil {
		return err
	}
	if err := d.pairZigbee(ctx); err != nil {
		return err
	}
	if err := d.showDiscovery(ctx); err != nil {
		return err
	}

	if err := d.voice(ctx); err != nil {
		return err
	}
	if err := d.byHand(ctx); err != nil {
		return err
	}
	if err := d.zigbeeKinds(ctx); err != nil {
		return err
	}
	if err := d.dashboardCommand(ctx); err != nil {
		return err
	}
	if err := d.crash(ctx); err != nil {
		return err
	}
	if d.skill() {
		if err := d.skillFaults(ctx); err != nil {
			return err
		}
		d.section("Done")
		d.say("  every step answered as expected in %s", time.Since(d.started).Round(time.Millisecond))
		d.say("  what crossed the wire is in %s: transcript.txt, skill-events.jsonl (answers via the Lambda and events on the gateway), znp-trace.log, dashboard-messages.jsonl, *.log", d.out)
		return nil
	}
	d.section("Done")
	d.say("  every step answered as expected in %s", time.Since(d.started).Round(time.Millisecond))
	d.say("  what crossed the wire is in %s: transcript.txt, avs-events.jsonl, znp-trace.log, dashboard-messages.jsonl, *.log", d.out)
	return nil
}

// writeConfig writes the hub's configuration for the demo.
func (d *demo) writeConfig(tty string) error {
	var err error
	if d.brokerAddr, err = freeAddr(); err != nil {
		return err
	}
	if d.statusAddr, err = freeAddr(); err != nil {
		return err
	}
	d.socket = filepath.Join(d.out, "avshub.sock")
	d.cfgPath = filepath.Join(d.out, "avshub.yaml")
	road := fmt.Sprintf(`avs:
  url: %[1]s
  caFile: %[2]s
lwa:
  clientId: amzn1.application-oa2-client.avshubdemo
  url: %[1]s
  caFile: %[2]s
`, d.avsURL, d.caFile)
	if d.skill() {
		road = fmt.Sprintf(`alexa:
  transport: skill
skill:
  listen: %[1]s
  secretFile: %[2]s
  clientId: %[3]s
  clientSecret: %[4]s
  eventGatewayUrl: %[5]s/v3/events
  caFile: %[6]s
lwa:
  url: %[5]s
  caFile: %[6]s
`, d.skillListen, d.secretFile, skillClientID, skillClientSecret, d.avsURL, d.caFile)
	}
	cfg := fmt.Sprintf(`# avshub configuration written by the demo
hub:
  serialNumber: demo-hub-0001
  productId: avshub_demo
  dataDir: %[1]s/data
  profile: %[2]s
%[3]srouter:
  changeReportWindow: 200ms
bridges:
  # No path: the bridges bundled in %[5]s/avshub (it runs itself as "avshub bridge NAME").
  - name: virtual
    config:
      lockDelay: 2s
      devices:
        - {id: kitchen-light, name: Kitchen Light, type: light, kind: color}
        - {id: hall-light, name: Hall Light, type: light, kind: onoff}
        - {id: desk-lamp, name: Desk Lamp, type: light, kind: color_temperature}
        - {id: back-door, name: Back Door, type: lock}
        - {id: thermostat, name: Thermostat, type: thermostat, kind: single}
        - {id: heat-pump, name: Heat Pump, type: thermostat, kind: dual}
        - {id: outdoor-sensor, name: Outdoor Temperature, type: temperature_sensor, temperature: 8.5}
  - name: zigbee
    config:
      port: %[6]s
  - name: mqtt
    config:
      broker: tcp://%[7]s
mqtt:
  embedded:
    listen: %[7]s
dashboard:
  recordFile: %[1]s/dashboard-messages.jsonl
status:
  listen: %[8]s
  socket: %[9]s
log:
  level: info
`, d.out, d.profile, road, "", d.bin, tty, d.brokerAddr, d.statusAddr, d.socket)
	return writeFile(d.cfgPath, cfg)
}

// link runs `avshub link`, shows what a person would see, and approves the
// code on the emulator as the owner would on amazon.com/code.
func (d *demo) link(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, filepath.Join(d.bin, "avshub"), "link", "--config", d.cfgPath)
	logf, err := os.Create(filepath.Join(d.out, "avshub-link.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	approved := make(chan error, 1)
	go func() {
		// The owner reads the code and types it on amazon.com/code: here, the
		// emulator's admin API approves the pending code pair.
		approved <- waitFor(ctx, "the code pair to be approved", 20*time.Second, func() (bool, error) {
			return call(ctx, "POST", d.adminURL+"/sim/cbl/approve", map[string]any{}, nil) == nil, nil
		})
	}()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		fmt.Fprintln(logf, sc.Text())
		if line := strings.TrimRight(sc.Text(), " "); strings.TrimSpace(line) != "" && !strings.HasPrefix(strings.TrimSpace(line), "\r") {
			d.say("  | %s", line)
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("avshub link: %w (see avshub-link.log)", err)
	}
	return <-approved
}

func (d *demo) waitConnected(ctx context.Context) error {
	c := web.NewClient(d.socket)
	return waitFor(ctx, "the hub to connect to AVS", 30*time.Second, func() (bool, error) {
		if d.hub.exited() {
			return false, fmt.Errorf("the hub exited (see avshub.log)")
		}
		st, err := c.Status(ctx)
		if err != nil {
			return false, err
		}
		return st.AVS.State == "CONNECTED", nil
	})
}

// waitBridges waits until every bridge runs and reports itself healthy (the
// Zigbee bridge first forms its network on the coordinator).
func (d *demo) waitBridges(ctx context.Context) error {
	c := web.NewClient(d.socket)
	var last []web.BridgeStatus
	err := waitFor(ctx, "the bridges to be healthy", 45*time.Second, func() (bool, error) {
		st, err := c.Status(ctx)
		if err != nil {
			return false, err
		}
		last = st.Bridges
		for _, b := range st.Bridges {
			if b.State != "running" || b.Health != "HEALTHY" {
				return false, nil
			}
		}
		return len(st.Bridges) == 3, nil
	})
	for _, b := range last {
		d.say("  bridge %-8s %s, %s %s", b.Name, b.State, b.Health, b.Description)
	}
	return err
}

// pairZigbee opens the Zigbee network and prints each simulated device as it
// joins, is interviewed and is published, until all are.
func (d *demo) pairZigbee(ctx context.Context) error {
	c := web.NewClient(d.socket)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	// Listen before opening: the first device may join at once.
	events, err := c.PairingEvents(wctx, "zigbee")
	if err != nil {
		return fmt.Errorf("pairing events: %w", err)
	}
	if err := c.Pair(ctx, "zigbee", 60*time.Second); err != nil {
		return fmt.Errorf("pairing zigbee: %w", err)
	}
	d.say("  avshub pair zigbee --for 60s: the coordinator permits joining; the simulated devices join and are interviewed:")
	published := 0
	timeout := time.NewTimer(45 * time.Second)
	defer timeout.Stop()
	for published < zigbeeKindsPublished {
		select {
		case ev, ok := <-events:
			if !ok {
				return fmt.Errorf("the hub closed the pairing event stream after %d of %d endpoints", published, zigbeeKindsPublished)
			}
			if ev.Stage == string(model.PairingPublished) {
				published++
			}
			if line := web.PairingLine(ev); line != "" {
				d.say("    %s %s", ev.At.Local().Format("15:04:05.000"), line)
			}
		case <-timeout.C:
			return fmt.Errorf("zigbee devices to be interviewed: %d of %d endpoints published in 45s", published, zigbeeKindsPublished)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// showDiscovery prints the endpoints as Alexa now knows them.
func (d *demo) showDiscovery(ctx context.Context) error {
	eps, err := d.hubEndpoints(ctx)
	if err != nil {
		return err
	}
	if d.skill() {
		return d.discoverSkill(ctx, eps)
	}
	// Alexa must know every endpoint the hub has (plus the hub itself).
	err = waitFor(ctx, "Alexa to know every endpoint", 20*time.Second, func() (bool, error) {
		var known []map[string]any
		if err := call(ctx, "GET", d.adminURL+"/sim/endpoints", nil, &known); err != nil {
			return false, err
		}
		return len(known) >= len(eps)+1, nil
	})
	if err != nil {
		return err
	}
	per := map[string][]string{}
	for _, e := range eps {
		per[e.Endpoint.Bridge] = append(per[e.Endpoint.Bridge], fmt.Sprintf("%s (%s)", e.Endpoint.FriendlyName, strings.ToLower(string(e.Endpoint.Category))))
	}
	d.say("  Alexa knows the hub itself and %d endpoints (AddOrUpdateReport, acknowledged by Alexa.EventProcessed):", len(eps))
	for _, b := range []string{"virtual", "zigbee", "mqtt"} {
		d.say("    %-8s %s", b, strings.Join(per[b], ", "))
	}
	return nil
}

// target finds the endpoint of a bridge by friendly-name prefix or, when name is
// empty, by a trait test.
func (d *demo) target(ctx context.Context, bridge, name string, pred func(model.Traits) bool) (web.Endpoint, error) {
	return d.findEndpoint(ctx, bridge, func(e web.Endpoint) bool {
		if name != "" {
			return strings.EqualFold(e.Endpoint.FriendlyName, name)
		}
		return pred(e.Endpoint.Traits)
	})
}

// voice plays the spoken part of the conversation.
func (d *demo) voice(ctx context.Context) error {
	d.section("Voice: lights (virtual bridge)")
	light, err := d.target(ctx, "virtual", "Kitchen Light", nil)
	if err != nil {
		return err
	}
	id := light.Endpoint.ID
	evs, err := d.ask(ctx, "turn on the kitchen light", turnOn(id))
	if err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "set the kitchen light to 40 percent", d.setBrightness(id, 40)); err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}

	d.section("Voice: a lock that takes its time (deferred response)")
	door, err := d.target(ctx, "virtual", "", func(t model.Traits) bool { return t.Lock != nil })
	if err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "lock the "+strings.ToLower(door.Endpoint.FriendlyName), d.lock(door.Endpoint.ID, true)); err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}
	if len(evs) < 2 || evs[0].Event.Header.Name != "DeferredResponse" {
		return fmt.Errorf("a slow lock should be answered with a DeferredResponse first")
	}

	d.section("Voice: thermostats")
	th, err := d.target(ctx, "virtual", "", func(t model.Traits) bool {
		return t.Thermostat != nil && t.Thermostat.TargetSetpoint && !t.Thermostat.DualSetpoints
	})
	if err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "set the "+strings.ToLower(th.Endpoint.FriendlyName)+" to 21 degrees", d.setTarget(th.Endpoint.ID, 21)); err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "set the "+strings.ToLower(th.Endpoint.FriendlyName)+" to 40 degrees (out of its range)", d.setTarget(th.Endpoint.ID, 40)); err != nil {
		return err
	}
	if err := expect(evs, "ErrorResponse", "TEMPERATURE_VALUE_OUT_OF_RANGE"); err != nil {
		return err
	}
	hp, err := d.target(ctx, "virtual", "", func(t model.Traits) bool { return t.Thermostat != nil && t.Thermostat.DualSetpoints })
	if err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "set the "+strings.ToLower(hp.Endpoint.FriendlyName)+" to auto", d.setMode(hp.Endpoint.ID, "AUTO")); err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}
	for _, dir := range d.setDual(hp.Endpoint.ID, 19, 24) {
		if evs, err = d.ask(ctx, "keep the "+strings.ToLower(hp.Endpoint.FriendlyName)+" between 19 and 24 degrees", dir); err != nil {
			return err
		}
		if err := expect(evs, "Response", ""); err != nil {
			return err
		}
	}

	d.section("Voice: Zigbee devices (zigbee bridge → ZNP frames on the serial line)")
	zl, err := d.target(ctx, "zigbee", "", func(t model.Traits) bool { return t.Brightness != nil })
	if err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "turn on the "+strings.ToLower(zl.Endpoint.FriendlyName), turnOn(zl.Endpoint.ID)); err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "dim the "+strings.ToLower(zl.Endpoint.FriendlyName)+" to 25 percent", d.setBrightness(zl.Endpoint.ID, 25)); err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}
	d.showZCL(zclLevel, "the ZCL Level Control command")
	zc, err := d.target(ctx, "zigbee", "", func(t model.Traits) bool { return t.Color != nil })
	if err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "make the "+strings.ToLower(zc.Endpoint.FriendlyName)+" blue", d.setColor(zc.Endpoint.ID, "Blue", 240)); err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}
	d.showZCL(zclColor, "the ZCL Color Control command")
	zw, err := d.target(ctx, "zigbee", "", func(t model.Traits) bool { return t.ColorTemperature != nil && t.Color == nil })
	if err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "set the "+strings.ToLower(zw.Endpoint.FriendlyName)+" to warm white", d.setColorTemperature(zw.Endpoint.ID, 2700)); err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}
	d.showZCL(zclColor, "the ZCL Color Control command (move to colour temperature)")
	zk, err := d.target(ctx, "zigbee", "", func(t model.Traits) bool { return t.Lock != nil })
	if err != nil {
		return err
	}
	for _, locked := range []bool{false, true} {
		verb := "unlock"
		if locked {
			verb = "lock"
		}
		if evs, err = d.ask(ctx, verb+" the "+strings.ToLower(zk.Endpoint.FriendlyName), d.lock(zk.Endpoint.ID, locked)); err != nil {
			return err
		}
		if err := expect(evs, "Response", ""); err != nil {
			return err
		}
		d.showZCL(zclDoorLock, "the ZCL Door Lock command ("+verb+")")
	}
	zt, err := d.target(ctx, "zigbee", "", func(t model.Traits) bool { return t.Thermostat != nil })
	if err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "set the "+strings.ToLower(zt.Endpoint.FriendlyName)+" to 22 degrees", d.setTarget(zt.Endpoint.ID, 22)); err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}
	d.showZCL(zclThermostat, "the ZCL Thermostat write")
	if err := d.traceHasZCL(zclOnOff, zclLevel, zclColor, zclDoorLock, zclThermostat); err != nil {
		return err
	}

	d.section("Voice: MQTT devices (mqtt bridge → zigbee2mqtt)")
	ml, err := d.target(ctx, "mqtt", "", func(t model.Traits) bool { return t.ColorTemperature != nil })
	if err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "set the "+strings.ToLower(ml.Endpoint.FriendlyName)+" to warm white", d.setColorTemperature(ml.Endpoint.ID, 2700)); err != nil {
		return err
	}
	if err := expect(evs, "Response", ""); err != nil {
		return err
	}
	if evs, err = d.ask(ctx, "is the "+strings.ToLower(ml.Endpoint.FriendlyName)+" on?", reportState(ml.Endpoint.ID)); err != nil {
		return err
	}
	return expect(evs, "StateReport", "")
}

// byHand changes a Zigbee device on the coordinator emulator, as a person at a
// switch would, and waits for the ChangeReport.
func (d *demo) byHand(ctx context.Context) error {
	d.section("By hand: someone flips a Zigbee switch")
	zl, err := d.target(ctx, "zigbee", "", func(t model.Traits) bool { return t.Brightness != nil })
	if err != nil {
		return err
	}
	before, err := d.recordedEvents(ctx)
	if err != nil {
		return err
	}
	ieee := zl.Endpoint.DeviceID
	if err := call(ctx, "POST", d.znpAdmin+"/sim/devices/"+ieee+"/set", map[string]any{"onOff": 0}, nil); err != nil {
		return err
	}
	d.say("  znp-sim: %s (%s) switched off at the wall → an On/Off attribute report on the serial line", zl.Endpoint.FriendlyName, ieee)
	cr, err := d.waitChangeReport(ctx, len(before), zl.Endpoint.ID, "PHYSICAL_INTERACTION")
	if err != nil {
		return err
	}
	d.showFrame("znp>host", "44 81", "AF_INCOMING_MSG carrying the ZCL attribute report")
	d.say("    ← %s", describe(cr))
	return nil
}

// ZCL clusters the demo drives on the Zigbee devices, as the AF_DATA_REQUEST
// frame spells them (little-endian hex).
const (
	zclOnOff      = "06 00"
	zclLevel      = "08 00"
	zclDoorLock   = "01 01"
	zclThermostat = "01 02"
	zclColor      = "00 03"
	// zclWindowCovering is the blind's cluster 0x0102.
	zclWindowCovering = "02 01"
)

// afRequests returns the AF_DATA_REQUEST frames of the serial trace for cluster.
func (d *demo) afRequests(cluster string) []string {
	b, err := os.ReadFile(filepath.Join(d.out, "znp-trace.log"))
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, " ", 3)
		// FE len 24 01 dst(2) dstEP srcEP cluster(2) …
		if len(f) == 3 && f[1] == "host>znp" && len(f[2]) > 29 && f[2][6:11] == "24 01" && f[2][24:29] == cluster {
			out = append(out, f[2])
		}
	}
	return out
}

// showZCL prints the last AF_DATA_REQUEST of the serial trace for cluster.
func (d *demo) showZCL(cluster, what string) {
	if fs := d.afRequests(cluster); len(fs) > 0 {
		d.say("    serial host>znp %s  (AF_DATA_REQUEST carrying %s)", fs[len(fs)-1], what)
	}
}

// traceHasZCL checks that the serial trace carries a command for every cluster.
func (d *demo) traceHasZCL(clusters ...string) error {
	for _, c := range clusters {
		if len(d.afRequests(c)) == 0 {
			return fmt.Errorf("the serial trace has no AF_DATA_REQUEST for ZCL cluster %s", c)
		}
	}
	d.say("  the serial trace (znp-trace.log) carries a ZCL command for each Zigbee device kind: On/Off, Level, Color, Door Lock, Thermostat")
	return nil
}

// showFrame prints the last frame of the serial trace in direction dir whose
// command bytes (after the length) are cmd, e.g. "24 01" for AF_DATA_REQUEST.
func (d *demo) showFrame(dir, cmd, what string) {
	b, err := os.ReadFile(filepath.Join(d.out, "znp-trace.log"))
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		f := strings.SplitN(lines[i], " ", 3)
		if len(f) == 3 && f[1] == dir && len(f[2]) > 9 && f[2][6:11] == cmd {
			d.say("    serial %s %s  (%s)", dir, f[2], what)
			return
		}
	}
}

// dashboardCommand controls a light from MQTT as Home Assistant would.
func (d *demo) dashboardCommand(ctx context.Context) error {
	d.section("Dashboard: Home Assistant over MQTT")
	light, err := d.target(ctx, "virtual", "Kitchen Light", nil)
	if err != nil {
		return err
	}
	node := dashboard.NodeID(light.Endpoint)
	d.say("  what Home Assistant sees (mosquitto_sub -h %s -p %s -t 'homeassistant/#' -t 'avshub/#' -v):",
		strings.Split(d.brokerAddr, ":")[0], strings.Split(d.brokerAddr, ":")[1])
	if err := d.showDashboardTopics(node); err != nil {
		return err
	}
	before, err := d.recordedEvents(ctx)
	if err != nil {
		return err
	}
	opts := paho.NewClientOptions().AddBroker("tcp://" + d.brokerAddr).SetClientID("avshub-demo-dashboard")
	c := paho.NewClient(opts)
	if t := c.Connect(); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return fmt.Errorf("dashboard MQTT connect: %v", t.Error())
	}
	defer c.Disconnect(100)
	topic := "avshub/" + node + "/set"
	payload := `{"state":"ON","brightness":75}`
	if t := c.Publish(topic, 1, false, payload); !t.WaitTimeout(10*time.Second) || t.Error() != nil {
		return fmt.Errorf("dashboard publish: %v", t.Error())
	}
	host, port, _ := net.SplitHostPort(d.brokerAddr)
	d.say("  mosquitto_pub -h %s -p %s -t '%s' -m '%s'", host, port, topic, payload)
	cr, err := d.waitChangeReport(ctx, len(before), light.Endpoint.ID, "APP_INTERACTION")
	if err != nil {
		return err
	}
	d.say("    ← %s", describe(cr))
	return nil
}

// showDashboardTopics prints a few recorded dashboard messages for node.
func (d *demo) showDashboardTopics(node string) error {
	f, err := os.Open(filepath.Join(d.out, "dashboard-messages.jsonl"))
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	shown := 0
	for sc.Scan() && shown < 4 {
		var m struct {
			Topic   string          `json:"topic"`
			Payload json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(sc.Bytes(), &m) != nil || !strings.Contains(m.Topic, node) {
			continue
		}
		// As mosquitto_sub -v prints it: the topic, then the payload.
		payload := string(m.Payload)
		var text string
		if json.Unmarshal(m.Payload, &text) == nil {
			payload = text
		}
		d.say("    %s", model.Abbreviate(m.Topic+" "+payload, 150))
		shown++
	}
	return sc.Err()
}

// crash kills the virtual bridge's process and watches the hub recover.
func (d *demo) crash(ctx context.Context) error {
	d.section("A bridge crashes and recovers")
	light, err := d.target(ctx, "virtual", "Kitchen Light", nil)
	if err != nil {
		return err
	}
	c := web.NewClient(d.socket)
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	pid := 0
	for _, b := range st.Bridges {
		if b.Name == "virtual" {
			pid = b.PID
		}
	}
	if pid <= 0 {
		return fmt.Errorf("the hub does not report the virtual bridge's process id")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	d.say("  kill -9 %d (the virtual bridge, `avshub bridge virtual`, in the middle of the hub's life)", pid)
	err = waitFor(ctx, "the virtual bridge to restart", 30*time.Second, func() (bool, error) {
		st, err := c.Status(ctx)
		if err != nil {
			return false, err
		}
		for _, b := range st.Bridges {
			if b.Name == "virtual" && b.Restarts > 0 && b.State == "running" && b.Health == "HEALTHY" {
				d.say("  the hub restarted it (restarts=%d); its endpoints were unreachable meanwhile and are re-synced", b.Restarts)
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	evs, err := d.ask(ctx, "turn on the kitchen light", turnOn(light.Endpoint.ID))
	if err != nil {
		return err
	}
	return expect(evs, "Response", "")
}

func (d *demo) whereToLook() {
	d.section("Still running (KEEP=1); Ctrl-C stops everything")
	d.say("  status page     http://%s/", d.statusAddr)
	d.say("  metrics         http://%s/metrics", d.statusAddr)
	if d.skill() {
		d.say("  skill emulator  %s/sim/state, /sim/endpoints, /sim/events (POST /sim/discover, /sim/accept-grant, /sim/fault)", d.adminURL)
	} else {
		d.say("  AVS emulator    %s/sim/state, /sim/endpoints, /sim/events", d.adminURL)
	}
	d.say("  send a directive: curl -s -XPOST '%s/sim/directive?wait=10s' -d '{\"namespace\":\"Alexa.PowerController\",\"name\":\"TurnOff\",\"endpointId\":\"<id>\"}'", d.adminURL)
	d.say("  hub CLI         %s/avshub status --socket %s", d.bin, d.socket)
	d.say("  MQTT            mosquitto_sub -h %s -p %s -t '#' -v", strings.Split(d.brokerAddr, ":")[0], strings.Split(d.brokerAddr, ":")[1])
	d.say("  Zigbee emulator %s/sim/devices    zigbee2mqtt emulator %s/sim/devices", d.znpAdmin, d.z2mAdmin)
}
