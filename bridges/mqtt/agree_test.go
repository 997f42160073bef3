package mqtt

import (
	"strings"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// haExposesMaxDiffer is the committed ceiling of definitions (of 4,478,
// zigbee2mqtt 2.14.1) whose endpoints differ between the two sources fed
// zigbee2mqtt's own output for one device of every definition: its
// bridge/devices to the zigbee2mqtt source, its Home Assistant discovery
// to the Home Assistant source (TestHAAndExposesAgreeOnEveryDefinition).
//
// Measured 618 in session 9, then made alike where one side was wrong for
// a person (the way a person sees the device: one device, one endpoint,
// its primary function first), each time as the zigbee2mqtt source does:
//   - 294 named an endpoint in another case ("Atsmart switch Left" and
//     "… left"): both now say zigbee2mqtt's endpoint in its own lower case,
//     underscores as spaces ("bottom left"), after the device's name
//     (z2mEndpointWords); a device's name says a slash as a space
//     ("Nue / 3A", "kitchen/lamp"; z2mPersonName);
//   - about 80 metered multi-outlet plugs and switches had an extra endpoint
//     through Home Assistant, a meter named as the device beside its
//     outlets ("turn off Aeotec switch" would fail): each outlet's reading
//     now joins its outlet (power_l1 the switch of l1), a device-wide one
//     none (618 -> 248 with the names);
//   - a device's one actuator on an endpoint is named as the device ("Moes
//     switch", not "… l1"), and its one function of no endpoint beside its
//     endpoints' too ("Tuya switch" beside "… l1", "… l2", not "… 1"; the
//     zigbee2mqtt source's id keeps the number) (248 -> 124);
//   - 19 thermostats of a heating and a cooling setpoint were dual-setpoint
//     only through Home Assistant (zigbee2mqtt discovers their low and high
//     topics only), so "set the thermostat to 21" in HEAT was refused: one
//     target now, the heating setpoint (the cooling one in COOL), both only
//     in AUTO (z2mHeatCool) (124 -> 110);
//   - the exposes path named a fan with a light by its first endpoint, the
//     light ("Inovelli bulb" was the VZM36's fan, "Inovelli bulb light" its
//     light): a device is named by its fan unless it is a thermostat's, as
//     through Home Assistant ("Inovelli fan") (110 -> 109);
//   - issue 15's detection enums, rain, liquid levels and valves read alike
//     through zigbee2mqtt's sensors without a device class (109 -> 107);
//   - 16 thermostats were also contact sensors through Home Assistant:
//     zigbee2mqtt discovers a radiator valve's open-window detection
//     ("window", "window_open") and its valve's state ("valve_state") as
//     binary_sensors of device class window or opening without an entity
//     category; beside a climate only a "contact" is one now (107 -> 98);
//   - the Home Assistant source takes a cover's tilt (tilt_command_topic,
//     tilt_status_topic: the 19 covers with slats) (98 -> 79);
//   - a siren's alarm enum, which zigbee2mqtt discovers as a select, is the
//     siren through Home Assistant as through exposes (79 -> 78);
//   - a device's several functions of no endpoint were numbered through
//     exposes ("Airzone thermostat 1" and "… 2") and named after their
//     Home Assistant platform ("… climate", "… switch"), and an
//     address-named device was named by its first function (a thermostat
//     with a switch was "Bosch switch"): both now name the device by its
//     primary function (z2mPrimary: a thermostat before a light before a
//     switch; a fan unless it is a thermostat's, so an air conditioner is
//     "OWON thermostat" and its fan "OWON thermostat fan"), which keeps the
//     device's name, and the others by what they are ("Airzone thermostat
//     switch"; z2mFunctionNames) (78 -> 66);
//   - the template evaluator takes zigbee2mqtt's thermostat templates
//     ({% set %}, dicts, .keys(), the inline if, list literals, "is not
//     none"): WT-A03E's climate is imported through Home Assistant too
//     (66 -> 65).
//
// What stays different (65; the counts below were taken at 66), by what
// differs (a device may count twice):
//   - thermostat modes (25): OFF on one path only. A Tuya thermostat's
//     off is its binary "state", which the zigbee2mqtt source takes as the
//     OFF mode, while zigbee2mqtt discovers the climate with no mode topic
//     and the state as a switch beside it (dropped: one device is one
//     thermostat): HEAT only through Home Assistant ("AVATTO thermostat");
//     others the other way round, and there Home Assistant is right: Moes
//     ZHT-S01's climate reports system_mode read-only and a settable
//     system_mode is a separate expose, which the zigbee2mqtt source does
//     not join to the climate and zigbee2mqtt's discovery does (OFF and
//     HEAT);
//   - range readings (19): another reading of a sensor's several
//     (the air quality index vs the VOC of Bosch's smoke alarm);
//   - the rest (about 22): one device each, thermostats of several climates
//     (Bosch BTH-RA/RM), functions the two sources cut differently (a fan
//     with a switch, BOX ERC2202-Z's state l1/l2, ShinaSystem GCM-300Z's gas
//     valve), a light's colour temperature range, a meter's or a siren's
//     reading, readings in another order (MindY Leleka).
const haExposesMaxDiffer = 65

// TestHAAndExposesAgreeOnEveryDefinition: zigbee2mqtt's bridge/devices
// with one device for every definition fed to the zigbee2mqtt source, and
// zigbee2mqtt's own Home Assistant discovery of the same devices fed to the
// Home Assistant source, give the same endpoints (names and traits) to all
// but haExposesMaxDiffer definitions. It logs each that differs.
func TestHAAndExposesAgreeOnEveryDefinition(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real zigbee2mqtt's code over every definition")
	}
	payload, raw, msgs := coverageDevicesAndHA(t)
	z := newZ2MSource("zigbee2mqtt", newOnceLog(quietLog()))
	z.handle("zigbee2mqtt/bridge/devices", payload)
	h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
	for _, m := range msgs {
		h.handle(m[0], []byte(m[1]))
	}
	viaExposes, viaHA := map[string][]*unit{}, map[string][]*unit{}
	for _, u := range z.units() {
		ieee, _, _ := strings.Cut(strings.TrimPrefix(u.dev.Endpoint.DeviceID, "z2m:"), ":")
		viaExposes[ieee] = append(viaExposes[ieee], u)
	}
	for _, u := range h.units() {
		// zigbee2mqtt's unique_id is <ieee>_<object id>_<base topic>
		ieee, _, _ := strings.Cut(strings.TrimPrefix(u.dev.Endpoint.DeviceID, "ha:"), "_")
		viaHA[ieee] = append(viaHA[ieee], u)
	}
	differ, definitions := 0, 0
	for i := range raw {
		d := &raw[i]
		if d.Definition == nil {
			continue
		}
		definitions++
		exposes, ha := describeUnits(viaExposes[d.IEEE]), describeUnits(viaHA[d.IEEE])
		if strings.Join(exposes, "\n") == strings.Join(ha, "\n") {
			continue
		}
		differ++
		t.Logf("%s (%s):\n exposes:        %s\n Home Assistant: %s", d.Definition.Model, d.Definition.Vendor,
			strings.Join(exposes, "\n                 "), strings.Join(ha, "\n                 "))
	}
	t.Logf("%d of %d definitions give other endpoints through the two sources", differ, definitions)
	if differ > haExposesMaxDiffer {
		t.Errorf("%d definitions differ between the two sources, more than the committed %d", differ, haExposesMaxDiffer)
	}
	if definitions < 4000 {
		t.Errorf("only %d definitions generated", definitions)
	}
}

// A zigbee2mqtt thermostat of a heating and a cooling setpoint (Leviton
// RC-2000WH, as zigbee2mqtt 2.14.1 discovers it: low and high topics only)
// takes one target through the Home Assistant source as through the
// zigbee2mqtt source: the heating setpoint, the cooling one in COOL, both
// only in AUTO.
func TestHAZigbee2MQTTHeatCoolTakesOneTarget(t *testing.T) {
	const cfg = `{"availability":[{"topic":"zigbee2mqtt/bridge/state","value_template":"{{ value_json.state }}"}],` +
		`"current_temperature_template":"{{ value_json[\"local_temperature\"] }}","current_temperature_topic":"zigbee2mqtt/hall",` +
		`"device":{"identifiers":["zigbee2mqtt_0x00a00000000005dc"],"manufacturer":"Leviton","model":"Omnistat2 wireless thermostat","model_id":"RC-2000WH","name":"hall"},` +
		`"max_temp":"30","min_temp":"10","mode_command_topic":"zigbee2mqtt/hall/set/system_mode","mode_state_template":"{{ value_json[\"system_mode\"] }}",` +
		`"mode_state_topic":"zigbee2mqtt/hall","modes":["off","auto","heat","cool"],"name":null,"origin":{"name":"Zigbee2MQTT","sw":"2.14.1"},"temp_step":1,` +
		`"temperature_high_command_topic":"zigbee2mqtt/hall/set/occupied_cooling_setpoint","temperature_high_state_template":"{{ value_json[\"occupied_cooling_setpoint\"] }}",` +
		`"temperature_high_state_topic":"zigbee2mqtt/hall","temperature_low_command_topic":"zigbee2mqtt/hall/set/occupied_heating_setpoint",` +
		`"temperature_low_state_template":"{{ value_json[\"occupied_heating_setpoint\"] }}","temperature_low_state_topic":"zigbee2mqtt/hall",` +
		`"temperature_unit":"C","unique_id":"0x00a00000000005dc_climate_zigbee2mqtt"}`
	h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
	h.handle("homeassistant/climate/0x00a00000000005dc/climate/config", []byte(cfg))
	us := h.units()
	if len(us) != 1 {
		t.Fatalf("%d endpoints", len(us))
	}
	if th := us[0].dev.Endpoint.Traits.Thermostat; th == nil || !th.TargetSetpoint || !th.DualSetpoints {
		t.Fatalf("thermostat %+v: want one target and, in AUTO, both setpoints", th)
	}
	for _, c := range []struct {
		mode                  string
		target, lower, upper  float64
		sendTarget, sendTopic string
	}{
		{"heat", 20, 0, 0, "21", "zigbee2mqtt/hall/set/occupied_heating_setpoint"},
		{"cool", 26, 0, 0, "21", "zigbee2mqtt/hall/set/occupied_cooling_setpoint"},
		{"auto", 0, 20, 26, "", ""},
	} {
		h.handle("zigbee2mqtt/hall", []byte(`{"system_mode":"`+c.mode+`","occupied_heating_setpoint":20,"occupied_cooling_setpoint":26,"local_temperature":21.5}`))
		u := h.units()[0]
		ts := u.dev.State.Thermostat
		val := func(p *float64) float64 {
			if p == nil {
				return 0
			}
			return *p
		}
		if ts == nil || val(ts.Target) != c.target || val(ts.Lower) != c.lower || val(ts.Upper) != c.upper {
			t.Errorf("%s: state %+v, want target %g, lower %g, upper %g", c.mode, ts, c.target, c.lower, c.upper)
			continue
		}
		if c.sendTopic == "" {
			continue
		}
		ms, err := u.command(model.SetThermostat(model.ThermostatState{Target: model.Ptr(21.0)}), u.dev.State)
		if err != nil || len(ms) != 1 || ms[0].topic != c.sendTopic || string(ms[0].payload) != c.sendTarget {
			t.Errorf("%s: set 21 sends %v (%v), want %s %s", c.mode, outMsgs(ms), err, c.sendTopic, c.sendTarget)
		}
	}
}
