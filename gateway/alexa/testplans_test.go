package alexa

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// testPlan is one of Amazon's capability-evaluation test plans
// (testdata/alexa-smarthome/capability_evaluations/test_plans).
type testPlan struct {
	Name      string `json:"name"`
	TestCases []struct {
		Name          string `json:"name"`
		InitialSetups []struct {
			Directive planDirective `json:"directive"`
		} `json:"initialSetups"`
		Directive planDirective `json:"directive"`
		Expected  []struct {
			Namespace string          `json:"namespace"`
			Name      string          `json:"name"`
			Value     json.RawMessage `json:"value"`
			Compare   string          `json:"compare"`
		} `json:"expectedCapabilityStates"`
		Tolerances []struct {
			Namespace        string  `json:"namespace"`
			Name             string  `json:"name"`
			PercentThreshold float64 `json:"percentThreshold"`
		} `json:"capabilityTolerances"`
	} `json:"testCases"`
}

type planDirective struct {
	Header struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"header"`
	Payload json.RawMessage `json:"payload"`
}

// planDevice is the simulated device a plan runs against: the endpoint and
// state as the hub sees them, changed only through Decode → Validate → Apply
// (what the router does), plus the light behaviour the plans expect (see do).
type planDevice struct {
	ep        model.Endpoint
	st        model.State
	lastLevel int
}

func planEndpoint(plan string) model.Endpoint {
	if strings.HasPrefix(plan, "Thermostat") {
		scale := "CELSIUS"
		if strings.HasSuffix(plan, "FAHRENHEIT") {
			scale = "FAHRENHEIT"
		}
		return model.Endpoint{ID: epID("plan-thermostat"), DeviceID: "t", FriendlyName: "Plan thermostat", Category: model.CategoryThermostat,
			Traits: model.Traits{Thermostat: &model.Thermostat{
				Modes:          []model.ThermostatMode{model.ModeHeat, model.ModeCool, model.ModeAuto, model.ModeEco, model.ModeOff},
				TargetSetpoint: true, MinC: 4, MaxC: 37, Scale: scale}}}
	}
	return model.Endpoint{ID: epID("plan-light"), DeviceID: "l", FriendlyName: "Plan light", Category: model.CategoryLight,
		Traits: model.Traits{OnOff: &model.OnOff{}, Brightness: &model.Brightness{}, Color: &model.Color{},
			ColorTemperature: &model.ColorTemperature{MinKelvin: 1000, MaxKelvin: 10000}}}
}

func (dev *planDevice) do(t *testing.T, p Profile, pd planDirective) {
	t.Helper()
	payload := string(pd.Payload)
	if payload == "" || payload == "null" {
		payload = "{}"
	}
	ns, name, instance := pd.Header.Namespace, pd.Header.Name, ""
	if p.Name() == ProfileAVS {
		ns, name, instance, payload = toAVS(t, ns, name, payload)
	}
	d := directive(t, ns, name, instance, dev.ep.ID, payload)
	in, err := p.Decode(d, dev.ep, dev.st)
	if err != nil {
		t.Fatalf("Decode %s.%s %s %s: %v", ns, name, instance, payload, err)
	}
	if in.ReportState {
		return
	}
	if err := in.Command.Validate(dev.ep.Traits, dev.st); err != nil {
		t.Fatalf("Validate %s: %v", in.Command, err)
	}
	dev.st = in.Command.Apply(dev.st)
	// Light behaviour the plans expect (a bridge's job, not the hub's): level 0
	// is off and TurnOn restores the last level; any other level, colour or
	// colour temperature turns the light on.
	switch c := in.Command; c.Trait {
	case model.TraitBrightness:
		if *c.Brightness == 0 {
			dev.st.On = model.Ptr(false)
		} else {
			dev.st.On = model.Ptr(true)
			dev.lastLevel = *c.Brightness
		}
	case model.TraitColor, model.TraitColorTemperature:
		dev.st.On = model.Ptr(true)
	case model.TraitOnOff:
		if *c.Power && dev.st.Brightness != nil && *dev.st.Brightness == 0 {
			dev.st.Brightness = model.Ptr(dev.lastLevel)
		}
	}
}

// TestCapabilityTestPlans replays every case of Amazon's test plans and checks
// the expected capability states (with the plan's tolerances and comparisons)
// in the properties the hub would report. With the smarthome profile the
// plans' directives are sent as they are; with the avs profile each is sent
// as the avs profile's equivalent (toAVS), and the resulting device state is
// checked the same way (colours by their nearest named colour).
func TestCapabilityTestPlans(t *testing.T) {
	for _, prof := range []string{ProfileSmartHome, ProfileAVS} {
		t.Run(prof, func(t *testing.T) { replayTestPlans(t, prof) })
	}
}

func replayTestPlans(t *testing.T, prof string) {
	files, err := filepath.Glob("testdata/alexa-smarthome/capability_evaluations/test_plans/*")
	if err != nil || len(files) != 9 {
		t.Fatalf("test plans: %v %v", files, err)
	}
	p := mustProfile(t, prof)
	report := mustProfile(t, ProfileSmartHome) // renders the device state in the plans' terms
	cases := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var plan testPlan
		if err := json.Unmarshal(b, &plan); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range plan.TestCases {
			cases++
			t.Run(plan.Name+"/"+tc.Name, func(t *testing.T) {
				dev := &planDevice{ep: planEndpoint(plan.Name), lastLevel: 100, st: model.State{
					On: model.Ptr(false), Brightness: model.Ptr(100), Color: &model.HSB{Brightness: 1}, ColorTemperature: model.Ptr(4000),
					Thermostat: &model.ThermostatState{Mode: model.ModeHeat, Target: model.Ptr(20.0)},
				}}
				for _, s := range tc.InitialSetups {
					dev.do(t, p, s.Directive)
				}
				dev.do(t, p, tc.Directive)
				props := map[string]any{}
				for _, pr := range report.Properties(dev.ep, dev.st, true, time.Now()) {
					props[pr.Namespace+"."+pr.Name] = pr.Value
				}
				tol := map[string]float64{}
				for _, x := range tc.Tolerances {
					tol[x.Namespace+"."+x.Name] = x.PercentThreshold
				}
				for _, e := range tc.Expected {
					key := e.Namespace + "." + e.Name
					got, ok := props[key]
					if !ok {
						t.Errorf("%s not reported", key)
						continue
					}
					if key == "Alexa.ColorController.color" && prof == ProfileAVS {
						var want model.HSB
						_ = json.Unmarshal(e.Value, &want)
						if g, w := nearestColor(*dev.st.Color), nearestColor(want); g != w {
							t.Errorf("%s: got %s, want %s", key, g.value, w.value)
						}
						continue
					}
					if err := comparePlanValue(got, e.Value, e.Compare, tol[key]); err != nil {
						t.Errorf("%s: %v", key, err)
					}
				}
			})
		}
	}
	if cases < 50 {
		t.Errorf("replayed only %d test cases", cases)
	}
}

// comparePlanValue compares a reported value with a plan's expected value.
func comparePlanValue(got any, want json.RawMessage, compare string, percent float64) error {
	gb, _ := json.Marshal(got)
	var g, w any
	_ = json.Unmarshal(gb, &g)
	if err := json.Unmarshal(want, &w); err != nil {
		return err
	}
	return compareAny(g, w, compare, percent)
}

func compareAny(g, w any, compare string, percent float64) error {
	switch wv := w.(type) {
	case float64:
		gv, ok := g.(float64)
		if !ok {
			return fmt.Errorf("got %v, want number %v", g, wv)
		}
		tolerance := math.Abs(wv) * percent / 100
		switch compare {
		case "GREATER_THAN":
			if gv <= wv {
				return fmt.Errorf("got %v, want > %v", gv, wv)
			}
		case "LESS_THAN":
			if gv >= wv {
				return fmt.Errorf("got %v, want < %v", gv, wv)
			}
		default:
			if math.Abs(gv-wv) > tolerance+1e-9 {
				return fmt.Errorf("got %v, want %v ±%v%%", gv, wv, percent)
			}
		}
	case map[string]any:
		gm, ok := g.(map[string]any)
		if !ok {
			return fmt.Errorf("got %v, want object %v", g, wv)
		}
		for k, v := range wv {
			if err := compareAny(gm[k], v, compare, percent); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
	default:
		if fmt.Sprint(g) != fmt.Sprint(w) {
			return fmt.Errorf("got %v, want %v", g, w)
		}
	}
	return nil
}

// toAVS translates a Smart Home directive of the plans into the avs profile's
// equivalent.
func toAVS(t *testing.T, ns, name, payload string) (string, string, string, string) {
	t.Helper()
	var pl map[string]json.RawMessage
	if err := json.Unmarshal([]byte(payload), &pl); err != nil {
		t.Fatal(err)
	}
	num := func(raw json.RawMessage, field string) string {
		var v struct {
			Value float64 `json:"value"`
		}
		if field == "" {
			return string(raw)
		}
		_ = json.Unmarshal(raw, &v)
		return fmt.Sprint(v.Value)
	}
	switch ns + "." + name {
	case "Alexa.PowerController.TurnOn", "Alexa.PowerController.TurnOff":
		return ns, name, "", "{}"
	case "Alexa.BrightnessController.SetBrightness":
		return nsRange, "SetRangeValue", InstanceBrightness, `{"rangeValue":` + num(pl["brightness"], "") + `}`
	case "Alexa.BrightnessController.AdjustBrightness":
		return nsRange, "AdjustRangeValue", InstanceBrightness, `{"rangeValueDelta":` + num(pl["brightnessDelta"], "") + `,"rangeValueDeltaDefault":false}`
	case "Alexa.ColorController.SetColor":
		var c model.HSB
		_ = json.Unmarshal(pl["color"], &c)
		return nsMode, "SetMode", InstanceColor, `{"mode":"` + nearestColor(c).value + `"}`
	case "Alexa.ColorTemperatureController.SetColorTemperature":
		return nsRange, "SetRangeValue", InstanceColorTemperature, `{"rangeValue":` + num(pl["colorTemperatureInKelvin"], "") + `}`
	case "Alexa.ColorTemperatureController.IncreaseColorTemperature":
		return nsRange, "AdjustRangeValue", InstanceColorTemperature, `{"rangeValueDelta":1,"rangeValueDeltaDefault":true}`
	case "Alexa.ColorTemperatureController.DecreaseColorTemperature":
		return nsRange, "AdjustRangeValue", InstanceColorTemperature, `{"rangeValueDelta":-1,"rangeValueDeltaDefault":true}`
	case "Alexa.ThermostatController.SetTargetTemperature":
		return nsRange, "SetRangeValue", InstanceTargetSetpoint, `{"rangeValue":` + num(pl["targetSetpoint"], "value") + `}`
	case "Alexa.ThermostatController.AdjustTargetTemperature":
		return nsRange, "AdjustRangeValue", InstanceTargetSetpoint, `{"rangeValueDelta":` + num(pl["targetSetpointDelta"], "value") + `}`
	case "Alexa.ThermostatController.SetThermostatMode":
		var m struct {
			Value string `json:"value"`
		}
		_ = json.Unmarshal(pl["thermostatMode"], &m)
		return nsMode, "SetMode", InstanceThermostatMode, `{"mode":"` + thermostatModeValue(model.ThermostatMode(m.Value)) + `"}`
	}
	t.Fatalf("no avs equivalent for %s.%s", ns, name)
	return "", "", "", ""
}
