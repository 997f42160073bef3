// Package zigbee is avshub's Zigbee bridge: it drives a TI Z-Stack 3.x
// coordinator stick over a serial port (MT over UNPI), lets devices join,
// interviews them, publishes their traits, turns commands into ZCL and
// attribute reports into state changes.
//
// # Held to zigbee-herdsman
//
// zigbee-herdsman's zstack adapter (zigbee2mqtt 2.14.1, herdsman 10.9.2) drives
// most CC2652 sticks in use; it is the reference this bridge is held to, and
// the real zigbee2mqtt runs against znpsim in the repository's tests
// (znpsim.TestRealZigbee2MQTT). Every step of ours next to herdsman's; "same"
// means the same MT frames.
//
// Start:
//
//  1. Open the port at 115200 8N1. Herdsman: the same.
//  2. Reach the stick: SYS_PING; if it does not answer, the CC253x bootloader
//     skip byte 0xEF, a second, a ping, then a DTR/RTS pulse (150 ms steps)
//     and up to three more pings. Herdsman: the same sequence.
//  3. SYS_VERSION (product 1 = Z-Stack 3.x.0) and SYS_GET_EXT_ADDR. Herdsman:
//     SYS_VERSION, and the IEEE address from UTIL_GET_DEVICE_INFO.
//  4. NV memory alignment probe (length of ZCD_NV_NWKKEY: 24 aligned, 21
//     packed). Herdsman: yes, it decodes NV structures (NIB, key descriptors,
//     tables). Ours: not needed — we read only flat items (HAS_CONFIGURED,
//     NWK_ACTIVE_KEY_INFO's key, ZDO_DIRECT_CB) and ZDO_EXT_NWK_INFO.
//  5. Is the stick ours? HAS_CONFIGURED (0x0060) = 0x55, the active key
//     descriptor NWK_ACTIVE_KEY_INFO (0x003A) holds our key, and after
//     ZDO_STARTUP_FROM_APP, ZDO_EXT_NWK_INFO shows our PAN id, extended PAN id
//     and channel; otherwise re-form. Herdsman: HAS_CONFIGURED, the NIB's PAN
//     id and extended PAN id, the active and alternate key descriptors (read
//     before starting), and its coordinator backup to restore from. Changed:
//     we compared PRECFGKEY (the formation input, not the key in use) and not
//     the extended PAN id; now the active key and the extended PAN id, as
//     herdsman. Kept: we also re-form on another channel (herdsman tolerates it
//     because it can change channels; we cannot), and we restore no NV backup
//     (a replaced stick means re-pairing; see "not done" below).
//  6. Resume: UTIL_GET_DEVICE_INFO; unless already ZB_COORD,
//     ZDO_STARTUP_FROM_APP (delay 100 ms; status 0 or 1 accepted) and wait up
//     to 60 s for ZDO_STATE_CHANGE_IND ZB_COORD (9). Herdsman: the same.
//  7. ZDO_DIRECT_CB must be 1 (ZDO answers as callbacks); if not, write it,
//     reset and start. Herdsman: writes it during commissioning only.
//  8. Register endpoints: ZDO_ACTIVE_EP_REQ to 0x0000, then AF_REGISTER of
//     endpoint 1 (HA profile, device 0x0005) if absent. Herdsman: the same
//     request, then its 15 endpoints (HA 1, ZLL 2, 3–6, 8, 10, IAS 11, 12, OTA
//     13, 47, 110, 239, Green Power 242). Kept: we bind every device cluster to
//     endpoint 1 (IAS frames too) and support no OTA or Green Power yet.
//  9. Green Power group: ZDO_EXT_FIND_GROUP / ZDO_EXT_ADD_GROUP of group
//     0x0B84 on endpoint 242. Herdsman: yes. Ours: no (no Green Power).
//  10. UTIL_LED_CONTROL and SYS_STACK_TUNE (transmit power). Herdsman: when
//     configured. Ours: no.
//  11. Coordinator backup: herdsman reads the NIB, key descriptors and the
//     extended NV tables (address manager, TCLK, security material:
//     SYS_NV_LENGTH/SYS_NV_READ) at start and periodically into
//     coordinator_backup.json. Ours: the network parameters only (our store).
//
// Commissioning (forming a network):
//
//  1. STARTUP_OPTION = 3 (clear state and configuration), SYS_RESET_REQ,
//     SYS_RESET_IND. Herdsman: deletes the NIB first, then the same, then
//     writes STARTUP_OPTION 0 (Z-Stack clears it itself after the reset).
//  2. LOGICAL_TYPE coordinator, ZDO_DIRECT_CB 1, CHANLIST, PANID,
//     EXTENDED_PAN_ID and APS_USE_EXT_PANID (little-endian), PRECFGKEYS_ENABLE,
//     PRECFGKEY. Herdsman: the same items (each written only if different).
//     Changed: PRECFGKEYS_ENABLE was 1; herdsman writes 0 (networkKeyDistribute
//     false). With 1, Z-Stack takes every joining device to hold the key
//     already and sends it none: a real bulb associates and never finishes
//     joining. znpsim now models that (TestKeyDistribution). Z-Stack forms
//     with PRECFGKEY whatever the flag says.
//  3. APP_CNF_BDB_SET_CHANNEL primary (our channel) and secondary (none),
//     APP_CNF_BDB_START_COMMISSIONING mode 0x04 (formation), wait for
//     ZB_COORD. Herdsman: the same.
//  4. Check the PAN id with ZDO_EXT_NWK_INFO (a collision makes the stick pick
//     another). Herdsman: yes, after polling the NIB until it settles. Added:
//     ours fails with a clear error instead of running on another PAN. We do
//     not poll the NIB (we do not decode it).
//  5. HAS_CONFIGURED = 0x55. Herdsman: the same.
//
// Permit join: ZDO_MGMT_PERMIT_JOIN_REQ broadcast (address mode 0x0F to
// 0xFFFC), duration up to 254 s, TC significance 1. Herdsman: the same frame
// (plus a Green Power commissioning broadcast with AF_DATA_REQUEST_EXT and the
// LED). Joining: both learn of a device from ZDO_END_DEVICE_ANNCE_IND
// (ZDO_TC_DEV_IND only logged).
//
// Interview:
//
//  1. Node descriptor. Herdsman: ZDO_NODE_DESC_REQ first (logical type,
//     manufacturer code; a failure triggers route discovery). Ours: skipped —
//     the announce's capabilities say router or sleepy end device, and we use
//     no manufacturer-specific cluster yet.
//  2. ZDO_ACTIVE_EP_REQ, then ZDO_SIMPLE_DESC_REQ for each endpoint. Same.
//  3. Basic: manufacturerName, modelId, powerSource. Herdsman: also
//     zclVersion, appVersion, stackVersion, hwVersion, dateCode, swBuildId,
//     one request per attribute when the batch fails. Ours reads what we use.
//  4. Capabilities: Color Control colorCapabilities and the physical colour
//     temperature range; thermostat control sequence and setpoint limits.
//     Herdsman: left to zigbee2mqtt's converters (per product definition).
//     A colour lamp's defined primaries (NumberOfPrimaries 0x0010, Primary1–3
//     X/Y 0x0011–0x001A) in one read: valid ones are its gamut, which the xy
//     it is sent is clamped to (else the gamut Philips lists for its model
//     identifier, else none); a lamp without them answers
//     UNSUPPORTED_ATTRIBUTE. Herdsman defines these attributes but neither
//     it nor zigbee-herdsman-converters reads them (zigbee2mqtt clamps to no
//     gamut); a colour-temperature lamp has no colour gamut and is not asked.
//  5. Bind each state cluster (On/Off, Level, Color, Door Lock, Thermostat,
//     Temperature, …) to coordinator endpoint 1 and configure reporting, then
//     read the state. zigbee2mqtt: binds and configures per product definition
//     — none for Hue and IKEA bulbs (their changes by hand stay unseen there).
//     Kept: Alexa needs proactive ChangeReports for changes by hand.
//  6. IAS Zone: unless already enrolled with us (zoneState 1 and our address
//     in IAS_CIE_Address), write our IEEE address into IAS_CIE_Address, answer
//     the zone's Zone Enroll Request with a Zone Enroll Response (zone id 23),
//     send one unsolicited after 500 ms as well (auto-enroll-response zones),
//     and read zoneState until it says enrolled (up to 20 reads). Herdsman:
//     the same steps, and its interview also fails when the zone never enrols.
//     A zone that is not enrolled sends no Zone Status Change Notification.
//  7. Poll Control: herdsman binds it and reads checkinInterval on sleepy
//     devices, and answers check-ins (fast poll) to deliver queued requests.
//     Ours: not yet (see below).
//
// Commands: ZCL over AF_DATA_REQUEST (radius 30), waiting for AF_DATA_CONFIRM
// and the device's answer. Herdsman: the same, with recovery on delivery
// failures (route discovery, address lookup, association table rewrite).
//
// ZCL transaction numbers: ours count the bridge's requests, one counter for
// the network from 1 at start; herdsman's the same from 0. An answer carries
// the request's number; a device numbers what it sends of its own (reports,
// notifications, a remote's commands) with a counter of its own, which
// Silicon Labs' and TI's stacks start at 0 when the device powers up
// (Telink's at a random value): the two counters have nothing to do with
// each other. zigbee-herdsman-converters drops a frame whose number is among
// the last five it took from that device endpoint
// (utils.hasAlreadyProcessedMessage; a metering plug's reports and read
// responses, an IKEA remote's commands): soon after zigbee2mqtt starts, a
// freshly powered plug's report can repeat the number of one of herdsman's
// reads and is lost until the plug reports again (a change of 5 W, or
// 65,000 s as zigbee2mqtt configures it) or the user asks (/get).
// TestRealZigbee2MQTT expects exactly that. Ours: no de-duplication by
// transaction number (a report sent twice only repeats a state).
// The Danfoss Ally's setpoint: zigbee2mqtt sends Danfoss command 0x40 (the
// valve acts at once); we write occupiedHeatingSetpoint, which the Ally also
// accepts.
//
// Device kinds (clusters → traits; reporting as zigbee2mqtt's converters
// configure it):
//
//   - IAS Zone 0x0500, by zone type: water → water_leak, fire → smoke, carbon
//     monoxide → gas, motion → motion, contact switch → contact (alarm 1 =
//     opened); zone status bit 2 → tamper, bit 3 → batteryLow (unless the
//     device has batteryAlarmState). Zone Status Change Notifications, no
//     reporting. Vibration, emergency and keypad zones: no trait.
//   - Occupancy Sensing 0x0406 occupancy bit 0 → motion; Relative Humidity
//     0x0405 (0.01 %) → humidity; Illuminance 0x0400 (lx = 10^((v−1)/10000))
//     → illuminance.
//   - Power Configuration 0x0001 on a battery-powered device → battery:
//     batteryPercentageRemaining in half percent; batteryLow from
//     batteryAlarmState (battery source 1 bits) where the device has it, else
//     from the IAS zone's bit 3, else at 10 % or less. Reported hourly at most.
//   - Fan Control 0x0202 → fan: presets from fanModeSequence (low/medium/high
//     at 33/66/100 %, low/high at 50/100 %, on); a speed is written as the
//     slowest fanMode at or above it (zigbee2mqtt writes fanMode too: the
//     cluster has no commands); a fan without an On/Off cluster switches with
//     fanMode off / its last speed. Category FAN.
//   - IAS WD 0x0502 on a device that is no detector → siren: Start Warning
//     (emergency, strobe, maxDuration seconds read in the interview; mode stop
//     to silence it). The device reports nothing when the warning ends: the
//     bridge reports the siren off then (cause RULE_TRIGGER). A smoke alarm's
//     own IAS WD is no siren (zigbee2mqtt offers none for it either).
//   - Window Covering 0x0102 → cover (lift; position = 100 − lift %); a tilt
//     blind (windowCoveringType 7 or 8) is a cover with Tilt, its slats the
//     cover's tilt (100 − tilt %; Go To Tilt Percentage); a tilt-only one
//     (type 7) has no lift: it opens (100) and closes (0) by its slats, and
//     is open while they are. A command is answered once the blind's
//     reports say it is there (at most 6 s).
//     Electrical Measurement 0x0B04 / Metering 0x0702 → power / energy.
//
// Remotes and buttons (On/Off, Level, Scenes, Colour or Window Covering
// client clusters and no trait of their own; IAS remote and key fob zones)
// are not Alexa endpoints: Alexa has no button. The bridge interviews and
// remembers them and logs "remote or button paired; not an Alexa endpoint";
// a battery or tamper trait alone never makes an endpoint.
//
// Not done (differences kept for now): no NV backup/restore of the stick's
// tables; no Poll Control check-in handling; no node descriptor; no Green
// Power, OTA or IAS endpoints (IAS frames use endpoint 1); no cover stop (the
// model's cover trait takes a position only; znpsim's blinds obey Stop, as
// TestRealZigbee2MQTT shows with zigbee2mqtt's STOP).
package zigbee
