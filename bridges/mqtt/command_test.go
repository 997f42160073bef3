package mqtt

import (
	"os"
	"testing"

	"github.com/avshub/avshub/bridges/mqtt/z2msim"
	"github.com/avshub/avshub/discovery/model"
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
	cur     model.State
	cmd     model.Command
	topic   string
	payload string // JSON compared semantically, else exact
	errKind model.ErrorKind
}

func runCmdCases(t *testing.T, us []*unit, cases []cmdCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := unitByID(t, us, tc.id)
			if err := tc.cmd.Validate(u.dev.Endpoint.Traits, tc.cur); err != nil {
				if tc.errKind == "" || model.AsError(err).Kind != tc.errKind {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			msgs, err := u.command(tc.cmd, tc.cur)
			if tc.errKind != "" {
				if model.AsError(err) == nil || model.AsError(err).Kind != tc.errKind {
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
	heat := model.State{Thermostat: &model.ThermostatState{Mode: model.ModeHeat}}
	cool := model.State{Thermostat: &model.ThermostatState{Mode: model.ModeCool}}
	runCmdCases(t, us, []cmdCase{
		{"light on", idColour, model.State{}, model.SetPower(true), "zigbee2mqtt/Living Room/Colour Bulb/set", `{"state":"ON"}`, ""},
		{"brightness 100 is 254", idColour, model.State{}, model.SetBrightness(100), "zigbee2mqtt/Living Room/Colour Bulb/set", `{"brightness":254}`, ""},
		{"brightness 1", idColour, model.State{}, model.SetBrightness(1), "zigbee2mqtt/Living Room/Colour Bulb/set", `{"brightness":3}`, ""},
		{"hs colour", idColour, model.State{}, model.SetColor(model.HSB{Hue: 240.4, Saturation: 0.5, Brightness: 1}), "zigbee2mqtt/Living Room/Colour Bulb/set", `{"color":{"hue":240,"saturation":50}}`, ""},
		{"xy colour when only xy", "z2m:0x00158d0003c0de03", model.State{}, model.SetColor(model.HSB{Hue: 0, Saturation: 1, Brightness: 1}), "zigbee2mqtt/desk lamp/set", `{"color":{"x":0.6401,"y":0.33}}`, ""},
		{"mireds", idColour, model.State{}, model.SetColorTemperature(2700), "zigbee2mqtt/Living Room/Colour Bulb/set", `{"color_temp":370}`, ""},
		{"kelvin out of range", idCeiling, model.State{}, model.SetColorTemperature(6500), "", "", model.ErrOutOfRange},
		{"dimmable has no colour", idHallway, model.State{}, model.SetColor(model.HSB{Hue: 1, Saturation: 1, Brightness: 1}), "", "", model.ErrNotSupported},
		{"lock", idLock, model.State{}, model.SetLock(model.Locked), "zigbee2mqtt/Front Door/set", `{"state":"LOCK"}`, ""},
		{"unlock", idLock, model.State{}, model.SetLock(model.Unlocked), "zigbee2mqtt/Front Door/set", `{"state":"UNLOCK"}`, ""},
		{"danfoss setpoint", idRadiator, heat, model.SetThermostat(model.ThermostatState{Target: model.Ptr(21.2)}), "zigbee2mqtt/Bedroom Radiator/set", `{"occupied_heating_setpoint":21}`, ""},
		{"danfoss heat mode", idRadiator, heat, model.SetThermostat(model.ThermostatState{Mode: model.ModeHeat}), "zigbee2mqtt/Bedroom Radiator/set", `{"system_mode":"heat"}`, ""},
		{"danfoss off", idRadiator, heat, model.SetThermostat(model.ThermostatState{Mode: model.ModeOff}), "", "", model.ErrUnsupportedThermostatMode},
		{"danfoss too hot", idRadiator, heat, model.SetThermostat(model.ThermostatState{Target: model.Ptr(40.0)}), "", "", model.ErrTemperatureOutOfRange},
		{"tuya current_heating_setpoint", "z2m:0xa4c138d2e1f0aa01", heat, model.SetThermostat(model.ThermostatState{Target: model.Ptr(19.0)}), "zigbee2mqtt/Kids Room/TRV/set", `{"current_heating_setpoint":19}`, ""},
		{"tuya off", "z2m:0xa4c138d2e1f0aa01", heat, model.SetThermostat(model.ThermostatState{Mode: model.ModeOff}), "zigbee2mqtt/Kids Room/TRV/set", `{"system_mode":"off"}`, ""},
		{"cooling setpoint in cool mode", "z2m:0x0017880100dead04", cool, model.SetThermostat(model.ThermostatState{Target: model.Ptr(24.0)}), "zigbee2mqtt/hall thermostat/set", `{"occupied_cooling_setpoint":24}`, ""},
		{"dual setpoints", "z2m:0x0017880100dead04", heat, model.SetThermostat(model.ThermostatState{Mode: model.ModeAuto, Lower: model.Ptr(19.0), Upper: model.Ptr(25.0)}), "zigbee2mqtt/hall thermostat/set",
			`{"system_mode":"auto","occupied_heating_setpoint":19,"occupied_cooling_setpoint":25}`, ""},
		{"two-gang right", "z2m:0xa4c1380000000b02:right", model.State{}, model.SetPower(true), "zigbee2mqtt/landing switch/set", `{"state_right":"ON"}`, ""},
		{"sensor takes no commands", idSensor, model.State{}, model.SetPower(true), "", "", model.ErrNotSupported},
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
	heat := model.State{Thermostat: &model.ThermostatState{Mode: model.ModeHeat}}
	auto := model.State{Thermostat: &model.ThermostatState{Mode: model.ModeAuto}}
	runCmdCases(t, us, []cmdCase{
		{"tasmota power", "ha:8CAAB5_LI_1", model.State{}, model.SetPower(false), "tasmota_8CAAB5/cmnd/POWER", "OFF", ""},
		{"tasmota dimmer 0-100", "ha:8CAAB5_LI_1", model.State{}, model.SetBrightness(42), "tasmota_8CAAB5/cmnd/Dimmer", "42", ""},
		{"tasmota CT mireds", "ha:8CAAB5_LI_1", model.State{}, model.SetColorTemperature(4000), "tasmota_8CAAB5/cmnd/CT", "250", ""},
		{"tasmota relay", "ha:8CAAB5_RL_2", model.State{}, model.SetPower(true), "tasmota_8CAAB5/cmnd/POWER2", "ON", ""},
		{"esphome json rgb", "ha:ESPlightporch_light", model.State{}, model.SetColor(model.HSB{Hue: 120, Saturation: 1, Brightness: 1}), "porch-node/light/porch_light/command", `{"state":"ON","color":{"r":0,"g":255,"b":0}}`, ""},
		{"esphome json brightness", "ha:ESPlightporch_light", model.State{}, model.SetBrightness(50), "porch-node/light/porch_light/command", `{"state":"ON","brightness":128}`, ""},
		{"esphome json mireds", "ha:ESPlightporch_light", model.State{}, model.SetColorTemperature(3000), "porch-node/light/porch_light/command", `{"state":"ON","color_temp":333}`, ""},
		{"esphome lock", "ha:ESPlockporch_lock", model.State{}, model.SetLock(model.Unlocked), "porch-node/lock/porch_lock/command", "UNLOCK", ""},
		{"esphome mode", "ha:ESPclimateoffice_thermostat", heat, model.SetThermostat(model.ThermostatState{Mode: model.ModeAuto}), "office-node/climate/office_thermostat/mode/command", "heat_cool", ""},
		{"esphome single setpoint refused", "ha:ESPclimateoffice_thermostat", auto, model.SetThermostat(model.ThermostatState{Target: model.Ptr(20.0)}), "", "", model.ErrInvalidValue},
		{"device-based kelvin light", "ha:lr_light", model.State{}, model.SetColorTemperature(3000), "livingroom/light/set", `{"state":"ON","color_temp":3000}`, ""},
		{"device-based xy", "ha:lr_light", model.State{}, model.SetColor(model.HSB{Hue: 240, Saturation: 1, Brightness: 1}), "livingroom/light/set", `{"state":"ON","color":{"x":0.15,"y":0.06}}`, ""},
		{"fahrenheit setpoint with template", "ha:lr_heater", heat, model.SetThermostat(model.ThermostatState{Target: model.Ptr(21.0)}), "livingroom/heater/target/set", `{"target": 70}`, ""},
		{"optimistic switch", "ha:plain_switch", model.State{}, model.SetPower(true), "plain/set", "ON", ""},
	})
	// Dual setpoints go to their own topics.
	u := unitByID(t, us, "ha:ESPclimateoffice_thermostat")
	msgs, err := u.command(model.SetThermostat(model.ThermostatState{Lower: model.Ptr(18.0), Upper: model.Ptr(23.5)}), auto)
	if err != nil || len(msgs) != 2 || string(msgs[0].payload) != "18" || msgs[1].topic != "office-node/climate/office_thermostat/target_temperature_high/command" || string(msgs[1].payload) != "23.5" {
		t.Errorf("dual setpoints: %+v, %v", msgs, err)
	}
}
