package zigbee

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
	"github.com/avshub/avshub/bridges/zigbee/znpsim"
	"github.com/avshub/avshub/discovery/model"
)

// only keeps the simulated devices with the given ids.
func only(t *testing.T, specs []znpsim.DeviceSpec, ids ...string) []znpsim.DeviceSpec {
	t.Helper()
	var out []znpsim.DeviceSpec
	for _, s := range specs {
		v, err := znpsim.ParseIEEE(s.IEEE)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if formatIEEE(v) == id {
				out = append(out, s)
			}
		}
	}
	if len(out) != len(ids) {
		t.Fatalf("found %d of the devices %v", len(out), ids)
	}
	return out
}

// progressOf returns the pairing progress recorded after mark for device id
// ("" for the window's).
func (r *rig) progressOf(mark int, id string) []model.Pairing {
	r.em.mu.Lock()
	defer r.em.mu.Unlock()
	var out []model.Pairing
	for _, ev := range r.em.events[mark:] {
		if ev.Kind == model.EventPairing && ev.Pairing.DeviceID == id {
			out = append(out, *ev.Pairing)
		}
	}
	return out
}

// TestPairingProgressOnTheWire: the window is reported with its time left,
// a bulb joining on znpsim is announced, interviewed step by step (what each
// step reads), and published with its traits after its Upsert; a remote is
// reported as failed with why; the window's end is reported.
func TestPairingProgressOnTheWire(t *testing.T) {
	r := newRig(t, only(t, testDevices(t), ieeeHue, ieeeRemote))
	m := r.em.mark()
	if err := r.br.StartPairing(context.Background(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	pub := r.em.waitFor(t, m, "the bulb published", func(ev model.Event) bool {
		return ev.Kind == model.EventPairing && ev.Pairing.Stage == model.PairingPublished && ev.Pairing.DeviceID == ieeeHue
	})
	if ep := pub.Pairing.Endpoint; ep == nil || ep.Traits.Color == nil || ep.Traits.Brightness == nil || ep.FriendlyName == "" {
		t.Fatalf("published without its traits: %s", jsonString(pub.Pairing))
	}
	r.em.waitFor(t, m, "the remote's failure", func(ev model.Event) bool {
		return ev.Kind == model.EventPairing && ev.Pairing.Stage == model.PairingFailed && ev.Pairing.DeviceID == ieeeRemote &&
			strings.Contains(ev.Pairing.Detail, "remote")
	})
	// The reason names the device, in a person's words (its brand and model:
	// the demo printed "failed: is a remote or button" with no subject).
	if fail := r.progressOf(m, ieeeRemote); len(fail) == 0 || !strings.HasPrefix(fail[len(fail)-1].Detail, "IKEA TRADFRI remote control is a remote or button") {
		t.Errorf("the remote's failure: %s", jsonString(fail))
	}
	r.em.waitFor(t, m, "the window's end", func(ev model.Event) bool {
		return ev.Kind == model.EventPairing && ev.Pairing.Stage == model.PairingClosed && ev.Pairing.Remaining == 0
	})

	window := r.progressOf(m, "")
	if window[0].Stage != model.PairingOpen || window[0].Remaining != 2*time.Second {
		t.Errorf("window: %s", jsonString(window))
	}
	var stages, steps []string
	for _, p := range r.progressOf(m, ieeeHue) {
		if len(stages) == 0 || stages[len(stages)-1] != string(p.Stage) {
			stages = append(stages, string(p.Stage))
		}
		if p.Stage == model.PairingInterviewing {
			steps = append(steps, p.Detail)
		}
	}
	if got := strings.Join(stages, ","); got != "announced,interviewing,published" {
		t.Errorf("stages %s", got)
	}
	all := strings.Join(steps, "\n")
	for _, want := range []string{"active endpoints", "the Basic cluster: manufacturer, model", "colour capabilities", "binding Color Control"} {
		if !strings.Contains(all, want) {
			t.Errorf("no step %q in:\n%s", want, all)
		}
	}
	// The Upsert precedes the published report: the hub knows the endpoint by then.
	r.em.mu.Lock()
	up, pubAt := -1, -1
	for i, ev := range r.em.events[m:] {
		if ev.Kind == model.EventUpsert && ev.Device.Endpoint.DeviceID == ieeeHue && up < 0 {
			up = i
		}
		if ev.Kind == model.EventPairing && ev.Pairing.Stage == model.PairingPublished && ev.Pairing.DeviceID == ieeeHue {
			pubAt = i
		}
	}
	r.em.mu.Unlock()
	if up < 0 || up > pubAt {
		t.Errorf("upsert at %d, published at %d", up, pubAt)
	}
}

// TestRemoveSendsLeaveAndForgets: removing a device sends it ZDO
// Mgmt_Leave_req (leave for good); the simulated device confirms and leaves,
// the bridge forgets it (a Remove, not in its database, commands refused),
// and the device joins again as a new one when the network is next opened.
func TestRemoveSendsLeaveAndForgets(t *testing.T) {
	r := newRig(t, only(t, testDevices(t), ieeeHue, ieeeDim))
	r.pair(ieeeHue, ieeeDim)
	frames := r.frames.mark()
	m := r.em.mark()
	if err := r.br.RemoveDevice(context.Background(), ieeeHue); err != nil {
		t.Fatal(err)
	}
	r.em.waitFor(t, m, "remove", func(ev model.Event) bool { return ev.Kind == model.EventRemove && ev.DeviceID == ieeeHue })
	r.frames.mu.Lock()
	var leave []byte
	for _, f := range r.frames.frames[frames:] {
		if f.Subsystem == unpi.ZDO && f.Cmd == mt.ZdoMgmtLeaveReq && f.Type == unpi.SREQ {
			leave = f.Data
		}
	}
	r.frames.mu.Unlock()
	if len(leave) != 11 || leave[10] != 0 || formatIEEE(binary.LittleEndian.Uint64(leave[2:])) != ieeeHue {
		t.Fatalf("Mgmt_Leave_req % x", leave)
	}
	if _, ok := r.record(ieeeHue); ok {
		t.Error("the bridge still has the device")
	}
	for _, d := range r.sim.Devices() {
		if v, _ := znpsim.ParseIEEE(d.IEEE); formatIEEE(v) == ieeeHue && d.Joined {
			t.Error("the simulated device is still joined")
		}
	}
	if _, err := r.exec(ieeeHue, model.SetPower(true)); model.AsError(err).Kind != model.ErrNotSupported {
		t.Errorf("command to a removed device: %v", err)
	}
	if err := r.br.RemoveDevice(context.Background(), ieeeHue); model.AsError(err).Kind != model.ErrInvalidValue {
		t.Errorf("removing it again: %v", err)
	}
	// Opened again: it joins as a new device and is interviewed again.
	m = r.em.mark()
	r.pair(ieeeHue)
	if got := r.progressOf(m, ieeeHue); len(got) == 0 || got[0].Stage != model.PairingAnnounced {
		t.Errorf("rejoin progress %s", jsonString(got))
	}
}
