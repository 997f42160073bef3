package sdkjs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/plugins/proto/bridge/v1/convert"
)

// validateCase is one command checked against one endpoint, as bridge.v1
// messages in proto-loader's form (field names as in bridge.proto).
type validateCase struct {
	Traits  json.RawMessage `json:"traits"`
	State   json.RawMessage `json:"state"`
	Command json.RawMessage `json:"command"`
}

// verdict is the part of a bridge.v1 Error both SDKs must agree on.
type verdict struct {
	Kind     string  `json:"kind"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	MinDelta float64 `json:"min_delta"`
	Message  string  `json:"message"`
}

var wireJSON = protojson.MarshalOptions{UseProtoNames: true}

// validateEndpoints: every trait alone (its typical configuration) and the
// variants the rules branch on: a dual-setpoint thermostat with a minimum
// distance, non-controllable generic traits, and an endpoint with no traits.
func validateEndpoints() []struct {
	name   string
	traits model.Traits
	states []model.State
} {
	type ep = struct {
		name   string
		traits model.Traits
		states []model.State
	}
	var out []ep
	for _, k := range model.AllTraitKinds() {
		tr, st := model.Example(k)
		out = append(out, ep{string(k), tr, []model.State{{}, st}})
	}
	dual := model.Thermostat{Modes: []model.ThermostatMode{model.ModeHeat, model.ModeCool, model.ModeAuto, model.ModeOff},
		TargetSetpoint: true, DualSetpoints: true, MinC: 7, MaxC: 32, MinDeltaC: 2}
	out = append(out,
		ep{"cover without tilt", model.Traits{Cover: &model.Cover{}}, []model.State{{}}},
		ep{"dual thermostat", model.Traits{Thermostat: &dual}, []model.State{{},
			{Thermostat: &model.ThermostatState{Mode: model.ModeAuto, Lower: model.Ptr(20.0), Upper: model.Ptr(24.0)}},
			{Thermostat: &model.ThermostatState{Mode: model.ModeOff}}}},
		ep{"read-only generics", model.Traits{
			Toggles: []model.Toggle{{Instance: "Example.Toggle", NonControllable: true}},
			Ranges:  []model.Range{{Instance: "Example.Range", Min: -5, Max: 5, NonControllable: true}},
			Modes:   []model.Mode{{Instance: "Example.Mode", NonControllable: true, Values: []model.ModeValue{{Value: "A"}}}},
		}, []model.State{{}}},
		ep{"no traits", model.Traits{}, []model.State{{}}},
	)
	return out
}

// validateCommands: for every controllable trait, the value missing, inside,
// on and beyond each bound, NaN where the value is a float, and the wrong instance.
func validateCommands() []model.Command {
	nan := math.NaN()
	cmds := []model.Command{{}, {Trait: "no_such_trait"}}
	for _, k := range model.AllTraitKinds() {
		cmds = append(cmds, model.Command{Trait: k})
	}
	for _, v := range []int{-1, 0, 40, 100, 101} {
		cmds = append(cmds, model.SetBrightness(v), model.Command{Trait: model.TraitCover, CoverPosition: model.Ptr(v)},
			model.Command{Trait: model.TraitCover, CoverTilt: model.Ptr(v)}, model.Command{Trait: model.TraitFan, FanSpeed: model.Ptr(v)})
	}
	for _, k := range []int{2000, 2200, 4000, 6500, 7000} {
		cmds = append(cmds, model.SetColorTemperature(k))
	}
	for _, c := range []model.HSB{{Hue: 120, Saturation: 0.5, Brightness: 1}, {Hue: 361}, {Hue: -1}, {Saturation: 1.5}, {Brightness: -0.1}, {Hue: nan}} {
		cmds = append(cmds, model.SetColor(c))
	}
	cmds = append(cmds, model.StopCover(), model.Command{Trait: model.TraitCover, CoverStop: model.Ptr(false)},
		model.Command{Trait: model.TraitCover, CoverStop: model.Ptr(true), CoverPosition: model.Ptr(40)},
		model.Command{Trait: model.TraitCover, CoverTilt: model.Ptr(40), CoverPosition: model.Ptr(40)})
	cmds = append(cmds, model.SetPower(true), model.SetPower(false),
		model.Command{Trait: model.TraitSiren, Siren: model.Ptr(true)},
		model.Command{Trait: model.TraitLock, Lock: model.Locked}, model.Command{Trait: model.TraitLock, Lock: model.Unlocked},
		model.Command{Trait: model.TraitLock, Lock: model.Jammed})
	p := model.Ptr[float64]
	for _, ts := range []model.ThermostatState{
		{}, {Mode: model.ModeHeat}, {Mode: model.ModeEco}, {Mode: model.ModeOff}, {Mode: model.ModeOff, Target: p(20)},
		{Target: p(21)}, {Target: p(4)}, {Target: p(33)}, {Target: p(nan)}, {Mode: model.ModeAuto, Lower: p(19), Upper: p(23)},
		{Lower: p(19), Upper: p(20)}, {Lower: p(22), Upper: p(21)}, {Lower: p(23)}, {Upper: p(21)},
		{Target: p(21), Lower: p(19), Upper: p(23)}, {Mode: model.ModeCool, Target: p(25)},
	} {
		ts := ts
		cmds = append(cmds, model.Command{Trait: model.TraitThermostat, Thermostat: &ts})
	}
	for _, inst := range []string{"Example.Toggle", "Other"} {
		cmds = append(cmds, model.Command{Trait: model.TraitToggle, Instance: inst, Toggle: model.Ptr(true)},
			model.Command{Trait: model.TraitToggle, Instance: inst})
	}
	for _, v := range []float64{-6, -5, 0, 3, 10, 11, nan} {
		cmds = append(cmds, model.Command{Trait: model.TraitRange, Instance: "Example.Range", Range: model.Ptr(v)})
	}
	cmds = append(cmds, model.Command{Trait: model.TraitRange, Instance: "Other", Range: model.Ptr(1.0)})
	for _, m := range []string{"A", "B", "C", ""} {
		cmds = append(cmds, model.Command{Trait: model.TraitMode, Instance: "Example.Mode", Mode: m})
	}
	return cmds
}

// The JavaScript SDK checks a command before the bridge's execute exactly as
// the Go SDK does (model.Command.Validate): for every trait's endpoint and
// every command, both give the same error kind and range, or both accept it.
func TestJSValidateAgreesWithGo(t *testing.T) {
	node(t)
	var (
		in    bytes.Buffer
		wants []verdict
		names []string
	)
	enc := json.NewEncoder(&in)
	for _, ep := range validateEndpoints() {
		for si, st := range ep.states {
			for _, c := range validateCommands() {
				pc := convert.Command(c)
				tr, err1 := wireJSON.Marshal(convert.Traits(ep.traits))
				sj, err2 := wireJSON.Marshal(convert.State(st))
				cj, err3 := wireJSON.Marshal(pc)
				if err1 != nil || err2 != nil || err3 != nil {
					t.Fatal(err1, err2, err3)
				}
				if err := enc.Encode(validateCase{tr, sj, cj}); err != nil {
					t.Fatal(err)
				}
				// The Go SDK sees the command and endpoint after the wire, too.
				var w verdict
				if err := convert.CommandFrom(pc).Validate(convert.TraitsFrom(convert.Traits(ep.traits)), convert.StateFrom(convert.State(st))); err != nil {
					pe := convert.Error(model.AsError(err))
					w = verdict{Kind: pe.GetKind().String(), Min: pe.GetMin(), Max: pe.GetMax(), MinDelta: pe.GetMinDelta()}
				}
				wants = append(wants, w)
				names = append(names, fmt.Sprintf("%s (state %d): %s", ep.name, si, cj))
			}
		}
	}
	// NaN crosses JSON as the string "NaN" (protojson); proto-loader gives the number.
	script := `const { validate } = require('./validate.js');
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (l) => { const c = JSON.parse(l, (k, v) => (v === 'NaN' ? NaN : v));
  process.stdout.write(JSON.stringify(validate(c.command, c.traits, c.state) || {}) + '\n'); });`
	accepted, refused := 0, 0
	for i, line := range nodeLines(t, script, &in, len(wants)) {
		var got verdict
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("case %d: %v: %s", i, err, line)
		}
		msg := got.Message
		got.Message = ""
		if got != wants[i] {
			t.Errorf("%s\n  JavaScript: %+v (%s)\n  Go:         %+v", names[i], got, msg, wants[i])
		}
		if got.Kind != "" && strings.TrimSpace(msg) == "" {
			t.Errorf("%s: the JavaScript error has no message", names[i])
		}
		if wants[i].Kind == "" {
			accepted++
		} else {
			refused++
		}
	}
	t.Logf("%d cases: %d accepted and %d refused by both SDKs", len(wants), accepted, refused)
	if accepted == 0 || refused == 0 {
		t.Fatal("the cases do not exercise both outcomes")
	}
}

// nodeLines runs script with node, in as its input, and returns the lines
// it printed: one for each of the n lines of in.
func nodeLines(t *testing.T, script string, in *bytes.Buffer, n int) [][]byte {
	t.Helper()
	cmd := exec.Command("node", "-e", script)
	cmd.Stdin = in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(out) == 0 {
		lines = nil
	}
	if len(lines) != n {
		t.Fatalf("node answered %d lines for %d", len(lines), n)
	}
	return lines
}
