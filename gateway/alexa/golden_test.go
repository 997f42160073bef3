package alexa

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa/schema"
)

// TestGoldenEndpoints renders every fixture in both profiles, compares with
// the golden files and validates each inside an AddOrUpdateReport.
func TestGoldenEndpoints(t *testing.T) {
	deterministicIDs(t)
	for _, prof := range []string{ProfileAVS, ProfileSmartHome} {
		p := mustProfile(t, prof, "en-US", "de-DE", "en-GB")
		var all []json.RawMessage
		for _, f := range fixtures() {
			t.Run(prof+"/"+f.name, func(t *testing.T) {
				obj, err := p.Endpoint(f.ep)
				if err != nil {
					t.Fatalf("Endpoint: %v", err)
				}
				golden(t, prof+"/endpoint_"+f.name+".json", obj)
				rep, err := NewAddOrUpdateReport([]json.RawMessage{obj})
				if err != nil {
					t.Fatal(err)
				}
				rep, err = WithScopeToken(rep, "test-token")
				if err != nil {
					t.Fatal(err)
				}
				mustValidate(t, rep)
				all = append(all, obj)
			})
		}
		rep, err := NewAddOrUpdateReport(all)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, prof+"/addorupdatereport.json", rep)
	}
}

// TestGoldenStateEvents renders Response, StateReport and ChangeReport for every
// fixture in both profiles, checks them against golden files and the schema,
// and checks that every rendered property is declared proactively reported.
func TestGoldenStateEvents(t *testing.T) {
	deterministicIDs(t)
	for _, prof := range []string{ProfileAVS, ProfileSmartHome} {
		p := mustProfile(t, prof)
		for _, f := range fixtures() {
			t.Run(prof+"/"+f.name, func(t *testing.T) {
				d := directive(t, "Alexa", "ReportState", "", f.ep.ID, "")
				props := p.Properties(f.ep, f.st, true, sampleTime)
				if len(props) == 0 {
					t.Fatal("no properties")
				}
				for _, pr := range props {
					if !p.Proactive(f.ep, pr) {
						t.Errorf("property %s/%s/%s is rendered but not declared proactive", pr.Namespace, pr.Instance, pr.Name)
					}
				}
				resp, err := NewResponse(d, f.ep.ID, props)
				if err != nil {
					t.Fatal(err)
				}
				golden(t, prof+"/response_"+f.name+".json", resp)
				mustValidate(t, resp)

				sr, err := NewStateReport(d, f.ep.ID, p.Properties(f.ep, f.st, false, sampleTime))
				if err != nil {
					t.Fatal(err)
				}
				golden(t, prof+"/statereport_unreachable_"+f.name+".json", sr)
				mustValidate(t, sr)

				cr, err := NewChangeReport(f.ep.ID, model.CausePhysical, props[:1], props[1:])
				if err != nil {
					t.Fatal(err)
				}
				golden(t, prof+"/changereport_"+f.name+".json", cr)
				mustValidate(t, cr)
			})
		}
	}
}

func TestProactiveUndeclared(t *testing.T) {
	for _, prof := range []string{ProfileAVS, ProfileSmartHome} {
		p := mustProfile(t, prof)
		f := fixtures()[1] // plug
		for _, pr := range []Property{
			{Namespace: nsBrightness, Name: "brightness"},
			{Namespace: nsRange, Instance: InstanceBrightness, Name: "rangeValue"},
			{Namespace: nsPower, Name: "nonsense"},
		} {
			if p.Proactive(f.ep, pr) {
				t.Errorf("%s: Proactive(%+v) = true for an undeclared property", prof, pr)
			}
		}
	}
}

// TestGoldenErrorResponses builds the ErrorResponse of every error kind and
// checks namespace, type, payload extras, golden file and schema.
func TestGoldenErrorResponses(t *testing.T) {
	deterministicIDs(t)
	d := directive(t, "Alexa.ThermostatController", "SetTargetTemperature", "", epID("trv-1"), `{"targetSetpoint":{"value":95,"scale":"FAHRENHEIT"}}`)
	for _, tc := range []struct {
		file  string
		err   *model.Error
		scale string
		ns    string
		typ   string
		check func(t *testing.T, payload map[string]any)
	}{
		{file: "unreachable", err: &model.Error{Kind: model.ErrUnreachable, Message: "the device did not answer in time"}, ns: "Alexa", typ: "ENDPOINT_UNREACHABLE"},
		{file: "bridge_unreachable", err: &model.Error{Kind: model.ErrBridgeUnreachable, Message: "bridge zigbee is down"}, ns: "Alexa", typ: "BRIDGE_UNREACHABLE"},
		{file: "busy", err: &model.Error{Kind: model.ErrBusy, Message: "busy"}, ns: "Alexa", typ: "ENDPOINT_BUSY"},
		{file: "out_of_range", err: model.OutOfRange("brightness 150 is outside 0–100", 0, 100), ns: "Alexa", typ: "VALUE_OUT_OF_RANGE",
			check: func(t *testing.T, p map[string]any) {
				vr := p["validRange"].(map[string]any)
				if vr["minimumValue"] != 0.0 || vr["maximumValue"] != 100.0 {
					t.Errorf("validRange = %v", vr)
				}
			}},
		{file: "temperature_out_of_range_c", err: &model.Error{Kind: model.ErrTemperatureOutOfRange, Message: "35 °C is outside 5–30 °C", Min: 5, Max: 30},
			ns: "Alexa", typ: "TEMPERATURE_VALUE_OUT_OF_RANGE",
			check: func(t *testing.T, p map[string]any) {
				vr := p["validRange"].(map[string]any)
				if mn := vr["minimumValue"].(map[string]any); mn["value"] != 5.0 || mn["scale"] != "CELSIUS" {
					t.Errorf("minimumValue = %v", mn)
				}
			}},
		{file: "temperature_out_of_range_f", err: &model.Error{Kind: model.ErrTemperatureOutOfRange, Message: "35 °C is outside 5–30 °C", Min: 5, Max: 30},
			scale: "FAHRENHEIT", ns: "Alexa", typ: "TEMPERATURE_VALUE_OUT_OF_RANGE",
			check: func(t *testing.T, p map[string]any) {
				vr := p["validRange"].(map[string]any)
				mn, mx := vr["minimumValue"].(map[string]any), vr["maximumValue"].(map[string]any)
				if mn["value"] != 41.0 || mx["value"] != 86.0 || mn["scale"] != "FAHRENHEIT" || mx["scale"] != "FAHRENHEIT" {
					t.Errorf("validRange = %v, want 41–86 FAHRENHEIT", vr)
				}
			}},
		{file: "temperature_out_of_range_k", err: &model.Error{Kind: model.ErrTemperatureOutOfRange, Min: 5, Max: 30},
			scale: "KELVIN", ns: "Alexa", typ: "TEMPERATURE_VALUE_OUT_OF_RANGE",
			check: func(t *testing.T, p map[string]any) {
				if mn := p["validRange"].(map[string]any)["minimumValue"].(map[string]any); mn["value"] != 278.15 {
					t.Errorf("minimumValue = %v, want 278.15 K", mn)
				}
			}},
		{file: "not_supported", err: model.Errorf(model.ErrNotSupported, "no such trait"), ns: "Alexa", typ: "INVALID_DIRECTIVE"},
		{file: "invalid_value", err: model.Errorf(model.ErrInvalidValue, "no such mode"), ns: "Alexa", typ: "INVALID_VALUE"},
		{file: "hardware_fault", err: model.Errorf(model.ErrHardwareFault, "the lock is jammed"), ns: "Alexa", typ: "HARDWARE_MALFUNCTION"},
		{file: "low_power", err: &model.Error{Kind: model.ErrLowPower, Message: "battery low", Percentage: 5}, ns: "Alexa", typ: "ENDPOINT_LOW_POWER",
			check: func(t *testing.T, p map[string]any) {
				if p["percentageState"] != 5.0 {
					t.Errorf("percentageState = %v", p["percentageState"])
				}
			}},
		{file: "internal", err: model.Errorf(model.ErrInternal, "bug"), ns: "Alexa", typ: "INTERNAL_ERROR"},
		{file: "unknown_kind", err: model.Errorf("SOMETHING_NEW", "?"), ns: "Alexa", typ: "INTERNAL_ERROR"},
		{file: "unsupported_thermostat_mode", err: model.Errorf(model.ErrUnsupportedThermostatMode, "no COOL mode"), ns: "Alexa.ThermostatController", typ: "UNSUPPORTED_THERMOSTAT_MODE"},
		{file: "thermostat_is_off", err: model.Errorf(model.ErrThermostatIsOff, "off"), ns: "Alexa.ThermostatController", typ: "THERMOSTAT_IS_OFF"},
		{file: "setpoints_too_close", err: &model.Error{Kind: model.ErrSetpointsTooClose, Message: "too close", MinDelta: 2}, scale: "FAHRENHEIT",
			ns: "Alexa.ThermostatController", typ: "REQUESTED_SETPOINTS_TOO_CLOSE",
			check: func(t *testing.T, p map[string]any) {
				md := p["minimumTemperatureDelta"].(map[string]any)
				if md["value"] != 3.6 || md["scale"] != "FAHRENHEIT" {
					t.Errorf("minimumTemperatureDelta = %v, want 3.6 FAHRENHEIT (an interval)", md)
				}
			}},
		{file: "dual_unsupported", err: model.Errorf(model.ErrDualSetpointsUnsupported, "single only"), ns: "Alexa.ThermostatController", typ: "DUAL_SETPOINTS_UNSUPPORTED"},
		{file: "triple_unsupported", err: model.Errorf(model.ErrTripleSetpointsUnsupported, "no triple"), ns: "Alexa.ThermostatController", typ: "TRIPLE_SETPOINTS_UNSUPPORTED"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ev, err := NewErrorResponse(d, epID("trv-1"), tc.err, tc.scale)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "errors/"+tc.file+".json", ev)
			mustValidate(t, ev)
			var got struct {
				Context any `json:"context"`
				Event   struct {
					Header   Header         `json:"header"`
					Endpoint map[string]any `json:"endpoint"`
					Payload  map[string]any `json:"payload"`
				} `json:"event"`
			}
			if err := json.Unmarshal(ev, &got); err != nil {
				t.Fatal(err)
			}
			h := got.Event.Header
			if h.Namespace != tc.ns || h.Name != "ErrorResponse" || got.Event.Payload["type"] != tc.typ {
				t.Errorf("got %s.%s type %v, want %s.ErrorResponse type %s", h.Namespace, h.Name, got.Event.Payload["type"], tc.ns, tc.typ)
			}
			if h.CorrelationToken != "corr-token" || h.PayloadVersion != "3" || h.MessageID == "" {
				t.Errorf("header = %+v", h)
			}
			if _, hasScope := got.Event.Endpoint["scope"]; hasScope {
				t.Error("endpoint.scope must be left out on AVS")
			}
			if tc.check != nil {
				tc.check(t, got.Event.Payload)
			}
			if et := ErrorTypeOf(tc.err.Kind); et.Namespace != tc.ns || et.Type != tc.typ {
				t.Errorf("ErrorTypeOf = %+v", et)
			}
		})
	}
}

func TestGoldenOtherEvents(t *testing.T) {
	deterministicIDs(t)
	d := directive(t, "Alexa.LockController", "Lock", "", epID("lock-1"), "")
	for _, tc := range []struct {
		file     string
		build    func() ([]byte, error)
		validate bool
	}{
		{"no_such_endpoint", func() ([]byte, error) { return NewNoSuchEndpoint(d, "HUB123::gone::x") }, true},
		{"deferred", func() ([]byte, error) { return NewDeferredResponse(d, 7500*time.Millisecond) }, true},
		{"deferred_no_estimate", func() ([]byte, error) { return NewDeferredResponse(d, 0) }, true},
		{"exception", func() ([]byte, error) {
			return NewExceptionEncountered([]byte(`{"directive":{"header":{"namespace":"Foo"`), ExceptionUnexpectedInformation, "unexpected end of JSON input")
		}, false},
		{"deletereport", func() ([]byte, error) {
			return NewDeleteReport([]json.RawMessage{DeleteEndpoint(epID("light-1")), DeleteEndpoint(epID("lock-1"))})
		}, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ev, err := tc.build()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "events/"+tc.file+".json", ev)
			if tc.validate {
				mustValidate(t, ev)
			} else if err := schema.Validate(ev); !errors.Is(err, schema.ErrNotCovered) {
				t.Errorf("schema.Validate = %v, want ErrNotCovered", err)
			}
		})
	}
}

func TestDeferredRoundsUp(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{time.Millisecond, `"estimatedDeferralInSeconds":1`}, {20 * time.Second, `"estimatedDeferralInSeconds":20`}, {0, `"payload":{}`}} {
		ev, err := NewDeferredResponse(nil, tc.d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ev), tc.want) {
			t.Errorf("%v: %s lacks %s", tc.d, ev, tc.want)
		}
	}
}

func TestChangeReportShape(t *testing.T) {
	changed := []Property{{Namespace: nsPower, Name: "powerState", Value: "ON", TimeOfSample: sampleTime}}
	unchanged := []Property{{Namespace: nsBrightness, Name: "brightness", Value: 10, TimeOfSample: sampleTime}}
	for _, tc := range []struct {
		cause model.Cause
		want  string
	}{
		{model.CausePhysical, "PHYSICAL_INTERACTION"}, {model.CauseApp, "APP_INTERACTION"}, {model.CausePoll, "PERIODIC_POLL"},
		{model.CauseRule, "RULE_TRIGGER"}, {model.CauseVoice, "VOICE_INTERACTION"}, {model.CauseAlexa, "VOICE_INTERACTION"}, {"", "APP_INTERACTION"},
	} {
		ev, err := NewChangeReport("e1", tc.cause, changed, unchanged)
		if err != nil {
			t.Fatal(err)
		}
		mustValidate(t, ev)
		var got struct {
			Context struct{ Properties []Property } `json:"context"`
			Event   struct {
				Header  Header `json:"header"`
				Payload struct {
					Change struct {
						Cause      struct{ Type string } `json:"cause"`
						Properties []map[string]any      `json:"properties"`
					} `json:"change"`
				} `json:"payload"`
			} `json:"event"`
		}
		if err := json.Unmarshal(ev, &got); err != nil {
			t.Fatal(err)
		}
		if got.Event.Payload.Change.Cause.Type != tc.want {
			t.Errorf("cause %q → %q, want %q", tc.cause, got.Event.Payload.Change.Cause.Type, tc.want)
		}
		if len(got.Event.Payload.Change.Properties) != 1 || got.Event.Payload.Change.Properties[0]["name"] != "powerState" {
			t.Errorf("changed = %v", got.Event.Payload.Change.Properties)
		}
		if len(got.Context.Properties) != 1 || got.Context.Properties[0].Name != "brightness" {
			t.Errorf("context = %v", got.Context.Properties)
		}
		if got.Event.Header.CorrelationToken != "" {
			t.Error("ChangeReport must not carry a correlationToken")
		}
	}
	if _, err := NewChangeReport("e1", model.CausePhysical, nil, unchanged); err == nil {
		t.Error("NewChangeReport without changes succeeded")
	}
}

// TestGoldenAllLocales renders the avs fixtures with built-in names in every
// supported locale.
func TestGoldenAllLocales(t *testing.T) {
	p := mustProfile(t, ProfileAVS, SupportedLocales...)
	for _, name := range []string{"color_light", "lock", "thermostat_dual_f"} {
		f := fixtureByName(t, name)
		obj, err := p.Endpoint(f.ep)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "avs/all_locales/endpoint_"+name+".json", obj)
		rep, err := NewAddOrUpdateReport([]json.RawMessage{obj})
		if err != nil {
			t.Fatal(err)
		}
		rep, err = WithScopeToken(rep, "t")
		if err != nil {
			t.Fatal(err)
		}
		mustValidate(t, rep)
		// Every capability names itself in every locale.
		var got struct {
			Capabilities []struct {
				Instance  string    `json:"instance"`
				Resources resources `json:"capabilityResources"`
			} `json:"capabilities"`
		}
		if err := json.Unmarshal(obj, &got); err != nil {
			t.Fatal(err)
		}
		for _, c := range got.Capabilities {
			if c.Instance == "" {
				continue
			}
			have := map[string]bool{}
			for _, l := range c.Resources.FriendlyNames {
				have[l.Value.Locale] = true
			}
			for _, loc := range SupportedLocales {
				if !have[loc] {
					t.Errorf("%s %s: no name in %s", name, c.Instance, loc)
				}
			}
		}
	}
}

func TestTranslationsComplete(t *testing.T) {
	for key, tr := range translations {
		for _, lang := range []string{"en", "de", "fr", "es", "it", "pt", "ja"} {
			if tr[lang] == "" {
				t.Errorf("%s has no %s text", key, lang)
			}
		}
	}
	for _, loc := range SupportedLocales {
		if lang, _, _ := strings.Cut(loc, "-"); translations[txtBrightness][lang] == "" {
			t.Errorf("supported locale %s has no language table", loc)
		}
	}
}
