// gen.js writes a zigbee2mqtt bridge/devices payload with one device for
// every definition in zigbee-herdsman-converters, serialised by
// zigbee2mqtt's own code (its Device model and the Bridge extension's
// definition payload), for the coverage test of the MQTT bridge (coverage_test.go).
//
// Usage: ZIGBEE2MQTT_DATA=<empty dir> node testdata/coverage/gen.js <zigbee2mqtt project dir> <out.json> [models] [--ha <ha.json>]
//
// --ha also writes zigbee2mqtt's own Home Assistant discovery for the same
// devices: its HomeAssistant extension's discover() for each device, every
// config message it publishes as [topic, payload] (payloads as published),
// for the Home Assistant side of the coverage test.
//
// models, a comma-separated list of definition models, keeps only those
// (the fixture testdata/z2m/kinds_devices.json of real products of every
// kind); a device's address is the same as in the whole list.
//
// The project dir is the z2mreal npm install (node_modules/zigbee2mqtt and
// its zigbee-herdsman-converters). A device's exposes are those zigbee2mqtt
// publishes for it: definitions whose exposes depend on the device are
// evaluated for zigbee-herdsman-converters' dummy device (every expose the
// definition can have), as zigbee2mqtt's frontend does.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const argv = process.argv.slice(2);
const haAt = argv.indexOf("--ha");
const haOut = haAt >= 0 ? argv.splice(haAt, 2)[1] : null;
const [project, out, models] = argv;
const only = models ? new Set(models.split(",")) : null;
if (!project || !out || !process.env.ZIGBEE2MQTT_DATA) {
    console.error("usage: ZIGBEE2MQTT_DATA=<dir> node testdata/coverage/gen.js <zigbee2mqtt project dir> <out.json>");
    process.exit(2);
}
const nm = path.join(path.resolve(project), "node_modules");
const load = (m) => require(path.join(nm, m));

fs.writeFileSync(path.join(process.env.ZIGBEE2MQTT_DATA, "configuration.yaml"),
    `homeassistant:\n  enabled: ${haOut ? "true" : "false"}\nmqtt:\n  base_topic: zigbee2mqtt\n  server: mqtt://127.0.0.1:1883\nserial:\n  port: /dev/null\nadvanced:\n  log_level: error\n`);

const zhc = load("zigbee-herdsman-converters");
const rawDefinitions = load("zigbee-herdsman-converters/dist/devices/index.js").default;
const Device = load("zigbee2mqtt/dist/model/device.js").default;
const Bridge = load("zigbee2mqtt/dist/extension/bridge.js").default;
const {stringify} = load("zigbee2mqtt/dist/util/stringify.js");
const zhcVersion = load("zigbee-herdsman-converters/package.json").version;
const z2mVersion = load("zigbee2mqtt/package.json").version;

const devices = [];
const zhDevices = [];
let n = 0;
for (const raw of rawDefinitions) {
    n++;
    if (only && !only.has(raw.model)) {
        continue;
    }
    const def = zhc.prepareDefinition(raw);
    const ieee = `0x${(0xa0000000000000n + BigInt(n)).toString(16).padStart(16, "0")}`;
    const all = typeof def.exposes === "function" ? def.exposes({isDummyDevice: true}, {}) : def.exposes;
    const battery = all.some((e) => e.name === "battery" || e.name === "battery_low");
    const zh = {
        isDummyDevice: true,
        ieeeAddr: ieee,
        networkAddress: n & 0xffff,
        type: battery ? "EndDevice" : "Router",
        modelID: raw.zigbeeModel?.[0] ?? raw.model,
        manufacturerName: raw.vendor,
        powerSource: battery ? "Battery" : "Mains (single phase)",
        interviewState: "SUCCESSFUL",
        endpoints: [],
        // zigbee-herdsman's endpoint lookup, for the Home Assistant
        // extension's group-member bookkeeping (the ID and the address).
        getEndpoint: (id) => ({ID: id, deviceIeeeAddress: ieee}),
    };
    const device = new Device(zh);
    device.definition = def;
    zhDevices.push(device);
    devices.push({
        ieee_address: ieee,
        type: zh.type,
        network_address: zh.networkAddress,
        supported: device.isSupported,
        friendly_name: device.name,
        disabled: !!device.options.disabled,
        description: device.options.description,
        definition: Bridge.prototype.getDefinitionPayload.call({}, device),
        power_source: zh.powerSource,
        model_id: zh.modelID,
        interviewing: false,
        interview_completed: true,
        interview_state: zh.interviewState,
        manufacturer: zh.manufacturerName,
        endpoints: {},
    });
}
fs.writeFileSync(out, stringify(devices));

// discoverHA runs zigbee2mqtt's HomeAssistant extension over the devices
// with an MQTT client that records what it publishes.
async function discoverHA() {
    const HomeAssistant = load("zigbee2mqtt/dist/extension/homeassistant.js").default;
    const published = [];
    const mqtt = {
        publish: async (topic, payload, options) => {
            if (payload !== "") {
                published.push([`${options.baseTopic}/${topic}`, payload]);
            }
        },
    };
    const ha = new HomeAssistant(null, mqtt, null, null, null, null, null, null);
    // What start() sets from the running zigbee2mqtt and its coordinator.
    ha.zigbee2MQTTVersion = z2mVersion;
    ha.discoveryOrigin = {name: "Zigbee2MQTT", sw: z2mVersion, url: "https://www.zigbee2mqtt.io"};
    ha.bridge = {};
    ha.bridgeIdentifier = "zigbee2mqtt_bridge_0x00124b0000000000";
    for (const device of zhDevices) {
        await ha.discover(device);
    }
    fs.writeFileSync(haOut, JSON.stringify(published));
    return published.length;
}

(async () => {
    const summary = {definitions: devices.length, zigbee2mqtt: z2mVersion, "zigbee-herdsman-converters": zhcVersion};
    if (haOut) {
        summary.homeassistant_configs = await discoverHA();
    }
    console.log(JSON.stringify(summary));
})().catch((e) => {
    console.error(e);
    process.exit(1);
});
