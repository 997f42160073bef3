package alexa

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
	"github.com/avshub/avshub/gateway/alexa/schema"
)

func TestParseDirective(t *testing.T) {
	for _, tc := range []struct {
		name    string
		raw     string
		wantErr string
		check   func(t *testing.T, d *Directive)
	}{
		{name: "full", raw: `{"directive":{"header":{"namespace":"Alexa.RangeController","name":"SetRangeValue","instance":"Light.Brightness","messageId":"m","correlationToken":"c","payloadVersion":"3","dialogRequestId":"dr"},"endpoint":{"endpointId":"e1","cookie":{"k":"v"},"scope":{"type":"BearerToken","token":"secret"}},"payload":{"rangeValue":5}}}`,
			check: func(t *testing.T, d *Directive) {
				if d.Header.Instance != "Light.Brightness" || d.Header.CorrelationToken != "c" || d.Header.DialogRequestID != "dr" || d.EndpointID() != "e1" || d.Endpoint.Cookie["k"] != "v" {
					t.Errorf("parsed %+v %+v", d.Header, d.Endpoint)
				}
				if string(d.Payload) != `{"rangeValue":5}` || len(d.Raw) == 0 {
					t.Errorf("payload %s raw %d", d.Payload, len(d.Raw))
				}
			}},
		{name: "null payload", raw: `{"directive":{"header":{"namespace":"Alexa.PowerController","name":"TurnOn","messageId":"m"},"endpoint":{"endpointId":"e"},"payload":null}}`,
			check: func(t *testing.T, d *Directive) {
				if string(d.Payload) != "{}" {
					t.Errorf("payload %s", d.Payload)
				}
			}},
		{name: "no endpoint", raw: `{"directive":{"header":{"namespace":"Alexa.Discovery","name":"Discover","messageId":"m"},"payload":{}}}`,
			check: func(t *testing.T, d *Directive) {
				if d.EndpointID() != "" {
					t.Error("endpoint id")
				}
			}},
		{name: "not json", raw: `nope`, wantErr: "invalid character"},
		{name: "empty", raw: ``, wantErr: "EOF"},
		{name: "no directive", raw: `{"event":{}}`, wantErr: "no \"directive\""},
		{name: "no header", raw: `{"directive":{"payload":{}}}`, wantErr: "no header"},
		{name: "no name", raw: `{"directive":{"header":{"namespace":"Alexa"},"payload":{}}}`, wantErr: "namespace and a name"},
		{name: "endpoint without id", raw: `{"directive":{"header":{"namespace":"Alexa","name":"ReportState"},"endpoint":{},"payload":{}}}`, wantErr: "without endpointId"},
		{name: "payload array", raw: `{"directive":{"header":{"namespace":"Alexa","name":"ReportState"},"payload":[1]}}`, wantErr: "not a JSON object"},
		{name: "trailing", raw: `{"directive":{"header":{"namespace":"Alexa","name":"ReportState"},"payload":{}}} {}`, wantErr: "trailing"},
		{name: "header wrong type", raw: `{"directive":{"header":{"namespace":5,"name":"x"}}}`, wantErr: "cannot unmarshal"},
		{name: "too big", raw: `{"directive":{"header":{"namespace":"A","name":"B"},"payload":{"x":"` + strings.Repeat("a", MaxDirectiveSize) + `"}}}`, wantErr: "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDirective([]byte(tc.raw))
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrMalformedDirective) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrMalformedDirective containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Error("error leaks the token")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, d)
		})
	}
}

func TestExceptionEncountered(t *testing.T) {
	raw := []byte(`{"directive":{"header":{"namespace":"Foo"}}}`)
	ev, err := NewExceptionEncountered(raw, ExceptionUnsupportedOperation, "no handler")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Context []any `json:"context"`
		Event   struct {
			Header  map[string]string `json:"header"`
			Payload struct {
				UnparsedDirective string            `json:"unparsedDirective"`
				Error             map[string]string `json:"error"`
			} `json:"payload"`
		} `json:"event"`
	}
	if err := json.Unmarshal(ev, &got); err != nil {
		t.Fatal(err)
	}
	if got.Context == nil || got.Event.Header["namespace"] != "System" || got.Event.Header["name"] != "ExceptionEncountered" ||
		got.Event.Payload.UnparsedDirective != string(raw) || got.Event.Payload.Error["type"] != "UNSUPPORTED_OPERATION" {
		t.Errorf("got %s", ev)
	}
	if _, err := NewExceptionEncountered(raw, "BOGUS", ""); err == nil {
		t.Error("unknown type accepted")
	}
}

func TestDiscoveryReports(t *testing.T) {
	ep := json.RawMessage(`{"endpointId":"e1","friendlyName":"x"}`)
	rep, err := NewDiscoveryReport(AddOrUpdateReport, []json.RawMessage{ep})
	if err != nil {
		t.Fatal(err)
	}
	if tok := EventCorrelationToken(rep); tok == "" {
		t.Error("no eventCorrelationToken")
	}
	if strings.Contains(string(rep), `"token":"s3cr3t"`) {
		t.Error("token before WithScopeToken")
	}
	withTok, err := WithScopeToken(rep, "s3cr3t")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Event struct {
			Header  Header `json:"header"`
			Payload struct {
				Endpoints []json.RawMessage `json:"endpoints"`
				Scope     scope             `json:"scope"`
			} `json:"payload"`
		} `json:"event"`
	}
	if err := json.Unmarshal(withTok, &got); err != nil {
		t.Fatal(err)
	}
	if got.Event.Payload.Scope != (scope{"BearerToken", "s3cr3t"}) || len(got.Event.Payload.Endpoints) != 1 ||
		got.Event.Header.EventCorrelationToken != EventCorrelationToken(rep) || got.Event.Header.Name != AddOrUpdateReport {
		t.Errorf("WithScopeToken: %s", withTok)
	}
	again, err := WithScopeToken(withTok, "other")
	if err != nil || !strings.Contains(string(again), `"token":"other"`) || strings.Contains(string(again), "s3cr3t") {
		t.Errorf("re-filling the token: %s %v", again, err)
	}

	del, err := NewDiscoveryReport(DeleteReport, []json.RawMessage{DeleteEndpoint("e1")})
	if err != nil || !strings.Contains(string(del), `"name":"DeleteReport"`) || !strings.Contains(string(del), `"endpoints":[{"endpointId":"e1"}]`) {
		t.Errorf("DeleteReport: %s %v", del, err)
	}
	if err := schema.Validate(del); !errors.Is(err, schema.ErrNotCovered) {
		t.Errorf("DeleteReport is not in the schema, Validate = %v", err)
	}

	many := make([]json.RawMessage, MaxEndpointsPerReport+1)
	for i := range many {
		many[i] = ep
	}
	for _, tc := range []struct {
		name string
		eps  []json.RawMessage
		kind string
	}{
		{"empty", nil, AddOrUpdateReport},
		{"too many", many, AddOrUpdateReport},
		{"no id", []json.RawMessage{json.RawMessage(`{"x":1}`)}, DeleteReport},
		{"not json", []json.RawMessage{json.RawMessage(`nope`)}, AddOrUpdateReport},
		{"bad name", []json.RawMessage{ep}, "Discover"},
	} {
		if _, err := NewDiscoveryReport(tc.kind, tc.eps); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	for _, bad := range []string{`nope`, `{"event":{"header":{},"payload":{}}}`, `{"event":{"header":{},"payload":{"endpoints":[]}},"extra":1}`} {
		if _, err := WithScopeToken([]byte(bad), "t"); err == nil {
			t.Errorf("WithScopeToken(%s) accepted", bad)
		}
	}
	if _, err := WithScopeToken(rep, ""); err == nil {
		t.Error("empty token accepted")
	}
}

func TestProfileByName(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts ProfileOptions
		want string
		err  bool
	}{
		{"", ProfileOptions{}, "avs", false},
		{"avs", ProfileOptions{Locales: []string{"de-DE", "de-DE"}}, "avs", false},
		{"avs", ProfileOptions{Locales: []string{"en_us", "FR-ca"}}, "avs", false},
		{"smarthome", ProfileOptions{TemperatureScale: "FAHRENHEIT"}, "smarthome", false},
		{"skill", ProfileOptions{}, "", true},
		{"avs", ProfileOptions{Locales: []string{"xx-XX"}}, "", true},
		{"avs", ProfileOptions{TemperatureScale: "KELVIN"}, "", true},
		{"avs", ProfileOptions{TemperatureScale: "RANKINE"}, "", true},
	} {
		p, err := ProfileByName(tc.name, tc.opts)
		if tc.err {
			if err == nil {
				t.Errorf("ProfileByName(%q, %+v) accepted", tc.name, tc.opts)
			}
			continue
		}
		if err != nil || p.Name() != tc.want {
			t.Errorf("ProfileByName(%q) = %v, %v", tc.name, p, err)
		}
	}
}

func TestLocalesCanonical(t *testing.T) {
	got, err := checkLocales([]string{"en_us", "EN-US", "fr-ca"})
	if err != nil || len(got) != 2 || got[0] != "en-US" || got[1] != "fr-CA" {
		t.Errorf("checkLocales = %v, %v", got, err)
	}
}

func TestEndpointRefused(t *testing.T) {
	base := fixtureByName(t, "color_light").ep
	for _, tc := range []struct {
		name string
		mod  func(*model.Endpoint)
	}{
		{"bad id", func(e *model.Endpoint) { e.ID = "has space" }},
		{"empty id", func(e *model.Endpoint) { e.ID = "" }},
		{"empty name", func(e *model.Endpoint) { e.FriendlyName = " " }},
		{"bad kelvin", func(e *model.Endpoint) {
			e.Traits.ColorTemperature = &model.ColorTemperature{MinKelvin: 6500, MaxKelvin: 2000}
		}},
		{"bad thermostat", func(e *model.Endpoint) {
			e.Traits.Thermostat = &model.Thermostat{TargetSetpoint: true, MinC: 30, MaxC: 5}
		}},
		{"empty thermostat", func(e *model.Endpoint) { e.Traits.Thermostat = &model.Thermostat{MinC: 5, MaxC: 30} }},
		{"range upside down", func(e *model.Endpoint) { e.Traits.Ranges = []model.Range{{Instance: "R", Min: 5, Max: 1}} }},
		{"preset outside", func(e *model.Endpoint) {
			e.Traits.Ranges = []model.Range{{Instance: "R", Min: 0, Max: 1, Presets: []model.Preset{{Value: 2}}}}
		}},
		{"mode without values", func(e *model.Endpoint) { e.Traits.Modes = []model.Mode{{Instance: "M"}} }},
		{"mode value twice", func(e *model.Endpoint) {
			e.Traits.Modes = []model.Mode{{Instance: "M", Values: []model.ModeValue{{Value: "a"}, {Value: "a"}}}}
		}},
		{"toggle without instance", func(e *model.Endpoint) { e.Traits.Toggles = []model.Toggle{{}} }},
		{"same primary name", func(e *model.Endpoint) {
			n := []model.Name{{Text: "Speed", Locale: "en-US"}}
			e.Traits.Toggles = []model.Toggle{{Instance: "A", Names: n}, {Instance: "B", Names: n}}
		}},
		{"duplicate generic", func(e *model.Endpoint) {
			e.Traits.Toggles = []model.Toggle{{Instance: "X"}, {Instance: "X"}}
		}},
	} {
		for _, prof := range []string{ProfileAVS, ProfileSmartHome} {
			ep := base
			ep.Traits.Toggles = nil
			tc.mod(&ep)
			if _, err := mustProfile(t, prof).Endpoint(ep); err == nil {
				t.Errorf("%s/%s: accepted", prof, tc.name)
			}
		}
	}
	// A generic toggle named like a built-in avs capability collides only in avs.
	ep := base
	ep.Traits.Toggles = []model.Toggle{{Instance: "Light.Glow", Names: []model.Name{{Text: "brightness", Locale: "en-US"}}}}
	if _, err := mustProfile(t, ProfileAVS).Endpoint(ep); err == nil {
		t.Error("avs: generic toggle named like Light.Brightness accepted")
	}
	if _, err := mustProfile(t, ProfileSmartHome).Endpoint(ep); err != nil {
		t.Errorf("smarthome: %v", err)
	}
	// A generic range that reuses a built-in avs instance collides only in avs.
	ep = base
	ep.Traits.Ranges = []model.Range{{Instance: InstanceBrightness, Min: 0, Max: 1}}
	if _, err := mustProfile(t, ProfileAVS).Endpoint(ep); err == nil {
		t.Error("avs: generic range reusing Light.Brightness accepted")
	}
	if _, err := mustProfile(t, ProfileSmartHome).Endpoint(ep); err != nil {
		t.Errorf("smarthome: %v", err)
	}
}

func TestEndpointDefaults(t *testing.T) {
	ep := model.Endpoint{ID: "a::b::c", Bridge: "zigbee", DeviceID: "c", FriendlyName: "Thing", Category: "SOMETHING_NEW",
		Description: strings.Repeat("é", 200),
		Connections: []model.Connection{{Type: "BLUETOOTH", Value: "x"}},
		Traits:      model.Traits{OnOff: &model.OnOff{}}}
	for _, prof := range []string{ProfileAVS, ProfileSmartHome} {
		raw, err := mustProfile(t, prof).Endpoint(ep)
		if err != nil {
			t.Fatal(err)
		}
		var got endpointObject
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if got.DisplayCategories[0] != "OTHER" || got.ManufacturerName != "avshub" || len([]rune(got.Description)) != 128 ||
			got.Connections[0].Type != "UNKNOWN" || got.AdditionalAttributes != nil {
			t.Errorf("%s: %s", prof, raw)
		}
		rep, _ := NewAddOrUpdateReport([]json.RawMessage{raw})
		rep, _ = WithScopeToken(rep, "t")
		mustValidate(t, rep)
	}
}

// FuzzDecode feeds arbitrary directives through ParseDirective and both
// profiles' Decode (seeded with every official sample directive and the avs
// directives of the decode tests): nothing may panic, every error is a
// *model.Error, and every command is one Validate can judge.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/alexa-smarthome/sample_messages/*/*.request.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"directive":{"header":{"namespace":"Alexa.RangeController","name":"AdjustRangeValue","instance":"Light.Brightness","messageId":"m"},"endpoint":{"endpointId":"e"},"payload":{"rangeValueDelta":-10,"rangeValueDeltaDefault":true}}}`,
		`{"directive":{"header":{"namespace":"Alexa.ModeController","name":"SetMode","instance":"Lock.State","messageId":"m"},"endpoint":{"endpointId":"e"},"payload":{"mode":"Lock.Jammed"}}}`,
		`{"directive":{"header":{"namespace":"Alexa.ModeController","name":"AdjustMode","instance":"Fan.Direction","messageId":"m"},"endpoint":{"endpointId":"e"},"payload":{"modeDelta":-1e300}}}`,
		`{"directive":{"header":{"namespace":"Alexa.RangeController","name":"AdjustRangeValue","instance":"Thermostat.LowerSetpoint","messageId":"m"},"endpoint":{"endpointId":"e"},"payload":{"rangeValueDelta":1e308}}}`,
		`{"directive":{"header":{"namespace":"Alexa.ThermostatController","name":"AdjustTargetTemperature","messageId":"m"},"endpoint":{"endpointId":"e"},"payload":{"targetSetpointDelta":{"value":-1e308,"scale":"KELVIN"}}}}`,
	} {
		f.Add([]byte(s))
	}
	profiles := []Profile{mustProfile(f, ProfileAVS), mustProfile(f, ProfileSmartHome)}
	eps := fixtures()
	sink, sinkState := kitchenSink()
	eps = append(eps, fixture{name: "sink", ep: sink, st: sinkState})
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := ParseDirective(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformedDirective) {
				t.Fatalf("ParseDirective error %v does not wrap ErrMalformedDirective", err)
			}
			if _, err := NewExceptionEncountered(raw, ExceptionUnexpectedInformation, err.Error()); err != nil {
				t.Fatal(err)
			}
			return
		}
		for _, p := range profiles {
			for _, fx := range eps {
				in, err := p.Decode(d, fx.ep, fx.st)
				if err != nil {
					var de *model.Error
					if !errors.As(err, &de) {
						t.Fatalf("Decode error %T %v is not a *model.Error", err, err)
					}
					if _, err := NewErrorResponse(d, fx.ep.ID, de, in.Scale); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if in.ReportState {
					continue
				}
				if err := in.Command.Validate(fx.ep.Traits, fx.st); err != nil {
					continue
				}
				st := in.Command.Apply(fx.st)
				if _, err := NewResponse(d, fx.ep.ID, p.Properties(fx.ep, st, true, time.Unix(0, 0))); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func TestPropertyTimeOfSample(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 4, 5, 6, 7, 891_234_567, time.FixedZone("x", 3600)), `"timeOfSample":"2026-03-04T04:06:07.891Z"`},
		{time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), `"timeOfSample":"2026-03-04T05:06:07.000Z"`},
	} {
		b, err := json.Marshal(Property{Namespace: nsPower, Name: "powerState", Value: "ON", TimeOfSample: tc.at})
		if err != nil || !strings.Contains(string(b), tc.want) || strings.Count(string(b), "timeOfSample") != 1 {
			t.Errorf("Marshal = %s, %v; want %s", b, err, tc.want)
		}
	}
	b, _ := json.Marshal(Property{Namespace: nsPower, Name: "powerState", Value: "ON"})
	if strings.Contains(string(b), "0001-") {
		t.Errorf("zero time written as year 1: %s", b)
	}
	ev, err := NewResponse(nil, "e1", []Property{{Namespace: nsPower, Name: "powerState", Value: "ON"}})
	if err != nil {
		t.Fatal(err)
	}
	mustValidate(t, ev)
}
