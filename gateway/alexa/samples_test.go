package alexa

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// kitchenSink has every trait, so every supported sample directive applies.
func kitchenSink() (model.Endpoint, model.State) {
	p := model.Ptr[float64]
	ep := model.Endpoint{ID: "endpoint-001", DeviceID: "x", FriendlyName: "Everything", Category: model.CategoryOther,
		Traits: model.Traits{
			OnOff: &model.OnOff{}, Brightness: &model.Brightness{}, Color: &model.Color{},
			ColorTemperature: &model.ColorTemperature{MinKelvin: 2000, MaxKelvin: 6500}, Lock: &model.Lock{},
			Thermostat: &model.Thermostat{Modes: []model.ThermostatMode{model.ModeHeat, model.ModeCool, model.ModeAuto, model.ModeOff},
				TargetSetpoint: true, DualSetpoints: true, MinC: 5, MaxC: 35, MinDeltaC: 1},
			TemperatureSensor: &model.TemperatureSensor{},
		}}
	st := model.State{On: model.Ptr(true), Brightness: model.Ptr(50), ColorTemperature: model.Ptr(4000), Lock: model.Unlocked,
		Thermostat: &model.ThermostatState{Mode: model.ModeHeat, Target: p(22), Lower: p(20), Upper: p(25)}}
	return ep, st
}

// TestSampleDirectives parses and decodes every official sample directive with
// the smarthome profile: supported ones give the expected command, every other
// interface is refused as INVALID_DIRECTIVE (ErrNotSupported).
func TestSampleDirectives(t *testing.T) {
	want := map[string]string{
		"BrightnessController.AdjustBrightness.request.json":               "brightness=25",
		"BrightnessController.SetBrightness.request.json":                  "brightness=75",
		"ColorController.SetColor.request.json":                            "color=h350.5/s0.714/b0.652",
		"ColorTemperatureController.DecreaseColorTemperature.request.json": "color_temperature=3333K",
		"ColorTemperatureController.IncreaseColorTemperature.request.json": "color_temperature=5000K",
		"ColorTemperatureController.SetColorTemperature.request.json":      "color_temperature=5000K",
		"LockController.Lock.request.json":                                 "lock=LOCKED",
		"LockController.Unlock.request.json":                               "lock=UNLOCKED",
		"PowerController.TurnOff.request.json":                             "on_off=false",
		"PowerController.TurnOn.request.json":                              "on_off=true",
		// 22 °C - 2 °F (an interval: 1.11 °C).
		"ThermostatController.AdjustTargetTemperature.request.json":         "thermostat target=20.89C",
		"ThermostatController.SetTargetTemperature.DualMode.request.json":   "thermostat lower=20C upper=25.56C",
		"ThermostatController.SetTargetTemperature.SingleMode.request.json": "thermostat target=25C",
		"ThermostatController.SetThermostatMode.request.json":               "thermostat mode=COOL",
		"ReportState.json": "report state",
	}
	wantErr := map[string]model.ErrorKind{
		"ThermostatController.SetTargetTemperature.TripleMode.request.json": model.ErrTripleSetpointsUnsupported,
	}
	files, _ := filepath.Glob("testdata/alexa-smarthome/sample_messages/*/*.request.json")
	files = append(files, "testdata/alexa-smarthome/sample_messages/StateReport/ReportState.json")
	if len(files) < 40 {
		t.Fatalf("only %d sample directives", len(files))
	}
	sh := mustProfile(t, ProfileSmartHome)
	avs := mustProfile(t, ProfileAVS)
	ep, st := kitchenSink()
	seen := 0
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := ParseDirective(raw)
			if err != nil {
				t.Fatalf("ParseDirective: %v", err)
			}
			if d.EndpointID() == "" && d.Header.Namespace != "Alexa.Discovery" && d.Header.Namespace != "Alexa.Authorization" {
				t.Errorf("no endpoint id")
			}
			in, err := sh.Decode(d, ep, st)
			switch {
			case want[base] != "":
				seen++
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				got := in.Command.String()
				if in.ReportState {
					got = "report state"
				}
				if got != want[base] {
					t.Errorf("Decode = %s, want %s", got, want[base])
				}
				if !in.ReportState {
					if err := in.Command.Validate(ep.Traits, st); err != nil {
						t.Errorf("Validate(%s): %v", got, err)
					}
				}
			case wantErr[base] != "":
				seen++
				if de := model.AsError(err); err == nil || de.Kind != wantErr[base] {
					t.Errorf("Decode error = %v, want %s", err, wantErr[base])
				}
			default:
				var de *model.Error
				if !errors.As(err, &de) || de.Kind != model.ErrNotSupported {
					t.Errorf("unsupported interface: Decode = %+v, %v; want ErrNotSupported", in, err)
				}
			}
			// The avs profile declares none of the Smart Home controllers.
			if !strings.HasPrefix(base, "PowerController") && base != "ReportState.json" {
				var de *model.Error
				if _, err := avs.Decode(d, ep, st); !errors.As(err, &de) || de.Kind != model.ErrNotSupported {
					t.Errorf("avs profile: Decode = %v, want ErrNotSupported", err)
				}
			}
		})
	}
	if seen != len(want)+len(wantErr) {
		t.Errorf("matched %d of %d expected samples", seen, len(want)+len(wantErr))
	}
}
