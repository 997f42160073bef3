package zigbee

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
	"github.com/avshub/avshub/bridges/zigbee/znpsim"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

func sdkConfig(js, dir string) sdk.Config { return sdk.Config{JSON: json.RawMessage(js), DataDir: dir} }

var published = []string{ieeeHue, ieeeIkeaCT, ieeeDim, ieeeLock, ieeeTRV, ieeeAqara}

// TestStartupFormsNetworkWithOwnKey: first start forms a network with a
// generated key (never the well-known one), persisted in the data dir.
func TestStartupFormsNetworkWithOwnKey(t *testing.T) {
	r := newRig(t, testDevices(t))
	key := r.sim.NetworkKey()
	if len(key) != 16 || bytes.Equal(key, znpsim.DefaultNetworkKey()) {
		t.Fatalf("network key %x: want a generated 16-byte key", key)
	}
	db, err := loadDB(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	if db.Network == nil || !bytes.Equal(db.Network.Key, key) {
		t.Fatalf("persisted network %+v does not hold the stick's key", db.Network)
	}
	ch, pan, formed := r.sim.Network()
	if !formed || int(ch) != 15 || pan != db.Network.PANID {
		t.Fatalf("stick network ch=%d pan=%04x formed=%v; stored %+v", ch, pan, formed, db.Network)
	}
	st, err := os.Stat(filepath.Join(r.dir, dbName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode: %v %v", st.Mode(), err)
	}
	// The trace has the documented line format and the ping SREQ.
	tr := r.trace.String()
	line := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT[0-9:.]+Z (host>znp|znp>host) [0-9A-F]{2}( [0-9A-F]{2})*$`)
	for _, l := range strings.Split(strings.TrimSpace(tr), "\n") {
		if !line.MatchString(l) {
			t.Fatalf("bad trace line %q", l)
		}
	}
	if !strings.Contains(tr, "host>znp FE 00 21 01 20\n") {
		t.Fatal("trace lacks the SYS_PING frame FE 00 21 01 20")
	}
	// ZDO_DIRECT_CB was written as 1 (NV_WRITE_EXT id 0x008F).
	if !strings.Contains(tr, "host>znp FE 07 21 1D 8F 00 00 00 01 00 01") {
		t.Fatal("trace lacks the ZDO_DIRECT_CB=1 NV write")
	}
}

func TestPairingPublishesTraits(t *testing.T) {
	r := newRig(t, testDevices(t))
	devs := r.pair(published...)
	hue := devs[ieeeHue].Endpoint
	if hue.Category != model.CategoryLight || hue.Traits.OnOff == nil || hue.Traits.Brightness == nil || hue.Traits.Color == nil ||
		hue.Traits.ColorTemperature == nil || hue.Traits.ColorTemperature.MinKelvin != 2000 || hue.Traits.ColorTemperature.MaxKelvin != 6535 {
		t.Errorf("hue bulb endpoint: %s", jsonString(hue))
	}
	if hue.Manufacturer != "Signify Netherlands B.V." || hue.Model != "LCT015" || hue.Connections[0].MACAddress != "00:17:88:01:04:a1:c3:e5" {
		t.Errorf("hue bulb identity: %s", jsonString(hue))
	}
	ct := devs[ieeeIkeaCT].Endpoint.Traits
	if ct.Color != nil || ct.ColorTemperature == nil || ct.ColorTemperature.MinKelvin != 2203 || ct.ColorTemperature.MaxKelvin != 4000 {
		t.Errorf("IKEA WS bulb traits: %s", jsonString(ct))
	}
	dim := devs[ieeeDim].Endpoint.Traits
	if dim.Brightness == nil || dim.Color != nil || dim.ColorTemperature != nil {
		t.Errorf("dimmable traits: %s", jsonString(dim))
	}
	lock := devs[ieeeLock]
	if lock.Endpoint.Category != model.CategorySmartLock || lock.Endpoint.Traits.Lock == nil || lock.State.Lock != model.Locked {
		t.Errorf("lock: %s", jsonString(lock))
	}
	trv := devs[ieeeTRV]
	th := trv.Endpoint.Traits.Thermostat
	if th == nil || len(th.Modes) != 1 || th.Modes[0] != model.ModeHeat || th.MinC != 5 || th.MaxC != 35 || !th.TargetSetpoint ||
		trv.Endpoint.Traits.TemperatureSensor == nil {
		t.Errorf("thermostat traits: %s", jsonString(trv.Endpoint.Traits))
	}
	if trv.State.Temperature == nil || *trv.State.Temperature != 21.5 || trv.State.Thermostat == nil || *trv.State.Thermostat.Target != 21 ||
		trv.State.Thermostat.Mode != model.ModeHeat {
		t.Errorf("thermostat state: %s", jsonString(trv.State))
	}
	aq := devs[ieeeAqara]
	if aq.Endpoint.Category != model.CategoryTemperatureSensor || aq.State.Temperature == nil || *aq.State.Temperature != 20.8 {
		t.Errorf("aqara: %s", jsonString(aq))
	}
	// The remote has no trait: remembered, not published.
	rem, ok := r.record(ieeeRemote)
	deadline := time.Now().Add(5 * time.Second)
	for (!ok || !rem.Interviewed) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling the bridge's database with a deadline
		rem, ok = r.record(ieeeRemote)
	}
	if !ok || !rem.Interviewed || rem.Model != "TRADFRI remote control" {
		t.Fatalf("remote not remembered: %+v", rem)
	}
	r.em.mu.Lock()
	for _, ev := range r.em.events {
		if ev.Kind == model.EventUpsert && ev.Device.Endpoint.DeviceID == ieeeRemote {
			t.Error("the remote was published")
		}
	}
	r.em.mu.Unlock()
}

// zclMatch compares a sent ZCL frame with want, where "??" is the TSN.
func zclMatch(got []byte, want string) bool {
	w := strings.Fields(want)
	if len(w) != len(got) {
		return false
	}
	for i, x := range w {
		if x == "??" {
			continue
		}
		b, _ := hex.DecodeString(x)
		if b[0] != got[i] {
			return false
		}
	}
	return true
}

func TestCommandsOnTheWire(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(published...)
	cases := []struct {
		name    string
		id      string
		cmd     model.Command
		cluster uint16
		wire    string
		check   func(model.State) bool
	}{
		{"on", ieeeHue, model.SetPower(true), zcl.ClusterOnOff, "01 ?? 01", func(s model.State) bool { return *s.On }},
		{"off", ieeeHue, model.SetPower(false), zcl.ClusterOnOff, "01 ?? 00", func(s model.State) bool { return !*s.On }},
		{"brightness 50", ieeeDim, model.SetBrightness(50), zcl.ClusterLevel, "01 ?? 04 7F 00 00", func(s model.State) bool { return *s.Brightness == 50 && *s.On }},
		{"color hs", ieeeHue, model.SetColor(model.HSB{Hue: 120, Saturation: 1, Brightness: 1}), zcl.ClusterColor, "01 ?? 06 55 FE 00 00",
			func(s model.State) bool { return s.Color != nil && s.Color.Hue == 120 }},
		{"color temperature 2700K", ieeeIkeaCT, model.SetColorTemperature(2700), zcl.ClusterColor, "01 ?? 0A 72 01 00 00",
			func(s model.State) bool { return *s.ColorTemperature == 2700 }},
		{"lock", ieeeLock, model.SetLock(model.Unlocked), zcl.ClusterDoorLock, "11 ?? 01 FF",
			func(s model.State) bool { return s.Lock == model.Unlocked }},
		{"setpoint 22.5", ieeeTRV, model.SetThermostat(model.ThermostatState{Target: model.Ptr(22.5)}), zcl.ClusterThermostat,
			"10 ?? 02 12 00 29 CA 08", func(s model.State) bool { return *s.Thermostat.Target == 22.5 }},
		{"mode heat", ieeeTRV, model.SetThermostat(model.ThermostatState{Mode: model.ModeHeat}), zcl.ClusterThermostat,
			"10 ?? 02 1C 00 30 04", func(s model.State) bool { return s.Thermostat.Mode == model.ModeHeat }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := r.frames.mark()
			res, err := r.exec(c.id, c.cmd)
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if res.Status != model.Done || !c.check(res.State) {
				t.Fatalf("result %s", jsonString(res))
			}
			sent := r.frames.zclSent(m, c.cluster)
			if len(sent) != 1 || !zclMatch(sent[0], c.wire) {
				t.Fatalf("sent %x, want one frame %s", sent, c.wire)
			}
		})
	}
	// The sim's own state follows.
	for _, d := range r.sim.Devices() {
		if d.IEEE == ieeeDim && d.Attributes["currentLevel"] != 127 {
			t.Errorf("simulated dimmable level %d", d.Attributes["currentLevel"])
		}
	}
}

func TestCommandErrors(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(published...)
	_, err := r.exec(ieeeTRV, model.SetThermostat(model.ThermostatState{Mode: model.ModeCool}))
	if e := model.AsError(err); e == nil || e.Kind != model.ErrUnsupportedThermostatMode {
		t.Errorf("cool on a heat-only TRV: %v", err)
	}
	_, err = r.exec(ieeeTRV, model.SetThermostat(model.ThermostatState{Target: model.Ptr(40.0)}))
	if e := model.AsError(err); e == nil || e.Kind != model.ErrTemperatureOutOfRange || e.Max != 35 {
		t.Errorf("setpoint 40: %v", err)
	}
	_, err = r.exec(ieeeAqara, model.SetPower(true))
	if e := model.AsError(err); e == nil || e.Kind != model.ErrNotSupported {
		t.Errorf("power on a sensor: %v", err)
	}
	_, err = r.exec("ffffffffffffffff", model.SetPower(true))
	if e := model.AsError(err); e == nil || e.Kind != model.ErrNotSupported {
		t.Errorf("unknown device: %v", err)
	}
}

func TestReportsAreStateChanges(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(published...)
	cases := []struct {
		id    string
		set   map[string]int64
		check func(model.State) bool
	}{
		{ieeeHue, map[string]int64{"onOff": 1}, func(s model.State) bool { return s.On != nil && *s.On }},
		{ieeeDim, map[string]int64{"currentLevel": 100}, func(s model.State) bool { return s.Brightness != nil && *s.Brightness == 39 }},
		{ieeeIkeaCT, map[string]int64{"colorTemperature": 400}, func(s model.State) bool { return s.ColorTemperature != nil && *s.ColorTemperature == 2500 }},
		{ieeeTRV, map[string]int64{"localTemperature": 1950}, func(s model.State) bool { return s.Temperature != nil && *s.Temperature == 19.5 }},
		{ieeeAqara, map[string]int64{"measuredValue": 2333}, func(s model.State) bool { return s.Temperature != nil && *s.Temperature == 23.33 }},
		{ieeeLock, map[string]int64{"lockState": 2}, func(s model.State) bool { return s.Lock == model.Unlocked }},
	}
	for _, c := range cases {
		m := r.em.mark()
		fm := r.frames.mark()
		if err := r.sim.Set(c.id, c.set); err != nil {
			t.Fatal(err)
		}
		r.em.waitFor(t, m, "state change of "+c.id, func(ev model.Event) bool {
			return ev.Kind == model.EventState && ev.DeviceID == c.id && ev.Cause == model.CausePhysical && c.check(ev.State)
		})
		if c.id == ieeeAqara { // its reports want a Default Response: 10 <tsn> 0B 0A 00
			deadline := time.Now().Add(5 * time.Second)
			for {
				sent := r.frames.zclSent(fm, zcl.ClusterTemperature)
				if len(sent) == 1 && zclMatch(sent[0], "10 ?? 0B 0A 00") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no default response to the Aqara report: %x", sent)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	// Our own command's echo is not reported as physical.
	m := r.em.mark()
	if _, err := r.exec(ieeeHue, model.SetPower(false)); err != nil {
		t.Fatal(err)
	}
	if err := r.sim.Set(ieeeDim, map[string]int64{"onOff": 1}); err != nil { // a later, unrelated change as a barrier
		t.Fatal(err)
	}
	r.em.waitFor(t, m, "barrier", func(ev model.Event) bool { return ev.Kind == model.EventState && ev.DeviceID == ieeeDim })
	r.em.mu.Lock()
	for _, ev := range r.em.events[m:] {
		if ev.Kind == model.EventState && ev.DeviceID == ieeeHue {
			t.Errorf("command echo reported as %s: %s", ev.Cause, jsonString(ev.State))
		}
	}
	r.em.mu.Unlock()
}

func TestSlowLockAndJam(t *testing.T) {
	specs := testDevices(t)
	for i := range specs {
		if specs[i].Type == "yale-lock" {
			specs[i].LockDelay = 700 * time.Millisecond
		}
	}
	r := newRig(t, specs)
	r.br.lockWait = 100 * time.Millisecond
	r.pair(published...)
	m := r.em.mark()
	res, err := r.br.Execute(context.Background(), model.Request{CorrelationID: "slow-1", DeviceID: ieeeLock, Command: model.SetLock(model.Unlocked), Deadline: time.Now().Add(8 * time.Second)})
	if err != nil || res.Status != model.Accepted {
		t.Fatalf("slow unlock: %v %s", err, jsonString(res))
	}
	ev := r.em.waitFor(t, m, "completion", func(ev model.Event) bool { return ev.Kind == model.EventCompletion })
	if ev.Completion.CorrelationID != "slow-1" || ev.Completion.Err != nil || ev.Completion.State.Lock != model.Unlocked {
		t.Fatalf("completion %s", jsonString(ev.Completion))
	}
	// Jam.
	if err := r.sim.Set(ieeeLock, map[string]int64{"jam": 1}); err != nil {
		t.Fatal(err)
	}
	m = r.em.mark()
	res, err = r.br.Execute(context.Background(), model.Request{CorrelationID: "jam-1", DeviceID: ieeeLock, Command: model.SetLock(model.Locked), Deadline: time.Now().Add(8 * time.Second)})
	if err != nil || res.Status != model.Accepted {
		t.Fatalf("jamming lock: %v %s", err, jsonString(res))
	}
	ev = r.em.waitFor(t, m, "jam completion", func(ev model.Event) bool { return ev.Kind == model.EventCompletion })
	if ev.Completion.CorrelationID != "jam-1" || ev.Completion.Err == nil || ev.Completion.Err.Kind != model.ErrHardwareFault {
		t.Fatalf("jam completion %s", jsonString(ev.Completion))
	}
	// A fast lock answers Done.
	r.br.lockWait = 3 * time.Second
	res, err = r.exec(ieeeLock, model.SetLock(model.Locked))
	if err != nil || res.Status != model.Done || res.State.Lock != model.Locked {
		t.Fatalf("lock after jam: %v %s", err, jsonString(res))
	}
}

func TestUnreachableDevice(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(published...)
	if err := r.sim.SetOnline(ieeeHue, false); err != nil {
		t.Fatal(err)
	}
	m := r.em.mark()
	fm := r.frames.mark()
	_, err := r.exec(ieeeHue, model.SetPower(true))
	if e := model.AsError(err); e == nil || e.Kind != model.ErrUnreachable {
		t.Fatalf("offline bulb: %v", err)
	}
	if n := len(r.frames.zclSent(fm, zcl.ClusterOnOff)); n != maxAttempts {
		t.Errorf("sent %d attempts on MAC_NO_ACK, want %d", n, maxAttempts)
	}
	rediscoveries := 0
	r.frames.mu.Lock()
	for _, f := range r.frames.frames[fm:] {
		if f.Subsystem == 0x05 && f.Cmd == 0x45 && len(f.Data) == 4 && f.Data[0] == 0x01 && f.Data[1] == 0x6a {
			rediscoveries++
		}
	}
	r.frames.mu.Unlock()
	if rediscoveries != maxAttempts-1 {
		t.Errorf("%d route rediscoveries to 0x6a01 before %d retries", rediscoveries, maxAttempts-1)
	}
	r.em.waitFor(t, m, "unreachable", func(ev model.Event) bool {
		return ev.Kind == model.EventReachability && ev.DeviceID == ieeeHue && !ev.Reachable
	})
	if _, err := r.br.State(context.Background(), ieeeHue); model.AsError(err).Kind != model.ErrUnreachable {
		t.Errorf("State of an unreachable device: %v", err)
	}
	if err := r.sim.SetOnline(ieeeHue, true); err != nil {
		t.Fatal(err)
	}
	m = r.em.mark()
	if _, err := r.exec(ieeeHue, model.SetPower(true)); err != nil {
		t.Fatal(err)
	}
	r.em.waitFor(t, m, "reachable again", func(ev model.Event) bool {
		return ev.Kind == model.EventReachability && ev.DeviceID == ieeeHue && ev.Reachable
	})
}

func TestAvailabilityCheck(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(ieeeDim)
	if err := r.sim.SetOnline(ieeeDim, false); err != nil {
		t.Fatal(err)
	}
	m := r.em.mark()
	// The ticker runs at the configured period (set at session start); trigger a check directly.
	r.br.mu.Lock()
	r.br.lastSeen[ieeeDim] = time.Now().Add(-2 * time.Hour)
	r.br.mu.Unlock()
	r.br.checkAvailability(context.Background())
	r.em.waitFor(t, m, "unreachable by availability check", func(ev model.Event) bool {
		return ev.Kind == model.EventReachability && ev.DeviceID == ieeeDim && !ev.Reachable
	})
}

func TestUnplugReplugAndNoise(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(ieeeHue)
	m := r.em.mark()
	if err := r.sim.Unplug(); err != nil {
		t.Fatal(err)
	}
	r.em.waitFor(t, m, "UNHEALTHY", func(ev model.Event) bool {
		return ev.Kind == model.EventHealth && ev.Health.State == model.HealthUnhealthy
	})
	_, err := r.exec(ieeeHue, model.SetPower(true))
	if e := model.AsError(err); e == nil || e.Kind != model.ErrBridgeUnreachable {
		t.Errorf("command while unplugged: %v", err)
	}
	m = r.em.mark()
	if err := r.sim.Replug(); err != nil {
		t.Fatal(err)
	}
	r.em.waitFor(t, m, "HEALTHY again", func(ev model.Event) bool {
		return ev.Kind == model.EventHealth && ev.Health.State == model.HealthHealthy
	})
	if _, err := r.exec(ieeeHue, model.SetPower(true)); err != nil {
		t.Fatalf("command after replug: %v", err)
	}
	for i := 0; i < 3; i++ {
		r.sim.Noise()
		if _, err := r.exec(ieeeHue, model.SetPower(i%2 == 0)); err != nil {
			t.Fatalf("command after noise: %v", err)
		}
	}
}

func TestRestartKnowsDevices(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(published...)
	if _, err := r.exec(ieeeDim, model.SetBrightness(30)); err != nil {
		t.Fatal(err)
	}
	key := r.sim.NetworkKey()
	r.stopBridge()
	fm := r.frames.mark()
	r.startBridge()
	snap := r.em.waitFor(t, 0, "snapshot", func(ev model.Event) bool { return ev.Kind == model.EventSnapshot })
	if len(snap.Devices) != len(published) {
		t.Fatalf("snapshot after restart has %d devices, want %d", len(snap.Devices), len(published))
	}
	for _, d := range snap.Devices {
		if d.Endpoint.DeviceID == ieeeDim && (d.State.Brightness == nil || *d.State.Brightness != 30) {
			t.Errorf("dimmable state after restart: %s", jsonString(d.State))
		}
	}
	if !bytes.Equal(r.sim.NetworkKey(), key) {
		t.Error("the network was re-formed on restart")
	}
	r.frames.mu.Lock()
	for _, f := range r.frames.frames[fm:] {
		if f.Subsystem == 0x0F && f.Cmd == 0x05 {
			t.Error("restart commissioned a new network")
		}
	}
	r.frames.mu.Unlock()
	if _, err := r.exec(ieeeHue, model.SetPower(true)); err != nil {
		t.Fatalf("command after restart: %v", err)
	}
}

func TestLeaveAndRejoin(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(ieeeHue, ieeeDim)
	m := r.em.mark()
	if err := r.sim.Rejoin(ieeeDim); err != nil {
		t.Fatal(err)
	}
	// After the announce the new short address is used.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := r.exec(ieeeDim, model.SetPower(true))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("command after rejoin: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.sim.Leave(ieeeHue); err != nil {
		t.Fatal(err)
	}
	r.em.waitFor(t, m, "remove", func(ev model.Event) bool { return ev.Kind == model.EventRemove && ev.DeviceID == ieeeHue })
	_, err := r.exec(ieeeHue, model.SetPower(true))
	if e := model.AsError(err); e == nil || e.Kind != model.ErrNotSupported {
		t.Errorf("command to a device that left: %v", err)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []struct {
		in  string
		err bool
	}{
		{`{"port":"/dev/x"}`, false},
		{SampleConfig, false},
		{`{}`, true},
		{`{"port":"/dev/x","channel":27}`, true},
		{`{"port":"/dev/x","bogus":1}`, true},
	} {
		_, err := ParseConfig([]byte(c.in))
		if (err != nil) != c.err {
			t.Errorf("ParseConfig(%s) = %v", c.in, err)
		}
	}
	if !json.Valid([]byte(ConfigSchema)) {
		t.Error("schema is not JSON")
	}
}

// A device whose radio acknowledges but whose application does not answer
// (missing ZCL response) becomes unreachable, without delivery retries.
func TestMissingZCLResponse(t *testing.T) {
	r := newRig(t, testDevices(t))
	r.pair(published...) // every interview done: no other frames on the On/Off cluster
	if err := r.sim.SetHung(ieeeIkeaCT, true); err != nil {
		t.Fatal(err)
	}
	m := r.em.mark()
	fm := r.frames.mark()
	start := time.Now()
	_, err := r.exec(ieeeIkeaCT, model.SetPower(true))
	if e := model.AsError(err); e == nil || e.Kind != model.ErrUnreachable {
		t.Fatalf("hung bulb: %v", err)
	}
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Errorf("gave up after %v, before the response timeout", d)
	}
	if n := len(r.frames.zclSent(fm, zcl.ClusterOnOff)); n != 1 {
		t.Errorf("%d frames sent; a delivered frame is not retried", n)
	}
	r.em.waitFor(t, m, "unreachable", func(ev model.Event) bool {
		return ev.Kind == model.EventReachability && ev.DeviceID == ieeeIkeaCT && !ev.Reachable
	})
}
