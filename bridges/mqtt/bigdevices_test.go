package mqtt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/sdk"
)

// bigDeviceList returns a bridge/devices payload of at least size bytes:
// z2m-sim's devices repeated under new addresses and names, and how many
// endpoints the bridge should make of it.
func bigDeviceList(t testing.TB, size int) ([]byte, int) {
	t.Helper()
	var base []map[string]any
	if err := json.Unmarshal(z2msim.BridgeDevices(), &base); err != nil {
		t.Fatal(err)
	}
	z := newZ2MSource("zigbee2mqtt", newOnceLog(quietLog()))
	z.handle("zigbee2mqtt/bridge/devices", z2msim.BridgeDevices())
	perCopy := len(z.units())
	var buf bytes.Buffer
	buf.WriteByte('[')
	copies := 0
	for buf.Len() < size {
		for _, d := range base {
			if d["type"] == "Coordinator" {
				continue
			}
			d2 := map[string]any{}
			for k, v := range d {
				d2[k] = v
			}
			d2["ieee_address"] = fmt.Sprintf("0x%08x%08x", 0xb0000000+copies, len(buf.Bytes()))
			d2["friendly_name"] = fmt.Sprintf("%s %d", d["friendly_name"], copies)
			b, err := json.Marshal(d2)
			if err != nil {
				t.Fatal(err)
			}
			if buf.Len() > 1 {
				buf.WriteByte(',')
			}
			buf.Write(b)
		}
		copies++
	}
	buf.WriteByte(']')
	return buf.Bytes(), copies * perCopy
}

// A 20 MB retained bridge/devices (zigbee2mqtt's list for every definition
// it knows is 18 MB) goes through a real broker, and the bridge's first
// snapshot already has every device: it waits for the retained state
// (the sync marker it publishes after subscribing comes back after it).
func TestBigRetainedDeviceList(t *testing.T) {
	payload, want := bigDeviceList(t, 20<<20)
	forEachBroker(t, func(t *testing.T, bk brokerKind) {
		e := newEnv(t, bk)
		e.publish(e.base+"/bridge/state", `{"state":"online"}`, true)
		if tok := e.raw.Publish(e.base+"/bridge/devices", 1, true, payload); !tok.WaitTimeout(2*time.Minute) || tok.Error() != nil {
			t.Fatalf("publish the device list: %v", tok.Error())
		}
		// Reading and parsing 20 MB takes long with the race detector on a
		// loaded machine: the bound is generous; the check is the content.
		e.startBridgeWait("", 3*time.Minute)
		e.rec.mu.Lock()
		defer e.rec.mu.Unlock()
		for _, ev := range e.rec.events {
			if ev.Kind == model.EventSnapshot {
				if len(ev.Devices) != want {
					t.Errorf("first snapshot has %d devices, want %d (from %d bytes)", len(ev.Devices), want, len(payload))
				}
				return
			}
		}
		t.Error("no snapshot")
	})
}

// In a big installation whose states are not retained (zigbee2mqtt's
// default), the /get requests come at most max at a time, in name order,
// each device once, with "more" until none is left.
func TestGetRequestsInBatches(t *testing.T) {
	payload, want := bigDeviceList(t, 256<<10)
	z := newZ2MSource("zigbee2mqtt", newOnceLog(quietLog()))
	z.handle("zigbee2mqtt/bridge/devices", payload)
	if len(z.units()) != want {
		t.Fatalf("%d units from the list, want %d", len(z.units()), want)
	}
	seen := map[string]bool{}
	var all []string
	for round := 0; ; round++ {
		msgs, more := z.getRequests(getBatch)
		if len(msgs) > getBatch {
			t.Fatalf("round %d: %d requests, want at most %d", round, len(msgs), getBatch)
		}
		if more && len(msgs) != getBatch {
			t.Fatalf("round %d: %d requests and more due, want a full batch of %d", round, len(msgs), getBatch)
		}
		for _, m := range msgs {
			if seen[m.topic] {
				t.Fatalf("round %d: %s requested again", round, m.topic)
			}
			seen[m.topic] = true
			all = append(all, m.topic)
		}
		if !more {
			break
		}
	}
	if len(all) <= 2*getBatch {
		t.Fatalf("only %d devices asked for their state: the list is too small to show batches", len(all))
	}
	if !slices.IsSorted(all) {
		t.Errorf("requests not in name order: %q", all)
	}
	if msgs, more := z.getRequests(getBatch); len(msgs) != 0 || more {
		t.Errorf("after every device was asked: %d requests, more %v", len(msgs), more)
	}
}

// The first snapshot comes once the retained state has been read, with no
// quiet time to guess it: the zigbee2mqtt list and a device's retained state
// (under the bridge's own subscription, before the first sync marker), and
// Home Assistant entities whose state topics are outside the discovery prefix
// (subscribed only once their configs are read, so a second marker follows
// that subscription). The settle time is an hour here: only the markers can
// bring the snapshot.
func TestFirstSnapshotHasRetainedState(t *testing.T) {
	forEachBroker(t, func(t *testing.T, bk brokerKind) {
		e := newEnv(t, bk)
		e.publishFixture("testdata/ha/esphome.json")
		e.publish(e.base+"/bridge/state", `{"state":"online"}`, true)
		e.publish(e.base+"/bridge/devices", string(z2msim.BridgeDevices()), true)
		e.publish(e.base+"/Office Sensor", `{"temperature":21.37,"humidity":48.2,"battery":100}`, true)

		e.bridge = New(slog.New(e.logs))
		e.bridge.settle, e.bridge.getDelay = time.Hour, time.Hour
		e.local = sdk.Local(e.bridge, "mqtt", e.rec)
		if err := e.local.Start(context.Background(), sdk.Config{JSON: json.RawMessage(e.config(""))}); err != nil {
			t.Fatalf("start bridge: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := e.local.Close(ctx); err != nil {
				t.Errorf("close bridge: %v", err)
			}
		})
		var snap []model.Device
		e.rec.wait(t, "snapshot", func(r *recorder) bool {
			for _, ev := range r.events {
				if ev.Kind == model.EventSnapshot {
					snap = ev.Devices
					return true
				}
			}
			return false
		})
		devs := map[string]model.Device{}
		for _, d := range snap {
			devs[d.Endpoint.DeviceID] = d
		}
		if len(devs) != 6+3 {
			t.Errorf("first snapshot has %d devices, want 6 from zigbee2mqtt and 3 from Home Assistant", len(devs))
		}
		if s := devs["z2m:0x00158d00045a6b7c"].State.Temperature; s == nil || *s != 21.37 {
			t.Errorf("Office Sensor's retained temperature not in the first snapshot: %+v", devs["z2m:0x00158d00045a6b7c"].State)
		}
		if th := devs["ha:ESPclimateoffice_thermostat"]; th.State.Thermostat == nil || th.State.Thermostat.Upper == nil || !th.Reachable {
			t.Errorf("thermostat's retained state (outside the prefix) not in the first snapshot: %+v, reachable %v", th.State, th.Reachable)
		}
		if l := devs["ha:ESPlockporch_lock"]; l.State.Lock != model.Locked || !l.Reachable {
			t.Errorf("lock's retained state not in the first snapshot: %+v, reachable %v", l.State, l.Reachable)
		}
		if l := devs["ha:ESPlightporch_light"]; l.State.Brightness == nil {
			t.Errorf("light's retained state not in the first snapshot: %+v", l.State)
		}
	})
}
