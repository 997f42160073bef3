package alexa

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

type sampleProp struct {
	Namespace string          `json:"namespace"`
	Instance  string          `json:"instance"`
	Name      string          `json:"name"`
	Value     json.RawMessage `json:"value"`
}

// TestSampleResponsesRoundTrip reads the state properties of every official
// sample event whose interfaces avshub implements (responses, StateReport,
// ChangeReport), turns them into the device model, renders them back with the
// smarthome profile and requires exactly the same properties and values.
func TestSampleResponsesRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/alexa-smarthome/sample_messages/*/*.json")
	done := 0
	for _, f := range files {
		if strings.Contains(f, ".request.") || strings.HasSuffix(f, "ReportState.json") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct {
			Context struct {
				Properties []sampleProp `json:"properties"`
			} `json:"context"`
			Event struct {
				Payload struct {
					Change struct {
						Properties []sampleProp `json:"properties"`
					} `json:"change"`
				} `json:"payload"`
			} `json:"event"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			continue // DeferredResponse etc. without an object context
		}
		props := append(ev.Context.Properties, ev.Event.Payload.Change.Properties...)
		if len(props) == 0 {
			continue
		}
		ep, st, reachable, ok := modelFromSample(t, props)
		if !ok {
			continue
		}
		done++
		t.Run(filepath.Base(f), func(t *testing.T) {
			p := mustProfile(t, ProfileSmartHome)
			got := canonicalProps(t, p.Properties(ep, st, reachable, time.Now()))
			want := canonicalProps(t, props)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("round trip differs\ngot:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
	if done < 12 {
		t.Errorf("only %d sample events round-tripped", done)
	}
}

// modelFromSample builds an endpoint and state from sample properties; ok is
// false when a property belongs to an interface avshub does not implement.
func modelFromSample(t *testing.T, props []sampleProp) (model.Endpoint, model.State, bool, bool) {
	t.Helper()
	ep := model.Endpoint{ID: "endpoint-001", DeviceID: "x", FriendlyName: "x", Category: model.CategoryOther}
	var st model.State
	reachable := true
	sensorScale := ""
	tr := &ep.Traits
	thermostat := func() *model.Thermostat {
		if tr.Thermostat == nil {
			tr.Thermostat = &model.Thermostat{Modes: alexaThermostatModes, MinC: -50, MaxC: 100}
			st.Thermostat = &model.ThermostatState{}
		}
		return tr.Thermostat
	}
	temperature := func(v json.RawMessage) (float64, string) {
		var tv struct {
			Value float64 `json:"value"`
			Scale string  `json:"scale"`
		}
		if err := json.Unmarshal(v, &tv); err != nil {
			t.Fatal(err)
		}
		return ToCelsius(tv.Value, Scale(tv.Scale)), tv.Scale
	}
	for _, p := range props {
		switch p.Namespace + "." + p.Name {
		case "Alexa.PowerController.powerState":
			tr.OnOff = &model.OnOff{}
			st.On = model.Ptr(string(p.Value) == `"ON"`)
		case "Alexa.BrightnessController.brightness":
			tr.Brightness = &model.Brightness{}
			var b int
			_ = json.Unmarshal(p.Value, &b)
			st.Brightness = &b
		case "Alexa.ColorController.color":
			tr.Color = &model.Color{}
			st.Color = &model.HSB{}
			_ = json.Unmarshal(p.Value, st.Color)
		case "Alexa.ColorTemperatureController.colorTemperatureInKelvin":
			tr.ColorTemperature = &model.ColorTemperature{MinKelvin: 1000, MaxKelvin: 10000}
			var k int
			_ = json.Unmarshal(p.Value, &k)
			st.ColorTemperature = &k
		case "Alexa.LockController.lockState":
			tr.Lock = &model.Lock{}
			var s string
			_ = json.Unmarshal(p.Value, &s)
			st.Lock = model.LockState(s)
		case "Alexa.ThermostatController.thermostatMode":
			thermostat()
			var s string
			_ = json.Unmarshal(p.Value, &s)
			st.Thermostat.Mode = model.ThermostatMode(s)
		case "Alexa.ThermostatController.targetSetpoint", "Alexa.ThermostatController.lowerSetpoint", "Alexa.ThermostatController.upperSetpoint":
			th := thermostat()
			c, scale := temperature(p.Value)
			th.Scale = scale
			switch p.Name {
			case "targetSetpoint":
				th.TargetSetpoint = true
				st.Thermostat.Target = &c
			case "lowerSetpoint":
				th.DualSetpoints = true
				st.Thermostat.Lower = &c
			default:
				th.DualSetpoints = true
				st.Thermostat.Upper = &c
			}
		case "Alexa.TemperatureSensor.temperature":
			tr.TemperatureSensor = &model.TemperatureSensor{}
			c, scale := temperature(p.Value)
			st.Temperature = &c
			sensorScale = scale
		case "Alexa.EndpointHealth.connectivity":
			reachable = strings.Contains(string(p.Value), `"OK"`)
		default:
			return ep, st, false, false
		}
	}
	// The sensor is reported in the thermostat's scale, else the profile's.
	if want := "CELSIUS"; sensorScale != "" {
		if tr.Thermostat != nil {
			want = tr.Thermostat.Scale
		}
		if sensorScale != want {
			return ep, st, false, false
		}
	}
	return ep, st, reachable, true
}

// canonicalProps renders properties as sorted "namespace.name=value" lines
// with values re-encoded canonically (numbers compared as numbers).
func canonicalProps(t *testing.T, props any) []string {
	t.Helper()
	b, err := json.Marshal(props)
	if err != nil {
		t.Fatal(err)
	}
	var list []struct {
		Namespace string `json:"namespace"`
		Instance  string `json:"instance"`
		Name      string `json:"name"`
		Value     any    `json:"value"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range list {
		v, _ := json.Marshal(p.Value)
		out = append(out, p.Namespace+"/"+p.Instance+"/"+p.Name+"="+string(v))
	}
	sort.Strings(out)
	return out
}
