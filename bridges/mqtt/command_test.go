package mqtt

import (
	"os"
	"testing"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery"
)

func unitByID(t *testing.T, us []*unit, id string) *unit {
	t.Helper()
	for _, u := range us {
		if u.dev.Endpoint.DeviceID == id {
			return u
		}
	}
	t.Fatalf("no unit %s", id)
	return nil
}

type cmdCase struct {
	name    string
	id      string
	cur     discovery.State
	cmd     discovery.Command
	topic   string
	payload string // JSON compared semantically, else exact
	errKind discovery.ErrorKind
}

func runCmdCases(t *testing.T, us []*unit, cases []cmdCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := unitByID(t, us, tc.id)
			if err := tc.cmd.Validate(u.dev.Endpoint.Traits, tc.cur); err != nil {
				if tc.errKind == "" || discovery.AsError(err).Kind != tc.errKind {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			msgs, err := u.command(tc.cmd, tc.cur)
			if tc.errKind != "" {
				if discovery.AsError(err) == nil || discovery.AsError(err).Kind != tc.errKind {
					t.Fatalf("err = %v, want %s", err, tc.errKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 1 || msgs[0].topic != tc.topic || !jsonEqual(string(msgs[0].payload), tc.payload) {
				var got []string
				for _, m := range msgs {
					got = append(got, m.topic+" "+string(m.payload))
				}
				t.Errorf("messages = %q, want %s %s", got, tc.topic, tc.payload)
			}
		})
	}
}

// Command payloads per zigbee2mqtt device kind, in zigbee2mqtt's units.
func TestZ2MCommandPayloads(t *testing.T) {
	z := newZ2MSource("zigbee2mqtt", newOnceLog(quietLog()))
	z.handle("zigbee2mqtt/bridge/devices", z2msim.BridgeDevices())
	us := z.units()
	extra, err := os.ReadFile("testdata/z2m/extra_devices.json")
	if err != nil {
		t.Fatal(err)
	}
	z2 := newZ2MSource("zigbee2mqtt", newOnceLog(quietLog()))
	z2.handle("zigbee2mqtt/bridge/devices", extra)
	us = append(us, z2.units()...)
	heat := discovery.State{Thermostat: &discovery.ThermostatState{Mode: discovery.ModeHeat}}
	cool := discovery.State{Thermostat: &discovery.ThermostatState{Mode: discovery.ModeCool}}
	runCmdCases(t, us, []cmdCase{
		{"light on", idColour, discovery.State{}, discovery.SetPower(true), "zigbee2mqtt/Living Room/Colour Bulb/set", `{"state":"ON"}`, ""},
		{"brightness 100 is 254", idColour, discovery.State{}, discovery.SetBrightness(100), "zigbee2mqtt/Living Room/Colour Bulb/set", `{"brightness":254}`, ""},
		{"brightness 1", idColour, discovery.State{}, discovery.SetBrightness(1), "zigbee2mqtt/Living Room/Colour Bulb/set", `{"brightness":3}`, ""},
		{"hs colour", idColour, discovery.State{}, discovery.SetColor(discovery.HSB{Hue: 240.4, Saturation: 0.5, Brightness: 1}), "zigbee2mqtt/Living Room/Colour Bulb/set", `{"color":{"hue":240,"saturation":50}}`, ""},
		{"xy colour when only xy", "z2m:0x00158d0003c0de03", discovery.State{}, discovery.SetColor(discovery.HSB{Hue: 0, Saturation: 1, Brightness: 1}), "zigbee2mqtt/desk lamp/set", `{"color":{"x":0.7006,"y":0.2993}}`, ""},
		{"mireds", idColour, discovery.State{}, discovery.SetColorTemperature(2700), "zigbee2mqtt/Living Room/Colour Bulb/set", `{"color_temp":370}`, ""},
		{"kelvin out of range", idCeiling, discovery.State{}, discovery.SetColorTemperature(6500), "", "", discovery.ErrOutOfRange},
		{"dimmable has no colour", idHallway, discovery.State{}, discovery.SetColor(discovery.HSB{Hue: 1, Saturation: 1, Brightness: 1}), "", "", discovery.ErrNotSupported},
		{"lock", idLock, discovery.State{}, discovery.SetLock(discovery.Locked), "zigbee2mqtt/Front Door/set", `{"state":"LOCK"}`, ""},
		{"unlock", idLock, discovery.State{}, discovery.SetLock(discovery.Unlocked), "zigbee2mqtt/Front Door/set", `{"state":"UNLOCK"}`, ""},
		{"danfoss setpoint", idRadiator, heat, discovery.SetThermostat(discovery.ThermostatState{Target: discovery.Ptr(21.2)}), "zigbee2mqtt/Bedroom Radiator/set", `{"occupied_heating_setpoint":21}`, ""},
		{"danfoss heat mode", idRadiator, heat, discovery.SetThermostat(discovery.ThermostatState{Mode: discovery.ModeHeat}), "zigbee2mqtt/Bedroom Radiator/set", `{"system_mode":"heat"}`, ""},
		{"danfoss off", idRadiator, heat, discovery.SetThermostat(discovery.ThermostatState{Mode: discovery.ModeOff}), "", "", discovery.ErrUnsupportedThermostatMode},
		{"danfoss too hot", idRadiator, heat, discovery.SetThermostat(discovery.ThermostatState{Target: discovery.Ptr(40.0)}), "", "", discovery.ErrTemperatureOutOfRange},
		{"tuya current_heating_setpoint", "z2m:0xa4c138d2e1f0aa01", heat, discovery.SetThermostat(discovery.ThermostatState{Target: discovery.Ptr(19.0)}), "zigbee2mqtt/Kids Room/TRV/set", `{"current_heating_setpoint":19}`, ""},
		{"tuya off", "z2m:0xa4c138d2e1f0aa01", heat, discovery.SetThermostat(discovery.ThermostatState{Mode: discovery.ModeOff}), "zigbee2mqtt/Kids Room/TRV/set", `{"system_mode":"off"}`, ""},
		{"cooling setpoint in cool mode", "z2m:0x0017880100dead04", cool, discovery.SetThermostat(discovery.ThermostatState{Target: discovery.Ptr(24.0)}), "zigbee2mqtt/hall thermostat/set", `{"occupied_cooling_setpoint":24}`, ""},
		{"dual setpoints", "z2m:0x0017880100dead04", heat, discovery.SetThermostat(discovery.ThermostatState{Mode: discovery.ModeAuto, Lower: discovery.Ptr(19.0), Upper: discovery.Ptr(25.0)}), "zigbee2mqtt/hall thermostat/set",
			`{"system_mode":"auto","occupied_heating_setpoint":19,"occupied_cooling_setpoint":25}`, ""},
		{"two-gang right", "z2m:0xa4c1380000000b02:right", discovery.State{}, discovery.SetPower(true), "zigbee2mqtt/landing switch/set", `{"state_right":"ON"}`, ""},
		{"sensor takes no commands", idSensor, discovery.State{}, discovery.SetPower(true), "", "", discovery.ErrNotSupported},
	})
}

// Command payloads per Home Assistant entity kind.
func TestHACommandPayloads(t *testing.T) {
	h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
	for _, f := range []string{"testdata/ha/tasmota_legacy.json", "testdata/ha/esphome.json", "testdata/ha/device_based.json", "testdata/ha/odd.json"} {
		for _, m := range loadFixture(t, f) {
			h.handle(m.Topic, m.payload())
		}
	}
	us := h.units()
	heat := discovery.State{Thermostat: &discovery.ThermostatState{Mode: discovery.ModeHeat}}
	auto := discovery.State{Thermostat: &discovery.ThermostatState{Mode: discovery.ModeAuto}}
	runCmdCases(t, us, []cmdCase{
		{"tasmota power", "ha:8CAAB5_LI_1", discovery.State{}, discovery.SetPower(false), "tasmota_8CAAB5/cmnd/POWER", "OFF", ""},
		{"tasmota dimmer 0-100", "ha:8CAAB5_LI_1", discovery.State{}, discovery.SetBrightness(42), "tasmota_8CAAB5/cmnd/Dimmer", "42", ""},
		{"tasmota CT mireds", "ha:8CAAB5_LI_1", discovery.State{}, discovery.SetColorTemperature(4000), "tasmota_8CAAB5/cmnd/CT", "250", ""},
		{"tasmota relay", "ha:8CAAB5_RL_2", discovery.State{}, discovery.SetPower(true), "tasmota_8CAAB5/cmnd/POWER2", "ON", ""},
		{"esphome json rgb", "ha:ESPlightporch_light", discovery.State{}, discovery.SetColor(discovery.HSB{Hue: 120, Saturation: 1, Brightness: 1}), "porch-node/light/porch_light/command", `{"state":"ON","color":{"r":0,"g":255,"b":0}}`, ""},
		{"esphome json brightness", "ha:ESPlightporch_light", discovery.State{}, discovery.SetBrightness(50), "porch-node/light/porch_light/command", `{"state":"ON","brightness":128}`, ""},
		{"esphome json mireds", "ha:ESPlightporch_light", discovery.State{}, discovery.SetColorTemperature(3000), "porch-node/light/porch_light/command", `{"state":"ON","color_temp":333}`, ""},
		{"esphome lock", "ha:ESPlockporch_lock", discovery.State{}, discovery.SetLock(discovery.Unlocked), "porch-node/lock/porch_lock/command", "UNLOCK", ""},
		{"esphome mode", "ha:ESPclimateoffice_thermostat", heat, discovery.SetThermostat(discovery.ThermostatState{Mode: discovery.ModeAuto}), "office-node/climate/office_thermostat/mode/command", "heat_cool", ""},
		{"esphome single setpoint refused", "ha:ESPclimateoffice_thermostat", auto, discovery.SetThermostat(discovery.ThermostatState{Target: discovery.Ptr(20.0)}), "", "", discovery.ErrInvalidValue},
		{"device-based kelvin light", "ha:lr_light", discovery.State{}, discovery.SetColorTemperature(3000), "livingroom/light/set", `{"state":"ON","color_temp":3000}`, ""},
		{"device-based xy", "ha:lr_light", discovery.State{}, discovery.SetColor(discovery.HSB{Hue: 240, Saturation: 1, Brightness: 1}), "livingroom/light/set", `{"state":"ON","color":{"x":0.1355,"y":0.0399}}`, ""},
		{"fahrenheit setpoint with template", "ha:lr_heater", heat, discovery.SetThermostat(discovery.ThermostatState{Target: discovery.Ptr(21.0)}), "livingroom/heater/target/set", `{"target": 70}`, ""},
		{"optimistic switch", "ha:plain_switch", discovery.State{}, discovery.SetPower(true), "plain/set", "ON", ""},
	})
	// Dual setpoints go to their own topics.
	u := unitByID(t, us, "ha:ESPclimateoffice_thermostat")
	msgs, err := u.command(discovery.SetThermostat(discovery.ThermostatState{Lower: discovery.Ptr(18.0), Upper: discovery.Ptr(23.5)}), auto)
	if err != nil || len(msgs) != 2 || string(msgs[0].payload) != "18" || msgs[1].topic != "office-node/climate/office_thermostat/target_temperature_high/command" || string(msgs[1].payload) != "23.5" {
		t.Errorf("dual setpoints: %+v, %v", msgs, err)
	}
}
