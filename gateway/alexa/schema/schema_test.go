package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSamples validates every official sample the schema covers (the samples
// Amazon ships must pass) and checks that directives are reported as not covered.
func TestSamples(t *testing.T) {
	files, err := filepath.Glob("testdata/alexa-smarthome/sample_messages/*/*.json")
	if err != nil || len(files) < 50 {
		t.Fatalf("samples: %d files, %v", len(files), err)
	}
	covered := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var probe map[string]json.RawMessage
			if err := json.Unmarshal(b, &probe); err != nil {
				t.Fatal(err)
			}
			if _, isDirective := probe["directive"]; isDirective {
				if err := Validate(b); err == nil {
					t.Fatalf("a directive validated as an event")
				}
				return
			}
			if err := Validate(b); err != nil {
				// Upstream samples that the upstream schema itself rejects.
				if knownBadSample[filepath.Base(f)] {
					t.Skipf("known upstream mismatch: %v", err)
				}
				t.Fatalf("official sample fails the official schema: %v", err)
			}
			covered++
		})
	}
	if covered < 25 {
		t.Errorf("only %d event samples validated", covered)
	}
}

// knownBadSample lists upstream samples that do not pass the upstream schema.
var knownBadSample = map[string]bool{}

func TestCovered(t *testing.T) {
	for _, tc := range []struct {
		ns, name string
		want     bool
	}{
		{"Alexa", "Response", true},
		{"Alexa", "StateReport", true},
		{"Alexa", "ErrorResponse", true},
		{"Alexa.ThermostatController", "ErrorResponse", true},
		{"Alexa", "ChangeReport", true},
		{"Alexa", "DeferredResponse", true},
		{"Alexa.Discovery", "AddOrUpdateReport", true},
		{"Alexa.Discovery", "Discover.Response", true},
		{"Alexa.Discovery", "DeleteReport", false},
		{"System", "SynchronizeState", false},
		{"System", "ExceptionEncountered", false},
		{"Alexa.ApiGateway", "VerifyGateway", false},
		{"Alexa.PowerController", "TurnOn", false},
	} {
		if got := Covered(tc.ns, tc.name); got != tc.want {
			t.Errorf("Covered(%q, %q) = %v, want %v", tc.ns, tc.name, got, tc.want)
		}
	}
	if ev := Events(); len(ev) < 20 {
		t.Errorf("Events() = %d entries, want the whole schema", len(ev))
	}
}

const goodResponse = `{"context":{"properties":[
 {"namespace":"Alexa.RangeController","instance":"Light.Brightness","name":"rangeValue","value":40,
  "timeOfSample":"2026-01-02T03:04:05.678Z","uncertaintyInMilliseconds":0}]},
 "event":{"header":{"namespace":"Alexa","name":"Response","payloadVersion":"3",
  "messageId":"0b5f4c3e-aaaa-4bbb-8ccc-123456789abc","correlationToken":"tok"},
 "endpoint":{"endpointId":"hub::virtual::lamp"},"payload":{}}}`

func TestValidateErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		event     string
		wantPtr   []string // every pointer must appear in the error
		notCover  bool
		wantValid bool
	}{
		{name: "valid", event: goodResponse, wantValid: true},
		{name: "bad message id", event: strings.Replace(goodResponse, "0b5f4c3e-aaaa", "not valid!", 1),
			wantPtr: []string{"/event/header/messageId"}},
		{name: "bad payload version", event: strings.Replace(goodResponse, `"payloadVersion":"3"`, `"payloadVersion":"2"`, 1),
			wantPtr: []string{"/event/header/payloadVersion"}},
		{name: "range property without instance", event: strings.Replace(goodResponse, `"instance":"Light.Brightness",`, "", 1),
			wantPtr: []string{"/context/properties/0"}},
		{name: "bad timeOfSample", event: strings.Replace(goodResponse, "2026-01-02T03:04:05.678Z", "2026-01-02 03:04", 1),
			wantPtr: []string{"/context/properties/0/timeOfSample"}},
		{name: "unknown property", event: strings.Replace(goodResponse, `"name":"rangeValue"`, `"name":"nonsense"`, 1),
			wantPtr: []string{"/context/properties/0"}},
		{name: "avs header fields", event: strings.Replace(goodResponse, `"correlationToken":"tok"`, `"correlationToken":"tok","eventCorrelationToken":"e","dialogRequestId":"d"`, 1),
			wantValid: true},
		{name: "extra header field", event: strings.Replace(goodResponse, `"correlationToken":"tok"`, `"correlationToken":"tok","instance":"x"`, 1),
			wantPtr: []string{"/event/header"}},
		{name: "error type", event: `{"event":{"header":{"namespace":"Alexa","name":"ErrorResponse","payloadVersion":"3","messageId":"m1","correlationToken":"c"},
			"endpoint":{"endpointId":"e"},"payload":{"type":"NOT_A_TYPE","message":"x"}}}`,
			wantPtr: []string{"/event/payload"}},
		{name: "delete report", event: `{"event":{"header":{"namespace":"Alexa.Discovery","name":"DeleteReport","payloadVersion":"3","messageId":"m"},"payload":{}}}`,
			notCover: true},
		{name: "system", event: `{"context":[],"event":{"header":{"namespace":"System","name":"SynchronizeState","messageId":"m"},"payload":{}}}`,
			notCover: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate([]byte(tc.event))
			switch {
			case tc.wantValid:
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			case tc.notCover:
				if !errors.Is(err, ErrNotCovered) {
					t.Fatalf("Validate = %v, want ErrNotCovered", err)
				}
				return
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("Validate = %v, want *Error", err)
			}
			if len(se.Problems) == 0 || len(se.Problems) > 5 {
				t.Errorf("want 1–5 focused problems, got %d: %v", len(se.Problems), err)
			}
			for _, p := range tc.wantPtr {
				found := false
				for _, pr := range se.Problems {
					found = found || strings.HasPrefix(pr.Pointer, p)
				}
				if !found {
					t.Errorf("error does not name %s: %v", p, err)
				}
			}
		})
	}
}

func TestValidateStrictRejectsAVSFields(t *testing.T) {
	ev := strings.Replace(goodResponse, `"correlationToken":"tok"`, `"correlationToken":"tok","eventCorrelationToken":"e"`, 1)
	if err := ValidateStrict([]byte(ev)); err == nil || !strings.Contains(err.Error(), "eventCorrelationToken") {
		t.Errorf("ValidateStrict = %v, want the AVS field refused", err)
	}
	if err := ValidateStrict([]byte(goodResponse)); err != nil {
		t.Errorf("ValidateStrict(good) = %v", err)
	}
}

func TestValidateAVSDeviceEndpoint(t *testing.T) {
	device := `{"endpointId":"cid::pid::dsn","manufacturerName":"avshub","friendlyName":"avshub","description":"hub","displayCategories":["ALEXA_VOICE_ENABLED"],
		"registration":{"productId":"pid","deviceSerialNumber":"dsn"},
		"capabilities":[{"type":"AlexaInterface","interface":"System","version":"2.0"},{"type":"AlexaInterface","interface":"Alexa.ApiGateway","version":"1.0"}]}`
	light := `{"endpointId":"a::b::c","manufacturerName":"m","friendlyName":"Lamp","description":"d","displayCategories":["LIGHT"],
		"capabilities":[{"type":"AlexaInterface","interface":"Alexa","version":"3"},{"type":"AlexaInterface","interface":"Alexa.PowerController","version":"3",
		"properties":{"supported":[{"name":"powerState"}],"proactivelyReported":true,"retrievable":true}}]}`
	report := func(eps ...string) []byte {
		return []byte(`{"event":{"header":{"namespace":"Alexa.Discovery","name":"AddOrUpdateReport","payloadVersion":"3","messageId":"m1","eventCorrelationToken":"e1"},
			"payload":{"endpoints":[` + strings.Join(eps, ",") + `],"scope":{"type":"BearerToken","token":"t"}}}}`)
	}
	if err := Validate(report(device, light)); err != nil {
		t.Errorf("Validate(device + light) = %v", err)
	}
	if err := ValidateStrict(report(device, light)); err == nil {
		t.Error("ValidateStrict accepted the AVS device endpoint")
	}
	bad := strings.Replace(light, `"LIGHT"`, `"LAMP"`, 1)
	if err := Validate(report(device, bad)); err == nil || !strings.Contains(err.Error(), "/event/payload/endpoints/1/displayCategories/0") {
		t.Errorf("Validate(device + bad light) = %v, want the light's category refused", err)
	}
	badID := strings.Replace(device, "cid::pid::dsn", "not valid!", 1)
	if err := Validate(report(badID)); err == nil || !strings.Contains(err.Error(), "/event/payload/endpoints/0/endpointId") {
		t.Errorf("Validate(device with a bad id) = %v", err)
	}
}

func TestValidateNotJSON(t *testing.T) {
	for _, in := range []string{"", "nope", "[]", `{"event":5}`} {
		if err := Validate([]byte(in)); err == nil {
			t.Errorf("Validate(%q) = nil", in)
		}
	}
}

func BenchmarkValidateResponse(b *testing.B) {
	if err := Validate([]byte(goodResponse)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := Validate([]byte(goodResponse)); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzValidate(f *testing.F) {
	f.Add([]byte(goodResponse))
	f.Add([]byte(`{"event":{"header":{"namespace":"Alexa","name":"ErrorResponse"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = Validate(b) // must not panic
	})
}

// Validate is used by concurrent handlers (the AVS emulator validates every
// event it receives): the compiled schema must be shareable.
func TestValidateConcurrent(t *testing.T) {
	bad := strings.Replace(goodResponse, `"payloadVersion":"3"`, `"payloadVersion":"2"`, 1)
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			ev := goodResponse
			if i%2 == 1 {
				ev = bad
			}
			err := Validate([]byte(ev))
			if (err == nil) != (i%2 == 0) {
				errs <- fmt.Errorf("goroutine %d: Validate = %v", i, err)
				return
			}
			errs <- nil
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
