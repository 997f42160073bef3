package alexa

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery"
	"github.com/avshub/avshub/gateway/alexa/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// sampleTime is the fixed timeOfSample of the golden files.
var sampleTime = time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

// deterministicIDs makes messageIds (and eventCorrelationTokens) predictable
// for the test's duration.
func deterministicIDs(t *testing.T) {
	t.Helper()
	var n atomic.Uint64
	old := newMessageID
	newMessageID = func() string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1)) }
	t.Cleanup(func() { newMessageID = old })
}

// golden compares got (indented) with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", name, err, got)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run go test -update to create it)", name, err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", name, buf.Bytes(), want)
	}
}

// mustValidate checks an event against the official schema exactly
// (ValidateStrict), except Alexa.Discovery reports, whose AVS
// eventCorrelationToken only schema.Validate allows; events the schema does
// not cover are skipped by the caller.
func mustValidate(t *testing.T, ev []byte) {
	t.Helper()
	validate := schema.ValidateStrict
	if bytes.Contains(ev, []byte(`"namespace":"Alexa.Discovery"`)) {
		validate = schema.Validate
	}
	if err := validate(ev); err != nil {
		t.Errorf("event fails the official schema: %v\n%s", err, ev)
	}
}

func mustProfile(t testing.TB, name string, locales ...string) Profile {
	t.Helper()
	p, err := ProfileByName(name, ProfileOptions{Locales: locales})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// fixture is an endpoint with a state for the golden tests.
type fixture struct {
	name string
	ep   discovery.Endpoint
	st   discovery.State
}

func epID(dev string) string { return discovery.EndpointID("HUB123", "virtual", dev) }

func fixtures() []fixture {
	p := discovery.Ptr[float64]
	return []fixture{
		{name: "color_light", ep: discovery.Endpoint{
			ID: epID("light-1"), Bridge: "virtual", DeviceID: "light-1", FriendlyName: "Living room lamp",
			Manufacturer: "IKEA of Sweden", Model: "TRADFRI bulb E27 CWS 806lm", Description: "Colour bulb",
			Category:    discovery.CategoryLight,
			Connections: []discovery.Connection{{Type: discovery.ConnectionZigbee, MACAddress: "00:0d:6f:ff:fe:12:34:56"}},
			Traits: discovery.Traits{OnOff: &discovery.OnOff{}, Brightness: &discovery.Brightness{}, Color: &discovery.Color{},
				ColorTemperature: &discovery.ColorTemperature{MinKelvin: 2200, MaxKelvin: 6500}},
		}, st: discovery.State{On: discovery.Ptr(true), Brightness: discovery.Ptr(60),
			Color: &discovery.HSB{Hue: 235, Saturation: 0.9, Brightness: 0.6}, ColorTemperature: discovery.Ptr(2700)}},
		{name: "plug", ep: discovery.Endpoint{
			ID: epID("plug-1"), DeviceID: "plug-1", FriendlyName: "Kettle", Category: discovery.CategorySmartPlug,
			Connections: []discovery.Connection{{Type: discovery.ConnectionTCPIP, Value: "192.0.2.10"}},
			Traits:      discovery.Traits{OnOff: &discovery.OnOff{}},
		}, st: discovery.State{On: discovery.Ptr(false)}},
		{name: "lock", ep: discovery.Endpoint{
			ID: epID("lock-1"), DeviceID: "lock-1", FriendlyName: "Front door", Manufacturer: "Yale", Model: "YRD256",
			Category: discovery.CategorySmartLock, Traits: discovery.Traits{Lock: &discovery.Lock{}},
		}, st: discovery.State{Lock: discovery.Jammed}},
		{name: "thermostat_single_c", ep: discovery.Endpoint{
			ID: epID("trv-1"), DeviceID: "trv-1", FriendlyName: "Bedroom radiator", Manufacturer: "Danfoss", Model: "eTRV0100",
			Category: discovery.CategoryThermostat,
			Traits: discovery.Traits{
				Thermostat: &discovery.Thermostat{Modes: []discovery.ThermostatMode{discovery.ModeHeat, discovery.ModeEco, discovery.ModeOff},
					TargetSetpoint: true, MinC: 5, MaxC: 30, StepC: 0.5, Scale: "CELSIUS"},
				TemperatureSensor: &discovery.TemperatureSensor{},
			},
		}, st: discovery.State{Thermostat: &discovery.ThermostatState{Mode: discovery.ModeHeat, Target: p(21.5)}, Temperature: p(19.25)}},
		{name: "thermostat_dual_f", ep: discovery.Endpoint{
			ID: epID("hvac-1"), DeviceID: "hvac-1", FriendlyName: "Hallway thermostat", Manufacturer: "Acme", Model: "T-1000",
			Category: discovery.CategoryThermostat,
			Traits: discovery.Traits{
				Thermostat: &discovery.Thermostat{Modes: []discovery.ThermostatMode{discovery.ModeHeat, discovery.ModeCool, discovery.ModeAuto, discovery.ModeOff},
					TargetSetpoint: true, DualSetpoints: true, MinC: 7, MaxC: 32, MinDeltaC: 2, Scale: "FAHRENHEIT"},
				TemperatureSensor: &discovery.TemperatureSensor{},
				OnOff:             &discovery.OnOff{},
			},
		}, st: discovery.State{On: discovery.Ptr(true), Thermostat: &discovery.ThermostatState{Mode: discovery.ModeAuto, Target: p(21), Lower: p(20), Upper: p(24)}, Temperature: p(22.2)}},
		{name: "temperature_sensor", ep: discovery.Endpoint{
			ID: epID("sensor-1"), DeviceID: "sensor-1", FriendlyName: "Garden sensor", Manufacturer: "Aqara", Model: "WSDCGQ11LM",
			Category: discovery.CategoryTemperatureSensor, Traits: discovery.Traits{TemperatureSensor: &discovery.TemperatureSensor{}},
		}, st: discovery.State{Temperature: p(-3.5)}},
		{name: "fan_generic", ep: discovery.Endpoint{
			ID: epID("fan-1"), DeviceID: "fan-1", FriendlyName: "Ceiling fan", Category: "FAN",
			Traits: discovery.Traits{
				OnOff:   &discovery.OnOff{},
				Toggles: []discovery.Toggle{{Instance: "Fan.Oscillate", Names: []discovery.Name{{AssetID: "Alexa.Setting.Oscillate"}, {Text: "Oscillate", Locale: "en-US"}, {Text: "Oszillieren", Locale: "de-DE"}}}},
				Ranges: []discovery.Range{{Instance: "Fan.Speed", Names: []discovery.Name{{AssetID: "Alexa.Setting.FanSpeed"}, {Text: "Speed", Locale: "en-US"}},
					Min: 1, Max: 5, Precision: 1, Presets: []discovery.Preset{{Value: 5, Names: []discovery.Name{{AssetID: "Alexa.Value.Maximum"}}}}}},
				Modes: []discovery.Mode{{Instance: "Fan.Direction", Names: []discovery.Name{{AssetID: "Alexa.Setting.Direction"}}, Ordered: true,
					Values: []discovery.ModeValue{{Value: "Direction.Forward", Names: []discovery.Name{{Text: "Forward", Locale: "en-US"}}},
						{Value: "Direction.Reverse", Names: []discovery.Name{{Text: "Reverse", Locale: "en-US"}}}}}},
			},
		}, st: discovery.State{On: discovery.Ptr(true), Toggles: map[string]bool{"Fan.Oscillate": true},
			Ranges: map[string]float64{"Fan.Speed": 3}, Modes: map[string]string{"Fan.Direction": "Direction.Reverse"}}},
	}
}

// directive builds a parsed directive.
func directive(t testing.TB, ns, name, instance, endpointID, payload string) *Directive {
	t.Helper()
	if payload == "" {
		payload = "{}"
	}
	hdr := map[string]string{"namespace": ns, "name": name, "messageId": "m-1", "correlationToken": "corr-token", "payloadVersion": "3"}
	if instance != "" {
		hdr["instance"] = instance
	}
	h, _ := json.Marshal(hdr)
	raw := fmt.Sprintf(`{"directive":{"header":%s,"endpoint":{"endpointId":%q},"payload":%s}}`, h, endpointID, payload)
	d, err := ParseDirective([]byte(raw))
	if err != nil {
		t.Fatalf("ParseDirective(%s): %v", raw, err)
	}
	return d
}
