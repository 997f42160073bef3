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

	"github.com/avshub/avshub/discovery/model"
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
	ep   model.Endpoint
	st   model.State
}

func epID(dev string) string { return model.EndpointID("HUB123", "virtual", dev) }

func fixtures() []fixture {
	p := model.Ptr[float64]
	return []fixture{
		{name: "color_light", ep: model.Endpoint{
			ID: epID("light-1"), Bridge: "virtual", DeviceID: "light-1", FriendlyName: "Living room lamp",
			Manufacturer: "IKEA of Sweden", Model: "TRADFRI bulb E27 CWS 806lm", Description: "Colour bulb",
			Category:    model.CategoryLight,
			Connections: []model.Connection{{Type: model.ConnectionZigbee, MACAddress: "00:0d:6f:ff:fe:12:34:56"}},
			Traits: model.Traits{OnOff: &model.OnOff{}, Brightness: &model.Brightness{}, Color: &model.Color{},
				ColorTemperature: &model.ColorTemperature{MinKelvin: 2200, MaxKelvin: 6500}},
		}, st: model.State{On: model.Ptr(true), Brightness: model.Ptr(60),
			Color: &model.HSB{Hue: 235, Saturation: 0.9, Brightness: 0.6}, ColorTemperature: model.Ptr(2700)}},
		{name: "plug", ep: model.Endpoint{
			ID: epID("plug-1"), DeviceID: "plug-1", FriendlyName: "Kettle", Category: model.CategorySmartPlug,
			Connections: []model.Connection{{Type: model.ConnectionTCPIP, Value: "192.0.2.10"}},
			Traits:      model.Traits{OnOff: &model.OnOff{}},
		}, st: model.State{On: model.Ptr(false)}},
		{name: "lock", ep: model.Endpoint{
			ID: epID("lock-1"), DeviceID: "lock-1", FriendlyName: "Front door", Manufacturer: "Yale", Model: "YRD256",
			Category: model.CategorySmartLock, Traits: model.Traits{Lock: &model.Lock{}},
		}, st: model.State{Lock: model.Jammed}},
		{name: "thermostat_single_c", ep: model.Endpoint{
			ID: epID("trv-1"), DeviceID: "trv-1", FriendlyName: "Bedroom radiator", Manufacturer: "Danfoss", Model: "eTRV0100",
			Category: model.CategoryThermostat,
			Traits: model.Traits{
				Thermostat: &model.Thermostat{Modes: []model.ThermostatMode{model.ModeHeat, model.ModeEco, model.ModeOff},
					TargetSetpoint: true, MinC: 5, MaxC: 30, StepC: 0.5, Scale: "CELSIUS"},
				TemperatureSensor: &model.TemperatureSensor{},
			},
		}, st: model.State{Thermostat: &model.ThermostatState{Mode: model.ModeHeat, Target: p(21.5)}, Temperature: p(19.25)}},
		{name: "thermostat_dual_f", ep: model.Endpoint{
			ID: epID("hvac-1"), DeviceID: "hvac-1", FriendlyName: "Hallway thermostat", Manufacturer: "Acme", Model: "T-1000",
			Category: model.CategoryThermostat,
			Traits: model.Traits{
				Thermostat: &model.Thermostat{Modes: []model.ThermostatMode{model.ModeHeat, model.ModeCool, model.ModeAuto, model.ModeOff},
					TargetSetpoint: true, DualSetpoints: true, MinC: 7, MaxC: 32, MinDeltaC: 2, Scale: "FAHRENHEIT"},
				TemperatureSensor: &model.TemperatureSensor{},
				OnOff:             &model.OnOff{},
			},
		}, st: model.State{On: model.Ptr(true), Thermostat: &model.ThermostatState{Mode: model.ModeAuto, Target: p(21), Lower: p(20), Upper: p(24)}, Temperature: p(22.2)}},
		{name: "temperature_sensor", ep: model.Endpoint{
			ID: epID("sensor-1"), DeviceID: "sensor-1", FriendlyName: "Garden sensor", Manufacturer: "Aqara", Model: "WSDCGQ11LM",
			Category: model.CategoryTemperatureSensor, Traits: model.Traits{TemperatureSensor: &model.TemperatureSensor{}},
		}, st: model.State{Temperature: p(-3.5)}},
		{name: "fan_generic", ep: model.Endpoint{
			ID: epID("fan-1"), DeviceID: "fan-1", FriendlyName: "Ceiling fan", Category: "FAN",
			Traits: model.Traits{
				OnOff:   &model.OnOff{},
				Toggles: []model.Toggle{{Instance: "Fan.Oscillate", Names: []model.Name{{AssetID: "Alexa.Setting.Oscillate"}, {Text: "Oscillate", Locale: "en-US"}, {Text: "Oszillieren", Locale: "de-DE"}}}},
				Ranges: []model.Range{{Instance: "Fan.Speed", Names: []model.Name{{AssetID: "Alexa.Setting.FanSpeed"}, {Text: "Speed", Locale: "en-US"}},
					Min: 1, Max: 5, Precision: 1, Presets: []model.Preset{{Value: 5, Names: []model.Name{{AssetID: "Alexa.Value.Maximum"}}}}}},
				Modes: []model.Mode{{Instance: "Fan.Direction", Names: []model.Name{{AssetID: "Alexa.Setting.Direction"}}, Ordered: true,
					Values: []model.ModeValue{{Value: "Direction.Forward", Names: []model.Name{{Text: "Forward", Locale: "en-US"}}},
						{Value: "Direction.Reverse", Names: []model.Name{{Text: "Reverse", Locale: "en-US"}}}}}},
			},
		}, st: model.State{On: model.Ptr(true), Toggles: map[string]bool{"Fan.Oscillate": true},
			Ranges: map[string]float64{"Fan.Speed": 3}, Modes: map[string]string{"Fan.Direction": "Direction.Reverse"}}},
		// Issue 15's kinds, modelled on common Zigbee products.
		{name: "blind", ep: model.Endpoint{
			ID: epID("blind-1"), DeviceID: "blind-1", FriendlyName: "Bedroom blind", Manufacturer: "IKEA of Sweden", Model: "FYRTUR block-out roller blind",
			Category: model.CategoryInteriorBlind, Traits: model.Traits{Cover: &model.Cover{}, Battery: &model.Battery{}},
		}, st: model.State{CoverPosition: model.Ptr(42), Battery: model.Ptr(80), BatteryLow: model.Ptr(false)}},
		{name: "door_sensor", ep: model.Endpoint{
			ID: epID("door-1"), DeviceID: "door-1", FriendlyName: "Patio door", Manufacturer: "LUMI", Model: "MCCGQ11LM",
			Category: model.CategoryContactSensor, Traits: model.Traits{Contact: &model.Contact{}, Tamper: &model.Tamper{}, Battery: &model.Battery{}},
		}, st: model.State{ContactOpen: model.Ptr(true), Tamper: model.Ptr(false), Battery: model.Ptr(95), BatteryLow: model.Ptr(false)}},
		{name: "motion_sensor", ep: model.Endpoint{
			ID: epID("motion-1"), DeviceID: "motion-1", FriendlyName: "Hall motion", Manufacturer: "Signify Netherlands B.V.", Model: "SML001",
			Category: model.CategoryMotionSensor, Traits: model.Traits{Motion: &model.Motion{}, Illuminance: &model.Illuminance{},
				TemperatureSensor: &model.TemperatureSensor{}, Battery: &model.Battery{}},
		}, st: model.State{Motion: model.Ptr(true), Illuminance: p(320), Temperature: p(21.5), Battery: model.Ptr(70)}},
		{name: "leak_sensor", ep: model.Endpoint{
			ID: epID("leak-1"), DeviceID: "leak-1", FriendlyName: "Kitchen leak sensor", Manufacturer: "LUMI", Model: "SJCGQ11LM",
			Category: model.CategoryOther, Traits: model.Traits{WaterLeak: &model.WaterLeak{}, Battery: &model.Battery{}},
		}, st: model.State{WaterLeak: model.Ptr(true), Battery: model.Ptr(15), BatteryLow: model.Ptr(true)}},
		{name: "smoke_gas", ep: model.Endpoint{
			ID: epID("smoke-1"), DeviceID: "smoke-1", FriendlyName: "Hall smoke alarm", Manufacturer: "HEIMAN", Model: "HS1SA",
			Category: model.CategoryOther, Traits: model.Traits{Smoke: &model.Smoke{}, Gas: &model.Gas{}},
		}, st: model.State{Smoke: model.Ptr(false), Gas: model.Ptr(false)}},
		{name: "climate_sensor", ep: model.Endpoint{
			ID: epID("climate-1"), DeviceID: "climate-1", FriendlyName: "Bathroom climate", Manufacturer: "LUMI", Model: "WSDCGQ11LM",
			Category: model.CategoryTemperatureSensor, Traits: model.Traits{TemperatureSensor: &model.TemperatureSensor{}, Humidity: &model.Humidity{}},
		}, st: model.State{Temperature: p(22.5), Humidity: p(61)}},
		{name: "metered_plug", ep: model.Endpoint{
			ID: epID("meter-1"), DeviceID: "meter-1", FriendlyName: "Kettle plug", Manufacturer: "SONOFF", Model: "S26R2ZB",
			Category: model.CategorySmartPlug, Traits: model.Traits{OnOff: &model.OnOff{}, Power: &model.Power{}, Energy: &model.Energy{}},
		}, st: model.State{On: model.Ptr(true), Watts: p(1200), EnergyKWh: p(3.25)}},
		{name: "fan", ep: model.Endpoint{
			ID: epID("fan-1"), DeviceID: "fan-1", FriendlyName: "Air purifier", Manufacturer: "IKEA of Sweden", Model: "STARKVIND Air purifier",
			Category: model.CategoryFan, Traits: model.Traits{OnOff: &model.OnOff{}, Fan: &model.Fan{Presets: []model.Preset{
				{Value: 20, Names: []model.Name{{Text: "quiet", Locale: "en-US"}}}, {Value: 100, Names: []model.Name{{AssetID: "Alexa.Value.Maximum"}}}}}},
		}, st: model.State{On: model.Ptr(true), FanSpeed: model.Ptr(60)}},
		{name: "siren", ep: model.Endpoint{
			ID: epID("siren-1"), DeviceID: "siren-1", FriendlyName: "Alarm siren", Manufacturer: "HEIMAN", Model: "HS2WD-E",
			Category: model.CategorySecurityPanel, Traits: model.Traits{Siren: &model.Siren{}, Battery: &model.Battery{}},
		}, st: model.State{Siren: model.Ptr(false), Battery: model.Ptr(100)}},
		// Readings with no trait of their own: read-only ranges of a known quantity.
		{name: "air_quality_sensor", ep: model.Endpoint{
			ID: epID("air-1"), DeviceID: "air-1", FriendlyName: "Office air", Manufacturer: "_TZE200_dwcarsat", Model: "TS0601_smart_air_house_keeper",
			Category: model.CategoryOther, Traits: model.Traits{TemperatureSensor: &model.TemperatureSensor{}, Humidity: &model.Humidity{},
				Ranges: []model.Range{mustMeasure(model.QuantityCO2), mustMeasure(model.QuantityPM25), mustMeasure(model.QuantityVOCDensity)}},
		}, st: model.State{Temperature: p(23.1), Humidity: p(48), Ranges: map[string]float64{"CO2.Current": 850, "PM25.Current": 12, "VOC.Density": 140}}},
		{name: "soil_sensor", ep: model.Endpoint{
			ID: epID("soil-1"), DeviceID: "soil-1", FriendlyName: "Basil pot", Manufacturer: "_TZE200_myd45weu", Model: "TS0601_soil",
			Category: model.CategoryOther, Traits: model.Traits{TemperatureSensor: &model.TemperatureSensor{}, Battery: &model.Battery{},
				Ranges: []model.Range{mustMeasure(model.QuantitySoilMoisture)}},
		}, st: model.State{Temperature: p(19), Battery: model.Ptr(90), Ranges: map[string]float64{"SoilMoisture.Current": 37}}},
		{name: "vibration_sensor", ep: model.Endpoint{
			ID: epID("vib-1"), DeviceID: "vib-1", FriendlyName: "Washing machine", Manufacturer: "LUMI", Model: "DJT11LM",
			Category: model.CategoryOther, Traits: model.Traits{Motion: &model.Motion{Detects: model.MotionVibration}, Battery: &model.Battery{}},
		}, st: model.State{Motion: model.Ptr(true), Battery: model.Ptr(100)}},
		// A blind with slats: Blind.Lift and Blind.Tilt, open/close on the slats.
		{name: "venetian_blind", ep: model.Endpoint{
			ID: epID("blind-2"), DeviceID: "blind-2", FriendlyName: "Office blind", Manufacturer: "SOMFY", Model: "Tilt & Lift 25 WF Roller",
			Category: model.CategoryInteriorBlind, Traits: model.Traits{Cover: &model.Cover{Tilt: true}, Battery: &model.Battery{}},
		}, st: model.State{CoverPosition: model.Ptr(100), CoverTilt: model.Ptr(40), Battery: model.Ptr(90), BatteryLow: model.Ptr(false)}},
		// A rain sensor: the motion trait detecting rain, named for it.
		{name: "rain_sensor", ep: model.Endpoint{
			ID: epID("rain-1"), DeviceID: "rain-1", FriendlyName: "Garden rain", Manufacturer: "_TZ3210_tgvtvdoc", Model: "WS01",
			Category: model.CategoryOther, Traits: model.Traits{Motion: &model.Motion{Detects: model.MotionRain}},
		}, st: model.State{Motion: model.Ptr(false)}},
		// A water tank's level sensor and a gas meter: read-only ranges.
		{name: "tank_level", ep: model.Endpoint{
			ID: epID("tank-1"), DeviceID: "tank-1", FriendlyName: "Rain tank", Manufacturer: "_TZE200_lvkk0hdg", Model: "TLC2206",
			Category: model.CategoryOther, Traits: model.Traits{Ranges: []model.Range{mustMeasure(model.QuantityLiquidLevel)}},
		}, st: model.State{Ranges: map[string]float64{"LiquidLevel.Current": 62}}},
		{name: "gas_meter", ep: model.Endpoint{
			ID: epID("gas-1"), DeviceID: "gas-1", FriendlyName: "Gas meter", Manufacturer: "Micasa", Model: "MiCASAGasCounter",
			Category: model.CategoryOther, Traits: model.Traits{Ranges: []model.Range{mustMeasure(model.QuantityGasVolume)}, Battery: &model.Battery{}},
		}, st: model.State{Ranges: map[string]float64{"Gas.Volume": 1234.567}, Battery: model.Ptr(80)}},
	}
}

// mustMeasure is the read-only range of a known quantity.
func mustMeasure(key string) model.Range {
	r, ok := model.MeasurementRange(key)
	if !ok {
		panic("unknown quantity " + key)
	}
	return r
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
