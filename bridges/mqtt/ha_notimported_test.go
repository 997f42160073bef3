package mqtt

import (
	"strings"
	"testing"
)

// Settings, diagnostics and zigbee2mqtt's own bridge entities never become
// endpoints; each is skipped with its reason. The configs have the shape
// zigbee2mqtt 2.14.1's homeassistant extension publishes.
func TestHANotAFunction(t *testing.T) {
	h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
	bridgeDev := `"device":{"identifiers":["zigbee2mqtt_bridge_0x00124b0012345678"],"name":"Zigbee2MQTT Bridge","manufacturer":"Zigbee2MQTT","model":"Bridge","sw_version":"2.14.1"}`
	plugDev := `"device":{"identifiers":["zigbee2mqtt_0x00158d0001234567"],"name":"Desk plug","manufacturer":"Xiaomi","model":"Mi smart plug","model_id":"ZNCZ02LM","via_device":"zigbee2mqtt_bridge_0x00124b0012345678"}`
	for topic, cfg := range map[string]string{
		"homeassistant/switch/1221051039810110150109113116116_0x00124b0012345678/permit_join/config": `{"name":"Permit join","object_id":"zigbee2mqtt_bridge_permit_join","unique_id":"bridge_0x00124b0012345678_permit_join_zigbee2mqtt",` + bridgeDev + `,"command_topic":"zigbee2mqtt/bridge/request/permit_join","payload_on":"{\"time\": 254}","payload_off":"{\"time\": 0}","state_topic":"zigbee2mqtt/bridge/info","value_template":"{{ value_json.permit_join | lower }}","state_on":"true","state_off":"false","origin":{"name":"Zigbee2MQTT","sw":"2.14.1"}}`,
		"homeassistant/switch/0x00158d0001234567/child_lock/config":                                  `{"name":"Child lock","entity_category":"config","unique_id":"0x00158d0001234567_child_lock_zigbee2mqtt",` + plugDev + `,"command_topic":"zigbee2mqtt/Desk plug/set/child_lock","state_topic":"zigbee2mqtt/Desk plug","value_template":"{{ value_json.child_lock }}","payload_on":"LOCK","payload_off":"UNLOCK","origin":{"name":"Zigbee2MQTT"}}`,
		"homeassistant/sensor/0x00158d0001234567/device_temperature/config":                          `{"name":"Device temperature","entity_category":"diagnostic","device_class":"temperature","unit_of_measurement":"°C","unique_id":"0x00158d0001234567_device_temperature_zigbee2mqtt",` + plugDev + `,"state_topic":"zigbee2mqtt/Desk plug","value_template":"{{ value_json.device_temperature }}","origin":{"name":"Zigbee2MQTT"}}`,
		"homeassistant/switch/0x00158d0001234567/switch/config":                                      `{"name":null,"unique_id":"0x00158d0001234567_switch_zigbee2mqtt",` + plugDev + `,"command_topic":"zigbee2mqtt/Desk plug/set","state_topic":"zigbee2mqtt/Desk plug","value_template":"{{ value_json.state }}","payload_on":"ON","payload_off":"OFF","origin":{"name":"Zigbee2MQTT"}}`,
	} {
		h.handle(topic, []byte(cfg))
	}
	us := h.units()
	if len(us) != 1 || us[0].dev.Endpoint.FriendlyName != "Desk plug" || us[0].dev.Endpoint.Traits.TemperatureSensor != nil {
		for _, u := range us {
			t.Logf("endpoint %s %q %+v", u.dev.Endpoint.DeviceID, u.dev.Endpoint.FriendlyName, u.dev.Endpoint.Traits)
		}
		t.Fatalf("%d endpoints, want only the plug's switch without a thermometer", len(us))
	}
	want := map[string]string{
		"switch/1221051039810110150109113116116_0x00124b0012345678/permit_join": "zigbee2mqtt's own bridge entity, not a device",
		"switch/0x00158d0001234567/child_lock":                                  "a setting (entity_category config), not a function",
		"sensor/0x00158d0001234567/device_temperature":                          "diagnostic (entity_category diagnostic), not a function",
	}
	for key, reason := range want {
		if s, ok := h.skips[key]; !ok || s.Reason != reason {
			t.Errorf("skip of %s = %+v, want %q", key, s, reason)
		}
	}
}

// zigbee2mqtt publishes many settings as switches without entity_category
// and a plug's temperature as a plain temperature sensor; the Home
// Assistant source judges them as the zigbee2mqtt source does (by
// settingProperty; a temperature beside an actuator is internal), but only
// for configs zigbee2mqtt published: another source's plain switch or
// thermometer is a function.
func TestHAZigbee2MQTTSettingsAndInternalTemperature(t *testing.T) {
	const (
		z2mDev  = `"device":{"identifiers":["zigbee2mqtt_0xa4c1380000000001"],"name":"Heater plug","manufacturer":"Tuya","model":"Smart plug","model_id":"TS011F_plug_1"}`
		z2mOrig = `"origin":{"name":"Zigbee2MQTT","sw":"2.14.1","url":"https://www.zigbee2mqtt.io"}`
		espDev  = `"device":{"identifiers":["3c71bf000001"],"name":"Heater plug","manufacturer":"espressif","model":"esp32"}`
		espOrig = `"origin":{"name":"ESPHome","sw":"2025.11.0"}`
	)
	childLock := func(dev, origin string) string {
		return `{"name":"Child lock","object_id":"heater_plug_child_lock","unique_id":"0xa4c1380000000001_switch_child_lock_zigbee2mqtt",` + dev + `,` + origin +
			`,"command_topic":"zigbee2mqtt/Heater plug/set/child_lock","state_topic":"zigbee2mqtt/Heater plug","value_template":"{{ value_json[\"child_lock\"] }}","payload_on":"LOCK","payload_off":"UNLOCK"}`
	}
	state := func(dev, origin, prop, id string) string {
		return `{"name":null,"unique_id":"0xa4c1380000000001_switch_` + id + `_zigbee2mqtt",` + dev + `,` + origin +
			`,"command_topic":"zigbee2mqtt/Heater plug/set","state_topic":"zigbee2mqtt/Heater plug","value_template":"{{ value_json[\"` + prop + `\"] }}","payload_on":"ON","payload_off":"OFF"}`
	}
	temperature := func(dev, origin string) string {
		return `{"name":"Temperature","device_class":"temperature","state_class":"measurement","unit_of_measurement":"°C","unique_id":"0xa4c1380000000001_sensor_temperature_zigbee2mqtt",` + dev + `,` + origin +
			`,"state_topic":"zigbee2mqtt/Heater plug","value_template":"{{ value_json[\"temperature\"] }}"}`
	}
	const (
		lockKey  = "switch/0xa4c1380000000001/switch_child_lock"
		stateKey = "switch/0xa4c1380000000001/switch"
		tempKey  = "sensor/0xa4c1380000000001/temperature"
		temp2Key = "sensor/0xa4c1380000000001/temperature_2"
	)
	temperature2 := func(dev, origin string) string {
		return strings.Replace(temperature(dev, origin), "sensor_temperature_zigbee2mqtt", "sensor_temperature_2_zigbee2mqtt", 1)
	}
	for _, tc := range []struct {
		name    string
		configs map[string]string // key (under homeassistant/, without /config) to config
		onOff   int               // endpoints with OnOff
		thermo  int               // endpoints with a TemperatureSensor
		skipped map[string]string // key to reason (skips or loose)
	}{
		{"zigbee2mqtt child lock is a setting", map[string]string{lockKey: childLock(z2mDev, z2mOrig), stateKey: state(z2mDev, z2mOrig, "state", "state")},
			1, 0, map[string]string{lockKey: "a setting (child_lock) zigbee2mqtt publishes as a switch, not a function"}},
		{"zigbee2mqtt known by its device identifier alone", map[string]string{lockKey: childLock(z2mDev, `"qos":0`)},
			0, 0, map[string]string{lockKey: "a setting (child_lock) zigbee2mqtt publishes as a switch, not a function"}},
		{"ESPHome switch of the same shape is a function", map[string]string{lockKey: childLock(espDev, espOrig)},
			1, 0, nil},
		{"zigbee2mqtt state_l2 switch is a function", map[string]string{stateKey: state(z2mDev, z2mOrig, "state_l2", "l2")},
			1, 0, nil},
		{"zigbee2mqtt plug's temperature is internal", map[string]string{stateKey: state(z2mDev, z2mOrig, "state", "state"), tempKey: temperature(z2mDev, z2mOrig)},
			1, 0, map[string]string{tempKey: "the device's internal temperature, not a thermometer"}},
		{"zigbee2mqtt temperature sensor alone is a thermometer", map[string]string{tempKey: temperature(z2mDev, z2mOrig)},
			0, 1, nil},
		{"zigbee2mqtt device is one thermometer", map[string]string{tempKey: temperature(z2mDev, z2mOrig), temp2Key: temperature2(z2mDev, z2mOrig)},
			0, 1, map[string]string{temp2Key: "a further temperature: one device is one thermometer"}},
		{"ESPHome device with two thermometers keeps both", map[string]string{tempKey: temperature(espDev, espOrig), temp2Key: temperature2(espDev, espOrig)},
			0, 2, nil},
		{"ESPHome relay with a thermometer keeps both", map[string]string{stateKey: state(espDev, espOrig, "state", "state"), tempKey: temperature(espDev, espOrig)},
			1, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
			for key, cfg := range tc.configs {
				h.handle("homeassistant/"+key+"/config", []byte(cfg))
			}
			onOff, thermo := 0, 0
			for _, u := range h.units() {
				tr := u.dev.Endpoint.Traits
				if tr.OnOff != nil {
					onOff++
				}
				if tr.TemperatureSensor != nil {
					thermo++
				}
			}
			if onOff != tc.onOff || thermo != tc.thermo {
				t.Errorf("%d on/off and %d temperature endpoints, want %d and %d", onOff, thermo, tc.onOff, tc.thermo)
			}
			for key, reason := range tc.skipped {
				s, ok := h.skips[key]
				if !ok {
					s, ok = h.loose[key]
				}
				if !ok || s.Reason != reason {
					t.Errorf("skip of %s = %+v, want %q", key, s, reason)
				}
			}
			for key := range tc.configs {
				if _, want := tc.skipped[key]; !want {
					if s, ok := h.skips[key]; ok {
						t.Errorf("%s skipped (%s), want it imported", key, s.Reason)
					}
					if s, ok := h.loose[key]; ok {
						t.Errorf("%s skipped (%s), want it imported", key, s.Reason)
					}
				}
			}
		})
	}
}

// One zigbee2mqtt climate device is one thermostat through Home Assistant
// discovery too: its binary "state" (zigbee2mqtt's switch_state) and any
// further climate are skipped with their reasons, as the zigbee2mqtt
// source drops them; the configs are zigbee2mqtt 2.14.1's for an ACMELEC
// AE-669K (shortened), with a second climate added.
func TestHAZigbee2MQTTOneThermostat(t *testing.T) {
	const dev = `"device":{"identifiers":["zigbee2mqtt_0x00a000000000102d"],"manufacturer":"ACMELEC","model":"Compatible with Mitsubishi Electric vrf system","model_id":"AE-669K","name":"AC"},"origin":{"name":"Zigbee2MQTT","sw":"2.14.1"}`
	climate := func(suffix string) string {
		return `{"current_temperature_template":"{{ value_json[\"local_temperature` + suffix + `\"] }}","current_temperature_topic":"zigbee2mqtt/AC",` + dev +
			`,"max_temp":"32","min_temp":"16","mode_command_topic":"zigbee2mqtt/AC/set/system_mode` + suffix + `","mode_state_template":"{{ value_json[\"system_mode` + suffix + `\"] }}","mode_state_topic":"zigbee2mqtt/AC","modes":["cool","heat","fan_only","dry"],"name":null,"temp_step":1,"temperature_command_topic":"zigbee2mqtt/AC/set/current_heating_setpoint` + suffix + `","temperature_state_template":"{{ value_json[\"current_heating_setpoint` + suffix + `\"] }}","temperature_state_topic":"zigbee2mqtt/AC","temperature_unit":"C","unique_id":"0x00a000000000102d_climate` + suffix + `_zigbee2mqtt"}`
	}
	h := newHASource("homeassistant", newOnceLog(quietLog()), quietLog())
	for key, cfg := range map[string]string{
		"switch/0x00a000000000102d/switch_state": `{"command_topic":"zigbee2mqtt/AC/set/state",` + dev + `,"name":"State","payload_off":"OFF","payload_on":"ON","state_topic":"zigbee2mqtt/AC","unique_id":"0x00a000000000102d_switch_state_zigbee2mqtt","value_template":"{{ value_json[\"state\"] }}"}`,
		"climate/0x00a000000000102d/climate":     climate(""),
		"climate/0x00a000000000102d/climate_l2":  climate("_l2"),
	} {
		h.handle("homeassistant/"+key+"/config", []byte(cfg))
	}
	us := h.units()
	if len(us) != 1 || us[0].dev.Endpoint.Traits.Thermostat == nil || us[0].dev.Endpoint.Traits.OnOff != nil {
		for _, u := range us {
			t.Logf("endpoint %s %q %+v", u.dev.Endpoint.DeviceID, u.dev.Endpoint.FriendlyName, u.dev.Endpoint.Traits)
		}
		t.Fatalf("%d endpoints, want one thermostat", len(us))
	}
	for key, reason := range map[string]string{
		"switch/0x00a000000000102d/switch_state": "a thermostat's on/off (zigbee2mqtt's binary state) beside its climate: one device is one thermostat",
		"climate/0x00a000000000102d/climate_l2":  "a further climate: one climate device is one thermostat",
	} {
		if s := h.loose[key]; s.Reason != reason {
			t.Errorf("skip of %s = %+v, want %q", key, s, reason)
		}
	}
}
