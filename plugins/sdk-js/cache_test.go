package sdkjs

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"

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
em.snapshot([
  sdk.build('plug', 'Plug', 'SMARTPLUG', sdk.withOnOff(false), sdk.withPower(0)),
  sdk.build('door', 'Door', 'SMARTLOCK', sdk.withLock(true), sdk.withPower(0)),
  sdk.build('panel', 'Panel', 'OTHER', sdk.withToggle('a'), sdk.withToggle('b')),
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
  process.stdout.write(JSON.stringify({ states, left: em.underWay.size + em.pending.size }));
})();`

// A change the bridge reports while a command is under way stays in the
// JavaScript SDK's device states once the command's answer (or an accepted
// command's completion) is merged, though the answer carries the device's
// older reading; the command's own part of the answer (its Effect, for a
// generic trait only its instance) is kept. As in the Go SDK
// (TestAnswerKeepsChangeMeanwhile in plugins/sdk).
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
		States map[string]json.RawMessage `json:"states"`
		Left   int                        `json:"left"`
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
}
