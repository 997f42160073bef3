package z2msim_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
)

// shape is what z2m-sim must match of one recorded message: its topic, an
// event's type and status, and the keys of the payload and of its data (the
// values differ: the devices, the definitions and the transactions are not
// the same).
func shape(m z2msim.Message, device string) string {
	topic := m.Topic
	if topic == device {
		topic = "<device>"
	}
	if len(m.Payload) == 0 {
		return topic + " (empty)"
	}
	var p map[string]any
	if json.Unmarshal(m.Payload, &p) != nil {
		return topic + " " + string(m.Payload)
	}
	s := topic + " " + keyList(p)
	if d, ok := p["data"].(map[string]any); ok {
		s += " data " + keyList(d)
		if st, ok := d["status"].(string); ok {
			s += " status " + st
		}
	}
	if t, ok := p["type"].(string); ok {
		s += " type " + t
	}
	if st, ok := p["status"].(string); ok {
		s += " " + st
	}
	return s
}

func keyList(m map[string]any) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// about reports whether m concerns the device (its topic, or its ieee
// address in the payload).
func about(m z2msim.Message, ieee, name string) bool {
	return m.Topic == name || strings.Contains(string(m.Payload), `"`+ieee+`"`)
}

// pairingShapes splits a device's messages into its join (bridge/event up to
// the interview's end) and its removal (from the remove request to its
// response), and the permit_join response.
func pairingShapes(msgs []z2msim.Message, ieee, name string) (join, remove []string, permit string) {
	removing := false
	for _, m := range msgs {
		switch {
		case m.Topic == "bridge/response/permit_join":
			permit = shape(m, name)
		case m.Topic == "bridge/request/device/remove" && about(m, ieee, name):
			removing = true
		case removing && m.Topic == name && len(m.Payload) > 0:
			// The device's own state report (answering a /get): not
			// part of the removal.
		case removing && about(m, ieee, name):
			remove = append(remove, shape(m, name))
			if m.Topic == "bridge/response/device/remove" {
				removing = false
			}
		case m.Topic == "bridge/event" && about(m, ieee, name):
			join = append(join, shape(m, name))
		}
	}
	return join, remove, permit
}

// TestPairingMatchesRecording holds z2m-sim's answers to permit_join and
// device/remove, and its bridge/event messages for a device joining, to what
// the real zigbee2mqtt 2.14.1 published (testdata/real-pairing.json): the
// same messages in the same order with the same keys.
func TestPairingMatchesRecording(t *testing.T) {
	rec, err := z2msim.LoadPairingRecording(z2msim.PairingRecordingFile)
	if err != nil {
		t.Fatal(err)
	}
	realJoin, realRemove, realPermit := pairingShapes(rec.Messages, rec.Removed, rec.Removed)
	if len(realJoin) == 0 || len(realRemove) == 0 || realPermit == "" {
		t.Fatalf("the recording lacks a join, a removal or a permit_join answer: %q %q %q", realJoin, realRemove, realPermit)
	}

	_, sim, w := start(t)
	dev, ok := sim.Device("kitchen/ceiling")
	if !ok {
		t.Fatal("z2m-sim has no kitchen/ceiling")
	}
	t0 := time.Now()
	publish := func(topic, payload string) {
		t.Helper()
		if tok := w.c.Publish("zigbee2mqtt/"+topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	removeRequest := fmt.Sprintf(`{"id":%q,"force":false,"block":false,"transaction":"t-1"}`, dev.IEEEAddress)
	publish("bridge/request/device/remove", removeRequest)
	w.next(t, "zigbee2mqtt/bridge/response/device/remove", 1)
	if _, still := sim.Device(dev.FriendlyName); still {
		t.Errorf("z2m-sim still lists %s after its removal", dev.FriendlyName)
	}
	publish("bridge/request/permit_join", `{"time":10,"transaction":"t-2"}`)
	w.next(t, "zigbee2mqtt/bridge/response/permit_join", 1)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(strings.Join(simMessagesText(w, t0), "\n"), `"successful"`) {
		time.Sleep(20 * time.Millisecond)
	}
	if _, back := sim.Device(dev.FriendlyName); !back {
		t.Errorf("%s did not join again when the network opened", dev.FriendlyName)
	}

	// The requests as this test sent them, the remove request first: the
	// broker's copies of them may reach the watcher after z2m-sim's answers
	// (it sends a request to every subscriber, z2m-sim among them).
	msgs := []z2msim.Message{{Topic: "bridge/request/device/remove", Payload: json.RawMessage(removeRequest)}}
	w.mu.Lock()
	for _, m := range w.all {
		topic := strings.TrimPrefix(m.topic, "zigbee2mqtt/")
		if m.at.Before(t0) || (topic != dev.FriendlyName && !strings.HasPrefix(topic, "bridge/event") &&
			!strings.HasPrefix(topic, "bridge/response/")) {
			continue
		}
		msgs = append(msgs, z2msim.Message{Topic: topic, Payload: json.RawMessage(m.payload)})
	}
	w.mu.Unlock()
	simJoin, simRemove, simPermit := pairingShapes(msgs, dev.IEEEAddress, dev.FriendlyName)
	for _, c := range []struct {
		what      string
		sim, real any
	}{{"join", simJoin, realJoin}, {"removal", simRemove, realRemove}, {"permit_join answer", simPermit, realPermit}} {
		if !reflect.DeepEqual(c.sim, c.real) {
			t.Errorf("%s:\n z2m-sim   %q\n zigbee2mqtt %q", c.what, c.sim, c.real)
		}
	}
}

func simMessagesText(w *watcher, t0 time.Time) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, m := range w.all {
		if !m.at.Before(t0) {
			out = append(out, string(m.payload))
		}
	}
	return out
}

// TestPermitJoinAndRemoveErrors: the requests zigbee2mqtt refuses are
// answered with its messages and the request's transaction.
func TestPermitJoinAndRemoveErrors(t *testing.T) {
	_, sim, w := start(t)
	cases := []struct {
		topic, payload, want string
	}{
		{"permit_join", `{"transaction":"a"}`, "Invalid payload"},
		{"permit_join", `{"time":255,"transaction":"a"}`, "Cannot permit join for more than 254 seconds."},
		{"permit_join", `{"time":10,"device":"nope","transaction":"a"}`, "Device 'nope' does not exist"},
		{"device/remove", `{"id":"nope","transaction":"a"}`, "Device 'nope' does not exist"},
	}
	if err := sim.SetAsleep("kitchen/ceiling", true); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, struct{ topic, payload, want string }{"device/remove", `{"id":"kitchen/ceiling","transaction":"a"}`,
		"Failed to remove device 'kitchen/ceiling' (block: false, force: false, keep config: false, clear cache: false)"})
	n := map[string]int{}
	for _, c := range cases {
		if tok := w.c.Publish("zigbee2mqtt/bridge/request/"+c.topic, 1, false, c.payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		n[c.topic]++
		got := decode(t, w.next(t, "zigbee2mqtt/bridge/response/"+c.topic, n[c.topic]))
		if got["status"] != "error" || !strings.HasPrefix(fmt.Sprint(got["error"]), c.want) || got["transaction"] != "a" ||
			!reflect.DeepEqual(got["data"], map[string]any{}) {
			t.Errorf("%s %s answered %v, want error %q", c.topic, c.payload, got, c.want)
		}
	}
	if sim.PermitJoin() {
		t.Error("a refused permit_join opened the network")
	}
	if _, ok := sim.Device("kitchen/ceiling"); !ok {
		t.Error("a failed removal removed the device")
	}
}
