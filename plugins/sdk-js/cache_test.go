package sdkjs

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"reflect"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/avshub/avshub/discovery/model"
	pb "github.com/avshub/avshub/plugins/proto/bridge/v1"
	"github.com/avshub/avshub/plugins/proto/bridge/v1/convert"
)

// answerScript drives the JavaScript SDK's emitter as serve's Execute does:
// each bridge execute reports a change for its device while it runs (a
// plug's power after its relay), then answers with a copy of the device's
// older whole state. It prints the emitter's device states (what a new stream's
// snapshot carries) and how many commands are still recorded as under way.
const answerScript = `const sdk = require('./index.js');
const em = new sdk.Emitter();
const stored = { stateAt: Date.UTC(2026, 11, 6, 9, 0, 0, 250) }; // the states come from the bridge's storage
em.snapshot([
  sdk.build('plug', 'Plug', 'SMARTPLUG', sdk.withOnOff(false), sdk.withPower(0), stored),
  sdk.build('door', 'Door', 'SMARTLOCK', sdk.withLock(true), sdk.withPower(0), stored),
  sdk.build('panel', 'Panel', 'OTHER', sdk.withToggle('a'), sdk.withToggle('b'), stored),
  sdk.build('still', 'Still', 'OTHER', sdk.withToggle('a'), stored),
]);
(async () => {
  await em._execute({ device_id: 'plug', correlation_id: 'on' }, { trait: 'TRAIT_KIND_ON_OFF', power: true }, async () => {
    em.stateChanged('plug', { watts: 60 }, 'PHYSICAL');
    return { on: true, watts: 0 };
  });
  await em._execute({ device_id: 'door', correlation_id: 'unlock' }, { trait: 'TRAIT_KIND_LOCK', lock: 'LOCK_STATE_UNLOCKED' }, async () => {
    em.stateChanged('door', { watts: 60 }, 'PHYSICAL');
    return { accepted: { estimatedDeferralMs: 1000 } };
  });
  em.complete('unlock', { lock: 'LOCK_STATE_UNLOCKED', watts: 0 });
  await em._execute({ device_id: 'panel', correlation_id: 'a' }, { trait: 'TRAIT_KIND_TOGGLE', instance: 'a', toggle: true }, async () => {
    em.stateChanged('panel', { toggles: { b: true } }, 'PHYSICAL');
    return { toggles: { a: true, b: false } };
  });
  await em._execute({ device_id: 'plug', correlation_id: 'fails' }, { trait: 'TRAIT_KIND_ON_OFF', power: false }, async () => {
    throw sdk.errorf('HARDWARE_FAULT', 'relay stuck');
  }).catch(() => {});
  const states = Object.fromEntries([...em.devices].map(([id, d]) => [id, d.state]));
  const stateAt = Object.fromEntries([...em.devices].map(([id, d]) => [id, d.state_at || null]));
  process.stdout.write(JSON.stringify({ states, stateAt, left: em.underWay.size + em.pending.size }));
})();`

// A change the bridge reports while a command is under way stays in the
// JavaScript SDK's device states once the command's answer (or an accepted
// command's completion) is merged, though the answer carries the device's
// older reading; the command's own part of the answer (its Effect, for a
// generic trait only its instance) is kept. A device's stored state's time
// (state_at) goes once the device's state is reported, and stays on a device
// nothing was heard of. As in the Go SDK (TestAnswerKeepsChangeMeanwhile and
// TestEmitterStoredStateAt in plugins/sdk).
func TestJSAnswerKeepsChangeMeanwhile(t *testing.T) {
	node(t)
	cmd := exec.Command("node", "-e", answerScript)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var got struct {
		States  map[string]json.RawMessage `json:"states"`
		StateAt map[string]json.RawMessage `json:"stateAt"`
		Left    int                        `json:"left"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	state := func(id string) model.State {
		var s pb.State
		if err := protojson.Unmarshal(got.States[id], &s); err != nil {
			t.Fatalf("%s: %v: %s", id, err, got.States[id])
		}
		return convert.StateFrom(&s)
	}
	if s := state("plug"); s.On == nil || !*s.On || s.Watts == nil || *s.Watts != 60 {
		t.Errorf("the plug after its turn-on: %s, want on at the 60 W reported meanwhile", got.States["plug"])
	}
	if s := state("door"); s.Lock != model.Unlocked || s.Watts == nil || *s.Watts != 60 {
		t.Errorf("the door after its completion: %s, want unlocked at the 60 W reported meanwhile", got.States["door"])
	}
	if s := state("panel"); !s.Toggles["a"] || !s.Toggles["b"] {
		t.Errorf("the panel after toggle a: %s, want a on (the command) and b on (reported meanwhile)", got.States["panel"])
	}
	if got.Left != 0 {
		t.Errorf("%d commands still recorded as under way", got.Left)
	}
	for id, at := range got.StateAt {
		if id == "still" {
			var ts struct { // as @grpc/proto-loader takes a Timestamp
				Seconds string `json:"seconds"`
				Nanos   int    `json:"nanos"`
			}
			err := json.Unmarshal(at, &ts)
			if want := time.Date(2026, 12, 6, 9, 0, 0, 250e6, time.UTC); err != nil || ts.Seconds != strconv.FormatInt(want.Unix(), 10) || ts.Nanos != want.Nanosecond() {
				t.Errorf("state_at of the device nothing was heard of: %s (%v), want the stored time", at, err)
			}
		} else if string(at) != "null" {
			t.Errorf("state_at of %s after its state was reported: %s, want none", id, at)
		}
	}
	if len(got.StateAt) != 4 {
		t.Errorf("state_at of %d devices, want 4", len(got.StateAt))
	}
}

// The JavaScript SDK's effect (the part of a state a command is about, which
// its emitter keeps from an answer) is the Go model's Command.Effect, which
// make generate derives from the trait spec: for every command of the
// validation cases, on a state that sets every trait (and a second instance
// of each generic one), both keep the same fields.
func TestJSEffectAgreesWithGo(t *testing.T) {
	node(t)
	var full model.State
	for _, k := range model.AllTraitKinds() {
		_, st := model.Example(k)
		full = full.Merge(st)
	}
	full = full.Merge(model.State{Toggles: map[string]bool{"Other": true}, Ranges: map[string]float64{"Other": 1}, Modes: map[string]string{"Other": "B"}})
	type effectCase struct {
		Command json.RawMessage `json:"command"`
		State   json.RawMessage `json:"state"`
	}
	var (
		in    bytes.Buffer
		wants []map[string]any
		names []string
	)
	enc := json.NewEncoder(&in)
	for _, c := range validateCommands() {
		st := c.Apply(full)
		cj, err1 := wireJSON.Marshal(convert.Command(c))
		sj, err2 := wireJSON.Marshal(convert.State(st))
		wj, err3 := wireJSON.Marshal(convert.State(c.Effect(st)))
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(err1, err2, err3)
		}
		var want map[string]any
		if err := json.Unmarshal(wj, &want); err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(effectCase{cj, sj}); err != nil {
			t.Fatal(err)
		}
		wants, names = append(wants, want), append(names, string(cj))
	}
	script := `const { effect } = require('./index.js');
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (l) => { const c = JSON.parse(l); process.stdout.write(JSON.stringify(effect(c.command, c.state)) + '\n'); });`
	nonEmpty := 0
	for i, l := range nodeLines(t, script, &in, len(wants)) {
		var got map[string]any
		if err := json.Unmarshal(l, &got); err != nil {
			t.Fatalf("%s: %v: %s", names[i], err, l)
		}
		if !reflect.DeepEqual(got, wants[i]) {
			t.Errorf("%s\n  JavaScript: %v\n  Go:         %v", names[i], got, wants[i])
		}
		if len(got) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty == 0 {
		t.Fatal("no case has an effect")
	}
}
