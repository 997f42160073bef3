// Package mqtt is avshub's MQTT bridge: devices that live on an MQTT broker,
// described by the two conventions that cover nearly all of them, become
// avshub endpoints.
//
//   - zigbee2mqtt: the bridge reads <base>/bridge/devices and turns each
//     device's exposes into traits (light state/brightness/color_temp/
//     color_xy/color_hs, switch, lock state/lock_state, climate system_mode
//     with occupied_heating_setpoint, current_heating_setpoint or the cooling
//     setpoints and local_temperature, a numeric temperature as a
//     temperature sensor). Reachability comes from <base>/bridge/state and
//     <base>/<name>/availability (JSON or the legacy plain form); state
//     messages become state changes; commands go to <base>/<name>/set in
//     zigbee2mqtt's units (brightness 0–254, mireds clamped to the bulb's
//     range, colour as hue/saturation or xy as the bulb exposes it). Friendly
//     names may contain "/" and spaces: topics are matched against the device
//     list (longest name first), never split. After (re)connecting, devices
//     whose state is not retained are asked with <base>/<name>/get, 20 at a
//     time every 250 ms (a big installation's reads do not flood the Zigbee
//     network, and the bridge keeps serving commands meanwhile). The
//     coordinator, unsupported, disabled and trait-less devices (remotes) are
//     skipped, and an endpoint's id is the IEEE address, so a rename keeps it.
//     A device is imported the way a person sees it: exposes of category
//     config or diagnostic, switches on a property other than state (window
//     detection, away mode), a second climate, the internal temperature of a
//     light, plug, lock, cover or fan never become endpoints or traits; a
//     sensor whose primary function has no trait yet (motion, contact, leak,
//     smoke, remote, ...) is skipped rather than imported as a thermometer.
//     bridge/devices is decoded as a stream (tens of MB for a big network).
//
//   - Home Assistant MQTT discovery (ESPHome, Tasmota's legacy mode,
//     zigbee2mqtt and many others): light (json and default schemas), lock,
//     switch, climate and temperature sensor entities, per-entity and
//     device-based (<prefix>/device/<id>/config with cmps); never entities of
//     entity_category config or diagnostic, nor zigbee2mqtt's own bridge
//     entities (permit join, restart, log level). Abbreviations and
//     "~" are expanded everywhere; availability supports the single topic and
//     the list form with all, any and latest; value templates of the common
//     forms ({{ value }}, {{ value_json.a.b }}, ['key'], [n] and the filters
//     float, int, round, default, lower, upper, trim, string) are evaluated,
//     and an entity that needs more (Jinja statements, method calls) is
//     reported unsupported with the reason (Skipped), never guessed. An empty
//     config removes the entity. An HA device's entities are grouped as a
//     person expects: each light, lock, switch and climate is an endpoint, and
//     a device's temperature sensor joins its single climate.
//
// A device zigbee2mqtt also announces through HA discovery is bridged once,
// through zigbee2mqtt. Entities whose origin name is "avshub" (the hub's own
// dashboard entities) are never imported.
//
// The connection (paho, MQTT 3.1.1) uses a clean session and resubscribes on
// every connect; paho's callbacks only queue work for the bridge's own
// goroutine; QoS 1 publishes wait with bounds. Losing the broker makes the
// bridge UNHEALTHY and its devices unreachable; it reconnects by itself,
// re-reads the retained state and is HEALTHY again. Bad input (invalid JSON,
// wrong types, oversized messages, unknown expose types) is logged once per
// device and reason, and skipped.
//
// A command is answered with what the device really did: Done with its
// state once it shows the command carried out (for zigbee2mqtt, in a state
// published after the command); an error when zigbee2mqtt logs the command
// as failed on bridge/logging ("Publish 'set' … failed": UNREACHABLE for
// timeouts and delivery failures, HARDWARE_FAULT for a refusal). A device
// that has not confirmed by commandTimeout (a slow lock, which zigbee2mqtt
// reports only once its bolt has moved; a sleeping valve) is
// answered Accepted (DeferredResponse) and completed with the state it
// reaches, or with an error after confirmTimeout (zigbee2mqtt 2.14.1 gives
// up on a silent device after about 23 s, and never reports a refused or
// unanswered Danfoss setpoint); Execute always answers
// before the request's and its context's deadline. A null property is
// unknown (zigbee2mqtt with its Home Assistant integration publishes every
// property it does not know yet as null): it clears that part of the state
// and is never an echo. An
// offline device answers ErrUnreachable. State changes that arrive while a
// command is in flight carry model.CauseAlexa; all others
// model.CausePhysical.
//
// Configuration (ConfigSchema, SampleConfig; every field optional, "{}"
// connects to tcp://127.0.0.1:1883 and reads both conventions):
//
//	{
//	  "broker": "ssl://mqtt.local:8883",        // tcp://, ssl:// (tls://, mqtts://), ws://, wss://
//	  "username": "avshub", "password": "…", "clientId": "avshub-mqtt",
//	  "tls": {"caFile": "ca.pem", "certFile": "client.pem", "keyFile": "client.key"},
//	  "zigbee2mqtt": {"enabled": true, "baseTopic": "zigbee2mqtt"},
//	  "homeassistant": {"enabled": true, "prefix": "homeassistant"},
//	  "commandTimeout": "3s", "confirmTimeout": "20s",
//	  "maxMessageBytes": 67108864
//	}
//
// cmd/bridge-mqtt serves the bridge as a plugin. For tests and demos,
// mqtttest starts an embedded broker and z2msim (cmd/z2m-sim) emulates
// zigbee2mqtt.
package mqtt
