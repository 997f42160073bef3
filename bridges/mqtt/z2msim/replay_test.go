package z2msim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
)

// replayDevices are the z2m-sim devices standing for each recorded kind.
var replayDevices = map[string]string{
	z2msim.KindColorLight: "Living Room/Colour Bulb",
	z2msim.KindCTLight:    "kitchen/ceiling",
	z2msim.KindDimmable:   "Hallway Bulb",
	z2msim.KindLock:       "Front Door",
	z2msim.KindThermostat: "Bedroom Radiator",
}

type timedMsg struct {
	at      time.Time
	topic   string
	payload []byte
}

// relative is a message about device as a recorded step names its topic
// ("state", "action", "bridge/logging"), or "" for one about something else.
func relative(device, topic string, payload []byte) string {
	base := "zigbee2mqtt/" + device
	switch {
	case topic == base:
		return "state"
	case topic == base+"/action":
		return "action"
	case topic == "zigbee2mqtt/bridge/logging" && strings.Contains(string(payload), "'"+device+"'"):
		return "bridge/logging"
	}
	return ""
}

// stepMessage is a recorded step's message of that topic and payload.
func stepMessage(after int64, topic string, payload []byte) z2msim.Message {
	m := z2msim.Message{AfterMS: after, Topic: topic}
	if json.Valid(payload) {
		m.Payload = json.RawMessage(payload)
	} else {
		m.Text = string(payload)
	}
	return m
}

// messages is what came about device since t0, as a recorded step's
// messages (the /set excluded; AfterMS is not filled in).
func (w *watcher) messages(device string, t0 time.Time) []z2msim.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []z2msim.Message
	for _, m := range w.all {
		if m.at.Before(t0) {
			continue
		}
		if topic := relative(device, m.topic, m.payload); topic != "" {
			out = append(out, stepMessage(0, topic, m.payload))
		}
	}
	return out
}

// answers collects what z2m-sim said it published in answer to /sets
// (Options.OnAnswer), per device.
type answers struct {
	mu  sync.Mutex
	all map[string][]z2msim.Answer
}

func (a *answers) add(x z2msim.Answer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.all[x.Device] = append(a.all[x.Device], x)
}

func (a *answers) of(device string) []z2msim.Answer {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]z2msim.Answer(nil), a.all[device]...)
}

// TestReplayRealZigbee2MQTT holds z2m-sim to what the real zigbee2mqtt
// 2.14.1 published in the hub's whole-chain test (the recordings written by
// gateway/hub's TestChainRealZigbee2MQTT -update): every recorded /set is
// sent to the z2m-sim device of the same kind, in the same condition
// (refusing, asleep), with z2m-sim's default timing, and what it publishes
// must agree with the recording (compareReplay). The times compared are the
// delays z2m-sim scheduled its answers at (Options.OnAnswer), counted from
// the recorded time of the /set they answer, not the times a loaded machine
// delivered them at; the messages themselves are the ones the broker
// delivered.
func TestReplayRealZigbee2MQTT(t *testing.T) {
	rec, err := z2msim.LoadRecording(z2msim.RecordingFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Steps) == 0 {
		t.Fatal("the recording has no steps")
	}
	// z2m-sim's default timing (lock delay, send timeout) is under test.
	said := &answers{all: map[string][]z2msim.Answer{}}
	_, sim, w := startWith(t, z2msim.Options{OnAnswer: said.add})

	// One device per kind: the kinds run side by side, each one's steps in order.
	byKind := map[string][]z2msim.Step{}
	var kinds []string
	for _, s := range rec.Steps {
		if _, ok := replayDevices[s.Kind]; !ok {
			t.Errorf("step %q: no z2m-sim device of kind %q", s.Name, s.Kind)
			continue
		}
		if byKind[s.Kind] == nil {
			kinds = append(kinds, s.Kind)
		}
		byKind[s.Kind] = append(byKind[s.Kind], s)
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			replaySteps(t, sim, w, said, replayDevices[kind], byKind[kind], nil)
		})
	}
}

// TestReplayRealKinds holds z2m-sim's devices of the newer kinds
// (Options.Kinds) to what the real zigbee2mqtt 2.14.1 published about
// znp-sim's products of those kinds (KindsRecordingFile, written by
// znpsim's TestRealZigbee2MQTT -update), as TestReplayRealZigbee2MQTT does
// for the others; a cover's travel is held to the time of its last report
// too, and a change by hand (Sim.Set) to the state the real one published
// for it.
func TestReplayRealKinds(t *testing.T) {
	rec, err := z2msim.LoadKindsRecording(z2msim.KindsRecordingFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Steps) == 0 || len(rec.Devices) == 0 {
		t.Fatal("the recording has no steps or no devices")
	}
	said := &answers{all: map[string][]z2msim.Answer{}}
	_, sim, w := startWith(t, z2msim.Options{Kinds: true, OnAnswer: said.add})
	byKind := map[string][]z2msim.Step{}
	var kinds []string
	for _, s := range rec.Steps {
		if _, ok := z2msim.KindNames[s.Kind]; !ok {
			t.Errorf("step %q: no z2m-sim device of kind %q", s.Name, s.Kind)
			continue
		}
		if byKind[s.Kind] == nil {
			kinds = append(kinds, s.Kind)
		}
		byKind[s.Kind] = append(byKind[s.Kind], s)
	}
	first := map[string]map[string]any{}
	for _, d := range rec.Devices {
		first[d.Kind] = decodeState(z2msim.Message{Payload: d.State})
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			replaySteps(t, sim, w, said, z2msim.KindNames[kind], byKind[kind], first[kind])
		})
	}
}

// replaySteps sends each step's /sets to the z2m-sim device name at their
// recorded times (or makes its change by hand) and compares what z2m-sim
// published with the recording (compareReplay, compareHand). With the
// state the real one published before the steps (prev, the newer kinds),
// the time of the last state is compared too (a cover's travel), and the
// final value of every property the real one's step changed, the keys it
// was set aside (a plug's power, a fan's mode).
func replaySteps(t *testing.T, sim *z2msim.Sim, w *watcher, said *answers, name string, steps []z2msim.Step, prev map[string]any) {
	t.Helper()
	travel := prev != nil
	for _, s := range steps {
		replayStep(t, sim, w, said, name, s, travel)
		if rs := only(s.Messages, "state"); travel && len(rs) > 0 {
			after := decodeState(rs[len(rs)-1])
			if s.ByHand == nil { // a change by hand: compareHand
				dev, _ := sim.Device(name)
				for _, d := range changedAlike(prev, after, dev.State) {
					t.Errorf("%s (%s): %s", s.Name, s.Model, d)
				}
			}
			prev = after
		}
	}
}

// replayStep replays one step (replaySteps).
func replayStep(t *testing.T, sim *z2msim.Sim, w *watcher, said *answers, name string, s z2msim.Step, travel bool) {
	t.Helper()
	{
		if s.ByHand != nil {
			t0 := time.Now()
			if _, err := sim.Set(name, copyMap(s.ByHand)); err != nil {
				t.Fatal(err)
			}
			want := len(only(s.Messages, "state")) + len(only(s.Messages, "action"))
			var got []z2msim.Message
			waitUntil(t, s.Name+": z2m-sim's state", func() error {
				got = w.messages(name, t0)
				if len(got) < min(want, 2) {
					return fmt.Errorf("%d messages of the real one's %d", len(got), want)
				}
				return nil
			})
			for _, d := range compareHand(s, got) {
				t.Errorf("%s (%s): %s", s.Name, s.Model, d)
			}
			return
		}
		switch s.Condition {
		case z2msim.ConditionRefuses:
			if err := sim.SetRefused(name, setKeys(t, s)...); err != nil {
				t.Fatal(err)
			}
		case z2msim.ConditionAsleep:
			if err := sim.SetAsleep(name, true); err != nil {
				t.Fatal(err)
			}
		}
		handled, _, err := sim.Answers(name)
		if err != nil {
			t.Fatal(err)
		}
		before := len(said.of(name))
		// The /sets go at their recorded times (a later one may
		// meet an earlier one's delayed answer, as in the recording).
		t0 := time.Now()
		var sets []int64 // the recorded time of each /set
		for _, m := range s.Messages {
			if m.Topic != "set" {
				continue
			}
			time.Sleep(time.Until(t0.Add(time.Duration(m.AfterMS) * time.Millisecond)))
			if tok := w.c.Publish("zigbee2mqtt/"+name+"/set", 1, false, []byte(m.Payload)); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatalf("%s: publish: %v", s.Name, tok.Error())
			}
			sets = append(sets, m.AfterMS)
		}
		// Until z2m-sim has handled every /set, sent every answer it
		// scheduled, and the broker has delivered them all.
		var got []z2msim.Message
		waitUntil(t, s.Name+": z2m-sim's answers", func() error {
			n, pending, err := sim.Answers(name)
			if err != nil {
				return err
			}
			if n < handled+len(sets) || pending > 0 {
				return fmt.Errorf("%d of %d /sets handled, %d answers still scheduled", n-handled, len(sets), pending)
			}
			got = got[:0]
			for _, a := range said.of(name)[before:] {
				i := a.Set - handled - 1
				if i < 0 || i >= len(sets) {
					return fmt.Errorf("an answer to /set %d, the step sent %d", a.Set-handled, len(sets))
				}
				if topic := relative(name, a.Topic, a.Payload); topic != "" {
					got = append(got, stepMessage(sets[i]+a.Delay.Milliseconds(), topic, a.Payload))
				}
			}
			if delivered := w.messages(name, t0); len(delivered) < len(got) {
				return fmt.Errorf("the broker delivered %d of z2m-sim's %d answers", len(delivered), len(got))
			}
			return nil
		})
		if err := sim.SetRefused(name); err != nil {
			t.Fatal(err)
		}
		if err := sim.SetAsleep(name, false); err != nil {
			t.Fatal(err)
		}
		// What the broker delivered is what z2m-sim said it published.
		delivered := w.messages(name, t0)
		for i := range max(len(delivered), len(got)) {
			if i >= len(got) || i >= len(delivered) || delivered[i].Topic != got[i].Topic || string(delivered[i].Payload) != string(got[i].Payload) || delivered[i].Text != got[i].Text {
				t.Errorf("%s: the broker delivered %v; z2m-sim answered %v", s.Name, delivered, got)
				break
			}
		}
		diffs := compareReplay(s, got)
		if rs, gs := only(s.Messages, "state"), only(got, "state"); travel && len(rs) > 0 && len(gs) > 0 {
			r, g := rs[len(rs)-1].AfterMS, gs[len(gs)-1].AfterMS
			if d := time.Duration(g-r) * time.Millisecond; d.Abs() > tolerance(r) {
				diffs = append(diffs, fmt.Sprintf("last state after %d ms, the real one's after %d ms", g, r))
			}
		}
		for _, d := range diffs {
			t.Errorf("%s (%s): %s", s.Name, s.Model, d)
		}
	}
}

// compareHand lists where z2m-sim's messages after a change by hand (got)
// differ from the real zigbee2mqtt's: its last state shows the change,
// nulls as compareReplay holds them, the same actions.
func compareHand(real z2msim.Step, got []z2msim.Message) []string {
	var diffs []string
	rs, gs := only(real.Messages, "state"), only(got, "state")
	if len(gs) == 0 {
		return []string{"z2m-sim published no state"}
	}
	gl := decodeState(gs[len(gs)-1])
	for k, v := range real.ByHand {
		if !sameValue(gl[k], v) {
			diffs = append(diffs, fmt.Sprintf("%s = %v, the real one's %v", k, gl[k], v))
		}
	}
	diffs = append(diffs, nullDiffs(rs, gs)...)
	if ra, ga := texts(only(real.Messages, "action")), texts(only(got, "action")); !reflect.DeepEqual(ra, ga) {
		diffs = append(diffs, fmt.Sprintf("actions %q, the real one's %q", ga, ra))
	}
	return diffs
}

// nullDiffs lists where z2m-sim's states (gs) use null, zigbee2mqtt's
// "unknown", unlike the real one's (rs): none where the real one had some,
// or one for a property the real one knew.
func nullDiffs(rs, gs []z2msim.Message) []string {
	var diffs []string
	realNulls, realKnown := nulls(rs)
	gotNulls, _ := nulls(gs)
	if len(realNulls) > 0 && len(gotNulls) == 0 {
		diffs = append(diffs, fmt.Sprintf("no null in z2m-sim's states; the real one's had %v", keys(realNulls)))
	}
	for k := range gotNulls {
		if realKnown[k] && !realNulls[k] {
			diffs = append(diffs, fmt.Sprintf("z2m-sim published %s as null (unknown); the real one knew it", k))
		}
	}
	return diffs
}

// changedAlike lists the properties the real one's step changed (from
// before to after) that z2m-sim's device does not show alike (numbers
// within 5: a cover stopped on its way).
func changedAlike(before, after, sim map[string]any) []string {
	var diffs []string
	for k, v := range after {
		if k == "linkquality" || sameValue(before[k], v) {
			continue
		}
		fa, oka := v.(float64)
		fs, oks := toF(sim[k])
		if oka && oks && math.Abs(fa-fs) <= 5 {
			continue
		}
		if !oka && sameValue(v, sim[k]) {
			continue
		}
		diffs = append(diffs, fmt.Sprintf("%s = %v after the step, the real one's %v", k, sim[k], v))
	}
	sort.Strings(diffs)
	return diffs
}

func toF(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// waitUntil calls f every 10 ms until it returns nil, failing the test with
// f's last error at the test's deadline: a loaded machine may be slow, and
// a wait is no assertion on speed.
func waitUntil(t *testing.T, what string, f func() error) {
	t.Helper()
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-time.Until(d)/20))
		defer cancel()
	}
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// tolerance is how far z2m-sim's timing may stray from the recording: 20 %,
// at least 400 ms (the recordings' scheduling noise).
func tolerance(ms int64) time.Duration {
	return max(400*time.Millisecond, time.Duration(ms)*time.Millisecond/5)
}

func setKeys(t *testing.T, s z2msim.Step) []string {
	t.Helper()
	var keys []string
	for _, m := range s.Messages {
		if m.Topic != "set" {
			continue
		}
		var p map[string]any
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatalf("%s: recorded /set %s: %v", s.Name, m.Payload, err)
		}
		for k := range p {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// compareReplay lists where z2m-sim's messages (got) differ from the real
// zigbee2mqtt's in the recorded step:
//   - state: none when the real one published none; else the first one as
//     soon as the real one's (within tolerance), and the last one with the
//     values the /set asked for as the real one's last shows them;
//   - nulls: when the real one published nulls, z2m-sim publishes nulls
//     too, and never null for a property the real one always knew in the step;
//   - the action topic: the same actions in order;
//   - bridge/logging: the same error lines ("Publish 'set' '<key>' to
//     '<device>' failed: …", the reason aside), each within tolerance.
func compareReplay(real z2msim.Step, got []z2msim.Message) []string {
	var diffs []string
	rs, gs := only(real.Messages, "state"), only(got, "state")
	switch {
	case len(rs) == 0 && len(gs) > 0:
		diffs = append(diffs, fmt.Sprintf("z2m-sim published state %s; the real one published none", gs[0].Payload))
	case len(rs) > 0 && len(gs) == 0:
		diffs = append(diffs, fmt.Sprintf("z2m-sim published no state; the real one did after %d ms", rs[0].AfterMS))
	case len(rs) > 0:
		if d := time.Duration(gs[0].AfterMS-rs[0].AfterMS) * time.Millisecond; d.Abs() > tolerance(rs[0].AfterMS) {
			diffs = append(diffs, fmt.Sprintf("first state after %d ms, the real one's after %d ms", gs[0].AfterMS, rs[0].AfterMS))
		}
		rl, gl := decodeState(rs[len(rs)-1]), decodeState(gs[len(gs)-1])
		for _, m := range real.Messages {
			if m.Topic != "set" {
				continue
			}
			var set map[string]any
			_ = json.Unmarshal(m.Payload, &set)
			for k, v := range set {
				want, have := rl[k], gl[k]
				if sub, ok := v.(map[string]any); ok { // colour: the keys set
					wm, _ := want.(map[string]any)
					hm, _ := have.(map[string]any)
					for sk := range sub {
						if !sameValue(wm[sk], hm[sk]) {
							diffs = append(diffs, fmt.Sprintf("final %s.%s = %v, the real one's %v", k, sk, hm[sk], wm[sk]))
						}
					}
					continue
				}
				if !sameValue(want, have) {
					diffs = append(diffs, fmt.Sprintf("final %s = %v, the real one's %v", k, have, want))
				}
			}
		}
		diffs = append(diffs, nullDiffs(rs, gs)...)
	}
	if ra, ga := texts(only(real.Messages, "action")), texts(only(got, "action")); !reflect.DeepEqual(ra, ga) {
		diffs = append(diffs, fmt.Sprintf("actions %q, the real one's %q", ga, ra))
	}
	rl, gl := only(real.Messages, "bridge/logging"), only(got, "bridge/logging")
	if len(rl) != len(gl) {
		diffs = append(diffs, fmt.Sprintf("%d bridge/logging lines, the real one %d: %v", len(gl), len(rl), gl))
		return diffs
	}
	for i := range rl {
		r, g := logLine(rl[i]), logLine(gl[i])
		if r != g {
			diffs = append(diffs, fmt.Sprintf("bridge/logging %q, the real one's %q", g, r))
		}
		if d := time.Duration(gl[i].AfterMS-rl[i].AfterMS) * time.Millisecond; d.Abs() > tolerance(rl[i].AfterMS) {
			diffs = append(diffs, fmt.Sprintf("bridge/logging after %d ms, the real one's after %d ms", gl[i].AfterMS, rl[i].AfterMS))
		}
	}
	return diffs
}

func only(ms []z2msim.Message, topic string) []z2msim.Message {
	var out []z2msim.Message
	for _, m := range ms {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

func decodeState(m z2msim.Message) map[string]any {
	var st map[string]any
	_ = json.Unmarshal(m.Payload, &st)
	return st
}

// nulls returns the top-level properties published as null, and those
// published with a value, in any of the states.
func nulls(states []z2msim.Message) (null, known map[string]bool) {
	null, known = map[string]bool{}, map[string]bool{}
	for _, m := range states {
		for k, v := range decodeState(m) {
			if v == nil {
				null[k] = true
			} else {
				known[k] = true
			}
		}
	}
	return null, known
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func texts(ms []z2msim.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

// logLine is a bridge/logging line without the device's name and the
// error's detail: "error: Publish 'set' 'state' to '…' failed".
func logLine(m z2msim.Message) string {
	var l struct{ Level, Message string }
	_ = json.Unmarshal(m.Payload, &l)
	msg := l.Message
	if i := strings.Index(msg, " to '"); i >= 0 {
		if j := strings.Index(msg[i+5:], "'"); j >= 0 {
			msg = msg[:i] + " to '…'" + msg[i+5+j+1:]
		}
	}
	if i := strings.Index(msg, " failed: "); i >= 0 {
		msg = msg[:i+len(" failed")]
	}
	return l.Level + ": " + msg
}

func sameValue(a, b any) bool {
	fa, oka := a.(float64)
	fb, okb := b.(float64)
	if oka && okb {
		return math.Abs(fa-fb) < 1e-9
	}
	return reflect.DeepEqual(a, b)
}
