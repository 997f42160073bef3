package mqtt

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// kindsSource is the zigbee2mqtt source fed testdata/z2m/kinds_devices.json:
// real products of every kind, serialised by zigbee2mqtt's own code
// (TestKindsFixtureFromZigbee2MQTT regenerates it).
func kindsSource(t *testing.T) (*z2mSource, map[string]string) {
	t.Helper()
	payload, raw := kindsFixture(t)
	names := map[string]string{} // model → friendly name
	for _, d := range raw {
		names[d.Definition.Model] = d.FriendlyName
	}
	z := newZ2MSource("zigbee2mqtt", newOnceLog(quietLog()))
	z.handle("zigbee2mqtt/bridge/devices", payload)
	return z, names
}

// kindsFixture reads the kinds fixture: the payload and its devices.
func kindsFixture(t *testing.T) ([]byte, []z2mDeviceJSON) {
	t.Helper()
	payload, err := os.ReadFile("testdata/z2m/kinds_devices.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw []z2mDeviceJSON
	if err := json.Unmarshal(payload, &raw); err != nil {
		t.Fatal(err)
	}
	return payload, raw
}

// unitsOf returns a device's units, by model.
func unitsOf(t *testing.T, z *z2mSource, names map[string]string, modelName string) []*z2mUnit {
	t.Helper()
	for _, d := range z.devices {
		if d.name == names[modelName] {
			return d.units
		}
	}
	return nil
}

// Every kind of issue 15 from the exposes of a real product: the endpoint's
// category and traits (all of the device's primary traits on one endpoint),
// or why the device is skipped.
func TestZ2MKindsImport(t *testing.T) {
	z, names := kindsSource(t)
	type ep struct {
		suffix string // "" the device itself, else the endpoint's suffix
		cat    model.Category
		traits []model.TraitKind
	}
	for _, tc := range []struct {
		model string
		want  []ep
		skip  string
	}{
		{model: "E1757", want: []ep{{"", model.CategoryInteriorBlind, []model.TraitKind{model.TraitCover, model.TraitBattery}}}},
		// A settable binary state is the device's function (valve, relay module,
		// breaker); a meter's kWh and W name its energy and power.
		{model: "VA4200WZ", want: []ep{{"", model.CategorySwitch, []model.TraitKind{model.TraitOnOff, model.TraitBattery}}}},
		{model: "ERC2202-Z", want: []ep{{"1", model.CategorySwitch, []model.TraitKind{model.TraitOnOff}}, {"2", model.CategorySwitch, []model.TraitKind{model.TraitOnOff}}}},
		{model: "TS0601_rcbo", want: []ep{{"", model.CategorySwitch, []model.TraitKind{model.TraitOnOff, model.TraitPower, model.TraitEnergy}}}},
		{model: "PJ-1203A", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitPower, model.TraitEnergy}}}},
		{model: "ZLinky_TIC", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitPower, model.TraitEnergy}}}},
		{model: "1245602", want: []ep{{"", model.CategoryInteriorBlind, []model.TraitKind{model.TraitCover, model.TraitBattery}}}},
		{model: "ZBCurtain", want: []ep{{"", model.CategoryInteriorBlind, []model.TraitKind{model.TraitCover, model.TraitBattery}}}},
		{model: "MCCGQ11LM", want: []ep{{"", model.CategoryContactSensor, []model.TraitKind{model.TraitContact, model.TraitBattery}}}},
		{model: "E2013", want: []ep{{"", model.CategoryContactSensor, []model.TraitKind{model.TraitContact, model.TraitBattery}}}},
		{model: "9290012607", want: []ep{{"", model.CategoryMotionSensor, []model.TraitKind{model.TraitTemperatureSensor, model.TraitMotion, model.TraitBattery, model.TraitIlluminance}}}},
		{model: "E2134", want: []ep{{"", model.CategoryMotionSensor, []model.TraitKind{model.TraitMotion, model.TraitBattery, model.TraitIlluminance}}}},
		{model: "SJCGQ11LM", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitWaterLeak, model.TraitBattery}}}},
		{model: "E2202", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitWaterLeak, model.TraitBattery}}}},
		{model: "HS1SA-E", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitBattery, model.TraitSmoke}}}},
		{model: "JTYJ-GD-01LM/BW", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitBattery, model.TraitSmoke, model.TraitTamper}}}},
		{model: "JTQJ-BF-01LM/BW", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitGas, model.TraitTamper}}}},
		{model: "HS1CA-E", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitBattery, model.TraitGas}}}},
		{model: "HS2WD-E", want: []ep{{"", model.CategorySecurityPanel, []model.TraitKind{model.TraitBattery, model.TraitSiren}}}},
		{model: "TS0216", want: []ep{{"", model.CategorySecurityPanel, []model.TraitKind{model.TraitBattery, model.TraitSiren}}}},
		{model: "E2007", want: []ep{{"", model.CategoryFan, []model.TraitKind{model.TraitOnOff, model.TraitRange, model.TraitFan}}}}, // with its PM2.5
		{model: "99432", want: []ep{
			{"", model.CategoryFan, []model.TraitKind{model.TraitOnOff, model.TraitFan}},
			{"light", model.CategoryLight, []model.TraitKind{model.TraitOnOff, model.TraitBrightness}},
		}},
		{model: "TS011F_plug_1", want: []ep{{"", model.CategorySmartPlug, []model.TraitKind{model.TraitOnOff, model.TraitPower, model.TraitEnergy}}}},
		{model: "S60ZBTPF", want: []ep{{"", model.CategorySmartPlug, []model.TraitKind{model.TraitOnOff, model.TraitPower, model.TraitEnergy}}}},
		{model: "WSDCGQ11LM", want: []ep{{"", model.CategoryTemperatureSensor, []model.TraitKind{model.TraitTemperatureSensor, model.TraitRange, model.TraitBattery, model.TraitHumidity}}}}, // with its pressure
		{model: "KQJCMB11LM", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitTemperatureSensor, model.TraitRange, model.TraitHumidity}}}},
		{model: "TS0601_smart_air_house_keeper", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitTemperatureSensor, model.TraitRange, model.TraitHumidity}}}},
		{model: "DJT11LM", want: []ep{{"", model.CategoryMotionSensor, []model.TraitKind{model.TraitMotion, model.TraitBattery}}}},
		{model: "3RSM0147Z", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitTemperatureSensor, model.TraitRange, model.TraitBattery}}}},
		{model: "E1524/E1810", skip: remoteReason},
		// IAS zones with both alarm bits, a generic IAS zone of a device
		// described as a door sensor, a garage door's contact, a gas and CO
		// sensor's alarm states, a light and sound siren's alarm enum, a
		// climate sensor with a siren.
		{model: "CS-T2C", want: []ep{{"", model.CategoryContactSensor, []model.TraitKind{model.TraitContact, model.TraitBattery}}}},
		{model: "SR-ZG9050C-WS", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitWaterLeak, model.TraitBattery}}}},
		{model: "S901D-ZG", want: []ep{{"", model.CategoryContactSensor, []model.TraitKind{model.TraitContact, model.TraitBattery}}}},
		{model: "GDC311ZBQ1", want: []ep{{"", model.CategoryContactSensor, []model.TraitKind{model.TraitContact}}}},
		{model: "TS0603", want: []ep{{"", model.CategoryContactSensor, []model.TraitKind{model.TraitContact}}}},
		{model: "E04CF-Z10T", want: []ep{{"", model.CategoryOther, []model.TraitKind{model.TraitGas}}}},
		{model: "ZG-229Z", want: []ep{{"", model.CategorySecurityPanel, []model.TraitKind{model.TraitBattery, model.TraitSiren}}}},
		{model: "NAS-AB02B0", want: []ep{{"", model.CategorySecurityPanel, []model.TraitKind{model.TraitTemperatureSensor, model.TraitBattery, model.TraitHumidity, model.TraitSiren}}}},
		// A thermostat whose system_mode has no off, and its on/off.
		{model: "E25-230", want: []ep{{"", model.CategoryThermostat, []model.TraitKind{model.TraitThermostat, model.TraitTemperatureSensor}}}},
		{model: "ZWT100", want: []ep{{"", model.CategoryThermostat, []model.TraitKind{model.TraitThermostat, model.TraitTemperatureSensor}}}},
	} {
		t.Run(tc.model, func(t *testing.T) {
			name := names[tc.model]
			if name == "" {
				t.Fatalf("%s is not in the fixture", tc.model)
			}
			us := unitsOf(t, z, names, tc.model)
			if tc.skip != "" {
				found := false
				for _, s := range z.skips {
					found = found || (s.ID == name && s.Part == "" && s.Reason == tc.skip)
				}
				if len(us) != 0 || !found {
					t.Fatalf("%d endpoints, skipped %v; want skipped: %s", len(us), found, tc.skip)
				}
				return
			}
			if len(us) != len(tc.want) {
				t.Fatalf("%d endpoints, want %d", len(us), len(tc.want))
			}
			// The fixture's devices have zigbee2mqtt's default name, their
			// address; the endpoints are named as TestZ2MAddressNames says.
			base := strings.TrimSuffix(us[0].ep.FriendlyName, " "+tc.want[0].suffix)
			if model.IsAddressName(base) || strings.Contains(base, name) {
				t.Errorf("named after its address: %q", us[0].ep.FriendlyName)
			}
			for i, w := range tc.want {
				e := us[i].ep
				wantName := strings.TrimSpace(base + " " + w.suffix)
				if e.FriendlyName != wantName || e.Category != w.cat || !reflect.DeepEqual(e.Traits.Kinds(), w.traits) {
					t.Errorf("endpoint %d: %q %s %v; want %q %s %v", i, e.FriendlyName, e.Category, e.Traits.Kinds(), wantName, w.cat, w.traits)
				}
			}
		})
	}
}

// State messages as zigbee2mqtt publishes them for these products → the
// model's state. zigbee2mqtt's contact is true when the contact is closed.
func TestZ2MKindsState(t *testing.T) {
	for _, tc := range []struct {
		model, msg string
		want       model.State
	}{
		{"E1757", `{"battery":87,"linkquality":120,"position":40,"state":"OPEN"}`,
			model.State{CoverPosition: model.Ptr(40), Battery: model.Ptr(87)}},
		{"E1757", `{"position":0,"state":"CLOSE"}`, model.State{CoverPosition: model.Ptr(0)}},
		{"VA4200WZ", `{"state":"OPEN","position":100,"battery":80}`, model.State{On: model.Ptr(true), Battery: model.Ptr(80)}},
		{"VA4200WZ", `{"state":"CLOSE"}`, model.State{On: model.Ptr(false)}},
		{"TS0601_rcbo", `{"state":"ON","power":230,"energy":1.5,"temperature":31}`, model.State{On: model.Ptr(true), Watts: model.Ptr(230.0), EnergyKWh: model.Ptr(1.5)}},
		{"PJ-1203A", `{"power_a":120,"power_b":5,"energy_a":3.5,"energy_b":0.2}`, model.State{Watts: model.Ptr(120.0), EnergyKWh: model.Ptr(3.5)}},
		// The Somfy blind's slats: zigbee2mqtt's tilt, 0 closed … 100 open.
		{"1245602", `{"battery":90,"position":100,"state":"OPEN","tilt":40}`,
			model.State{CoverPosition: model.Ptr(100), CoverTilt: model.Ptr(40), Battery: model.Ptr(90)}},
		{"MCCGQ11LM", `{"battery":100,"contact":true,"device_temperature":21,"linkquality":98,"power_outage_count":3,"voltage":3035}`,
			model.State{ContactOpen: model.Ptr(false), Battery: model.Ptr(100)}},
		{"MCCGQ11LM", `{"contact":false}`, model.State{ContactOpen: model.Ptr(true)}},
		{"9290012607", `{"battery":100,"illuminance":213,"led_indication":false,"linkquality":131,"occupancy":true,"occupancy_timeout":0,"temperature":21.37}`,
			model.State{Motion: model.Ptr(true), Illuminance: model.Ptr(213.0), Temperature: model.Ptr(21.37), Battery: model.Ptr(100)}},
		{"SJCGQ11LM", `{"battery":91,"battery_low":false,"water_leak":true,"voltage":2995}`,
			model.State{WaterLeak: model.Ptr(true), Battery: model.Ptr(91), BatteryLow: model.Ptr(false)}},
		{"HS1SA-E", `{"smoke":true,"battery_low":true,"battery":12}`,
			model.State{Smoke: model.Ptr(true), Battery: model.Ptr(12), BatteryLow: model.Ptr(true)}},
		{"JTQJ-BF-01LM/BW", `{"gas":false,"gas_density":0,"tamper":true}`, model.State{Gas: model.Ptr(false), Tamper: model.Ptr(true)}},
		{"HS1CA-E", `{"carbon_monoxide":true}`, model.State{Gas: model.Ptr(true)}},
		{"TS0216", `{"alarm":true,"battery":100,"volume":"low"}`, model.State{Siren: model.Ptr(true), Battery: model.Ptr(100)}},
		{"E2007", `{"fan_mode":"3","fan_state":"ON","pm25":4}`, model.State{On: model.Ptr(true), FanSpeed: model.Ptr(33), Ranges: map[string]float64{"PM25.Current": 4}}},
		{"E2007", `{"fan_mode":"off","fan_state":"OFF"}`, model.State{On: model.Ptr(false), FanSpeed: model.Ptr(0)}},
		{"99432", `{"fan_mode":"medium","fan_state":"ON"}`, model.State{On: model.Ptr(true), FanSpeed: model.Ptr(67)}},
		{"TS011F_plug_1", `{"state":"ON","power":121,"energy":3.21,"current":0.52,"voltage":231}`,
			model.State{On: model.Ptr(true), Watts: model.Ptr(121.0), EnergyKWh: model.Ptr(3.21)}},
		{"WSDCGQ11LM", `{"battery":100,"humidity":48.2,"pressure":1012.4,"temperature":21.37,"voltage":3005}`,
			model.State{Temperature: model.Ptr(21.37), Humidity: model.Ptr(48.2), Battery: model.Ptr(100), Ranges: map[string]float64{"Pressure.Current": 1012.4}}},
		{"KQJCMB11LM", `{"co2":850,"humidity":45,"linkquality":90,"pm25":12,"temperature":22.5}`,
			model.State{Temperature: model.Ptr(22.5), Humidity: model.Ptr(45.0), Ranges: map[string]float64{"CO2.Current": 850, "PM25.Current": 12}}},
		{"TS0601_smart_air_house_keeper", `{"co2":612,"formaldehyd":9,"humidity":51,"pm25":7,"temperature":21.9,"voc":120}`,
			model.State{Temperature: model.Ptr(21.9), Humidity: model.Ptr(51.0),
				Ranges: map[string]float64{"CO2.Current": 612, "Formaldehyde.Current": 9, "PM25.Current": 7, "VOC.Current": 120}}},
		{"DJT11LM", `{"action":"vibration","angle_x":1,"battery":100,"strength":12,"vibration":true,"voltage":3025}`,
			model.State{Motion: model.Ptr(true), Battery: model.Ptr(100)}},
		{"3RSM0147Z", `{"battery":88,"soil_moisture":37,"temperature":18.4}`,
			model.State{Temperature: model.Ptr(18.4), Battery: model.Ptr(88), Ranges: map[string]float64{"SoilMoisture.Current": 37}}},
		// iasZoneAlarm inverts a contact zone's alarms: true is closed.
		{"CS-T2C", `{"contact_alarm_1":false,"contact_alarm_2":false,"battery_low":false}`, model.State{ContactOpen: model.Ptr(true), BatteryLow: model.Ptr(false)}},
		{"CS-T2C", `{"contact_alarm_1":true}`, model.State{ContactOpen: model.Ptr(false)}},
		{"SR-ZG9050C-WS", `{"water_leak_alarm_1":true,"water_leak_alarm_2":false}`, model.State{WaterLeak: model.Ptr(true)}},
		{"S901D-ZG", `{"alarm_1":true,"alarm_2":false,"battery":90}`, model.State{ContactOpen: model.Ptr(true), Battery: model.Ptr(90)}},
		// garage_door_contact: true is closed, on both definitions.
		{"GDC311ZBQ1", `{"garage_door_contact":true}`, model.State{ContactOpen: model.Ptr(false)}},
		{"TS0603", `{"garage_door_contact":false,"state":false}`, model.State{ContactOpen: model.Ptr(true)}},
		{"E04CF-Z10T", `{"gas":3.2,"co":0,"gas_sensor_state":"alarm","co_state":"normal"}`, model.State{Gas: model.Ptr(true)}},
		{"ZG-229Z", `{"alarm":"alarm_sound","alarm_time":60}`, model.State{Siren: model.Ptr(true)}},
		{"ZG-229Z", `{"alarm":"normal"}`, model.State{Siren: model.Ptr(false)}},
		{"NAS-AB02B0", `{"alarm":false,"humidity":52,"temperature":21.5}`, model.State{Siren: model.Ptr(false), Humidity: model.Ptr(52.0), Temperature: model.Ptr(21.5)}},
		// The thermostat's state OFF is its off mode; ON is its system_mode.
		{"E25-230", `{"state":"OFF","system_mode":"heat","current_heating_setpoint":21,"local_temperature":19.5}`,
			model.State{Thermostat: &model.ThermostatState{Mode: model.ModeOff, Target: model.Ptr(21.0)}, Temperature: model.Ptr(19.5)}},
		{"E25-230", `{"state":"ON","system_mode":"cool","current_heating_setpoint":21,"local_temperature":19.5}`,
			model.State{Thermostat: &model.ThermostatState{Mode: model.ModeCool, Target: model.Ptr(21.0)}, Temperature: model.Ptr(19.5)}},
		{"ZWT100", `{"state":"ON","current_heating_setpoint":20,"local_temperature":18}`,
			model.State{Thermostat: &model.ThermostatState{Mode: model.ModeHeat, Target: model.Ptr(20.0)}, Temperature: model.Ptr(18.0)}},
	} {
		t.Run(tc.model, func(t *testing.T) {
			z, names := kindsSource(t)
			us := unitsOf(t, z, names, tc.model)
			if len(us) == 0 {
				t.Fatalf("%s not imported", tc.model)
			}
			z.handle("zigbee2mqtt/"+names[tc.model], []byte(tc.msg))
			if got := z.states[us[0].id]; !reflect.DeepEqual(got, tc.want) {
				a, _ := json.Marshal(got)
				b, _ := json.Marshal(tc.want)
				t.Errorf("state %s\nwant  %s", a, b)
			}
		})
	}
}

// Commands → the /set payloads zigbee2mqtt's converters take for these
// products: a cover opens, closes and moves to a position; a fan switches
// and takes the nearest of its speeds; a siren sounds and stops.
func TestZ2MKindsCommands(t *testing.T) {
	for _, tc := range []struct {
		model string
		cmd   model.Command
		want  string // payload, or the error kind
	}{
		{"E1757", model.SetCoverPosition(100), `{"position":100}`},
		{"E1757", model.SetCoverPosition(0), `{"position":0}`},
		{"E1757", model.SetCoverPosition(35), `{"position":35}`},
		{"ZBCurtain", model.SetCoverPosition(60), `{"position":60}`},
		{"1245602", model.SetCoverTilt(40), `{"tilt":40}`},
		{"VA4200WZ", model.SetPower(false), `{"state":"CLOSE"}`},
		{"ERC2202-Z", model.SetPower(true), `{"state_l1":"ON"}`},
		{"TS0601_rcbo", model.SetPower(false), `{"state":"OFF"}`},
		{"1245602", model.SetCoverPosition(30), `{"position":30}`},
		{"E1757", model.SetCoverTilt(40), string(model.ErrNotSupported)},
		{"E2007", model.SetPower(true), `{"fan_state":"ON"}`},
		{"E2007", model.SetPower(false), `{"fan_state":"OFF"}`},
		{"E2007", model.SetFanSpeed(50), `{"fan_mode":"5"}`},
		{"E2007", model.SetFanSpeed(100), `{"fan_mode":"9"}`},
		{"E2007", model.SetFanSpeed(1), `{"fan_mode":"1"}`},
		{"E2007", model.SetFanSpeed(0), `{"fan_state":"OFF"}`},
		{"99432", model.SetFanSpeed(33), `{"fan_mode":"low"}`},
		{"99432", model.SetFanSpeed(67), `{"fan_mode":"medium"}`},
		{"HS2WD-E", model.SetSiren(true), `{"warning":{"duration":10,"mode":"emergency"}}`},
		{"HS2WD-E", model.SetSiren(false), `{"warning":{"mode":"stop"}}`},
		{"TS0216", model.SetSiren(true), `{"alarm":true}`},
		{"TS0216", model.SetSiren(false), `{"alarm":false}`},
		{"HS2WD-E", model.SetPower(true), string(model.ErrNotSupported)},
		{"TS011F_plug_1", model.SetCoverPosition(10), string(model.ErrNotSupported)},
		{"ZG-229Z", model.SetSiren(true), `{"alarm":"alarm_sound_light"}`},
		{"ZG-229Z", model.SetSiren(false), `{"alarm":"normal"}`},
		{"E25-230", model.SetThermostat(model.ThermostatState{Mode: model.ModeOff}), `{"state":"OFF"}`},
		{"E25-230", model.SetThermostat(model.ThermostatState{Mode: model.ModeCool}), `{"state":"ON","system_mode":"cool"}`},
		{"ZWT100", model.SetThermostat(model.ThermostatState{Mode: model.ModeOff}), `{"state":"OFF"}`},
		{"ZWT100", model.SetThermostat(model.ThermostatState{Mode: model.ModeHeat}), `{"state":"ON"}`},
		{"ZWT100", model.SetThermostat(model.ThermostatState{Mode: model.ModeCool}), string(model.ErrUnsupportedThermostatMode)},
	} {
		t.Run(tc.model+" "+tc.cmd.String(), func(t *testing.T) {
			z, names := kindsSource(t)
			us := unitsOf(t, z, names, tc.model)
			if len(us) == 0 {
				t.Fatalf("%s not imported", tc.model)
			}
			p, err := us[0].command(tc.cmd, model.State{})
			if err != nil {
				if got := string(model.AsError(err).Kind); got != tc.want {
					t.Fatalf("error %v, want %s", err, tc.want)
				}
				return
			}
			b, _ := json.Marshal(p)
			if !jsonEqual(string(b), tc.want) {
				t.Errorf("payload %s, want %s", b, tc.want)
			}
		})
	}
}

// A cover that only opens and closes (no position) is told OPEN and CLOSE
// and refuses a position in between; STOP stops it; its state is 100 or 0.
// A cover whose state enum has no STOP refuses the stop.
func TestZ2MCoverWithoutPosition(t *testing.T) {
	u := &z2mUnit{cover: parseZ2MCover([]z2mExpose{{Type: "enum", Name: "state", Property: "state", Access: accessState | accessSet, Values: []any{"OPEN", "CLOSE", "STOP"}}})}
	for _, tc := range []struct {
		pos  int
		want string
	}{{100, `{"state":"OPEN"}`}, {0, `{"state":"CLOSE"}`}, {50, string(model.ErrInvalidValue)}, {-1, `{"state":"STOP"}`}} {
		cmd := model.SetCoverPosition(tc.pos)
		if tc.pos < 0 {
			cmd = model.StopCover() // zigbee2mqtt's cover state enum: STOP
		}
		p, err := u.command(cmd, model.State{})
		got := ""
		if err != nil {
			got = string(model.AsError(err).Kind)
		} else {
			b, _ := json.Marshal(p)
			got = string(b)
		}
		if got != tc.want {
			t.Errorf("position %d: %s, want %s", tc.pos, got, tc.want)
		}
	}
	noStop := &z2mUnit{cover: parseZ2MCover([]z2mExpose{{Type: "enum", Name: "state", Property: "state", Access: accessState | accessSet, Values: []any{"OPEN", "CLOSE"}}})}
	if _, err := noStop.command(model.StopCover(), model.State{}); model.AsError(err).Kind != model.ErrNotSupported {
		t.Errorf("stop to a cover without STOP: %v, want NOT_SUPPORTED", err)
	}
	s, _, _ := u.parseState(map[string]any{"state": "CLOSE"})
	if s.CoverPosition == nil || *s.CoverPosition != 0 {
		t.Errorf("CLOSE → %v, want position 0", s.CoverPosition)
	}
}

// A remote opted into Alexa (the config's remotes) is a contact or motion
// sensor with its battery: a press that counts opens or trips it, the hold
// after it clears it; other presses, retained old presses and a battery
// report leave it alone; an opt-in naming an action the remote lacks skips
// it with the reason; a remote not opted in stays skipped.
func TestRemoteOptIn(t *testing.T) {
	payload, err := os.ReadFile("testdata/z2m/kinds_devices.json")
	if err != nil {
		t.Fatal(err)
	}
	const remote = "0x00a0000000000451" // IKEA E1524/E1810, named by its address in the fixture
	cfg := func(js string) map[string]*remoteOptIn {
		s, err := parseConfig([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return s.remotes
	}
	for _, tc := range []struct {
		name, config string
		cat          model.Category
		skip         string
	}{
		{"motion, every press", `{"remotes":[{"device":"0x00A0000000000451","as":"motion"}]}`, model.CategoryMotionSensor, ""},
		{"contact, one press", `{"remotes":[{"device":"0x00a0000000000451","as":"contact","actions":["toggle"],"hold":"5s"}]}`, model.CategoryContactSensor, ""},
		{"an action it lacks", `{"remotes":[{"device":"0x00a0000000000451","as":"motion","actions":["toggle","double"]}]}`, "", "remote opted in with actions it does not have: double"},
		{"not opted in", `{"remotes":[{"device":"Kitchen remote","as":"motion"}]}`, "", remoteReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z := newZ2MSource("zigbee2mqtt", newOnceLog(quietLog()))
			z.remotes = cfg(tc.config)
			clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			z.now = func() time.Time { return clock }
			z.handle("zigbee2mqtt/bridge/devices", payload)
			d := z.devices[remote]
			if tc.skip != "" {
				found := false
				for _, s := range z.skips {
					found = found || (s.ID == remote && s.Part == "" && s.Reason == tc.skip)
				}
				if d != nil || !found {
					t.Fatalf("imported %v, skipped %v; want skipped: %s", d != nil, found, tc.skip)
				}
				return
			}
			if d == nil || len(d.units) != 1 {
				t.Fatalf("not one endpoint: %+v", d)
			}
			u := d.units[0]
			want := []model.TraitKind{model.TraitMotion, model.TraitBattery}
			if tc.cat == model.CategoryContactSensor {
				want = []model.TraitKind{model.TraitContact, model.TraitBattery}
			}
			if u.ep.Category != tc.cat || !reflect.DeepEqual(u.ep.Traits.Kinds(), want) || u.ep.FriendlyName != "IKEA remote" {
				t.Fatalf("endpoint %s %s %v, want %s %v", u.ep.FriendlyName, u.ep.Category, u.ep.Traits.Kinds(), tc.cat, want)
			}
			for _, s := range z.skips {
				if s.ID == remote && strings.HasPrefix(s.Part, "action") {
					t.Errorf("the imported action is listed as skipped: %+v", s)
				}
			}
			active := func() bool {
				st := z.states[u.id]
				if tc.cat == model.CategoryContactSensor {
					return *st.ContactOpen
				}
				return *st.Motion
			}
			if active() {
				t.Fatal("active before any press")
			}
			topic := "zigbee2mqtt/" + remote
			z.handle(topic, []byte(`{"battery":80,"linkquality":90}`))
			if active() || *z.states[u.id].Battery != 80 {
				t.Fatalf("a battery report: %+v", z.states[u.id])
			}
			z.retained = true
			z.handle(topic, []byte(`{"action":"toggle"}`))
			z.retained = false
			if active() {
				t.Fatal("a retained old press tripped it")
			}
			z.handle(topic, []byte(`{"action":"arrow_left_click"}`))
			if filtered := tc.cat == model.CategoryContactSensor; active() == filtered {
				t.Fatalf("arrow_left_click: active %v, want %v", active(), !filtered)
			}
			z.handle(topic, []byte(`{"action":"toggle"}`))
			if !active() {
				t.Fatal("toggle did not trip it")
			}
			at, ok := z.nextRelease()
			hold := map[bool]time.Duration{true: 5 * time.Second, false: defaultRemoteHold}[tc.cat == model.CategoryContactSensor]
			if !ok || !at.Equal(clock.Add(hold)) {
				t.Fatalf("next release %v %v, want after %v", at, ok, hold)
			}
			if ids := z.releasePresses(at.Add(-time.Millisecond)); len(ids) != 0 || !active() {
				t.Fatalf("released before the hold: %v", ids)
			}
			if ids := z.releasePresses(at); !reflect.DeepEqual(ids, []string{u.id}) || active() {
				t.Fatalf("not released after the hold: %v", ids)
			}
			if _, ok := z.nextRelease(); ok {
				t.Fatal("a release left after the last one")
			}
		})
	}
}

// A device zigbee2mqtt knows only by its address (its default friendly name)
// is named as a person would name it, its brand and what it is; its topic
// keeps the address; a name given in zigbee2mqtt is kept.
func TestZ2MAddressNames(t *testing.T) {
	_, raw := kindsFixture(t)
	byModel := map[string]*z2mDeviceJSON{}
	for i := range raw {
		byModel[raw[i].Definition.Model] = &raw[i]
	}
	for _, tc := range []struct{ model, friendly, want string }{
		{"E1757", "", "IKEA blind"},
		{"E2134", "", "IKEA motion sensor"},
		{"MCCGQ11LM", "", "Aqara door sensor"},
		{"9290012607", "", "Philips Hue motion sensor"},
		{"TS011F_plug_1", "", "Tuya plug"},
		{"ZWT100", "", "AVATTO thermostat"},
		{"99432", "", "Hampton Bay fan"},
		{"E1757", "Bedroom/Blind", "Bedroom Blind"},
	} {
		d := *byModel[tc.model]
		if tc.friendly != "" {
			d.FriendlyName = tc.friendly
		} else if d.FriendlyName != d.IEEE {
			t.Fatalf("%s: the fixture's friendly name %q is not its address", tc.model, d.FriendlyName)
		}
		dev, _, reason := buildZ2MDevice(&d, nil)
		if dev == nil {
			t.Fatalf("%s: not imported: %s", tc.model, reason)
		}
		if got := dev.units[0].ep.FriendlyName; got != tc.want {
			t.Errorf("%s named %q: %q, want %q", tc.model, d.FriendlyName, got, tc.want)
		}
		if dev.name != d.FriendlyName {
			t.Errorf("%s: topic name %q, want zigbee2mqtt's %q", tc.model, dev.name, d.FriendlyName)
		}
	}
}
