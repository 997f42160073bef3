package mqtt

import (
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
