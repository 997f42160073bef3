// @avshub/bridge-sdk: write an avshub bridge in JavaScript. serve(bridge)
// speaks go-plugin's handshake and AutoMTLS and serves bridge.v1 from the
// repository's bridge.proto; the helpers, the Poller and the checks before
// execute are the Go SDK's building blocks. Messages use bridge.proto's field
// names (snake_case), e.g. { on: true, brightness: 40 }.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const forge = require('node-forge');
const { validate } = require('./validate.js');

const API_VERSION = '1.2';
const MAGIC_COOKIE_KEY = 'AVSHUB_BRIDGE_PLUGIN';
const MAGIC_COOKIE_VALUE = 'b7d3c1a4-avshub-bridge-v1-5f0e9a2c';
const PROTOCOL_VERSION = 1;

// The same bridge.proto as the Go SDK (in the repository: plugins/proto).
const protoRoot = [path.join(__dirname, '..', 'proto'), path.join(__dirname, 'proto')].find((d) => fs.existsSync(path.join(d, 'bridge', 'v1', 'bridge.proto')));
const loadOpts = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true, includeDirs: [protoRoot, path.join(__dirname, 'proto')] };
const bridgeProto = grpc.loadPackageDefinition(protoLoader.loadSync('bridge/v1/bridge.proto', loadOpts)).avshub.bridge.v1;
const healthProto = grpc.loadPackageDefinition(protoLoader.loadSync('health.proto', loadOpts)).grpc.health.v1;
const controllerProto = grpc.loadPackageDefinition(protoLoader.loadSync('controller.proto', loadOpts)).plugin;

// ---- logging: hclog JSON lines on stderr (the hub re-logs them) ----
function log(level, message, attrs = {}) {
  process.stderr.write(JSON.stringify({ '@level': level, '@message': message, '@timestamp': new Date().toISOString().replace('Z', '000Z'), ...attrs }) + '\n');
}
const logger = { debug: (m, a) => log('debug', m, a), info: (m, a) => log('info', m, a), warn: (m, a) => log('warn', m, a), error: (m, a) => log('error', m, a),
  skipped: (item, part, reason) => log('info', 'skipped', { item, part, reason }) };

// ---- typed errors ----
class BridgeError extends Error {
  constructor(kind, message) { super(message); this.kind = kind; }
}
const errorf = (kind, message) => new BridgeError(kind, message);
const toProtoError = (e) => ({ kind: 'ERROR_KIND_' + (e instanceof BridgeError ? e.kind : 'INTERNAL'), message: String(e && e.message || e) });

// ---- device helpers ----
// device builds a device from bridge.v1 Traits and State; build composes one
// from the with… options below, one per trait, as the Go SDK's options do:
//   sdk.build('hall', 'Hall sensor', 'MOTION_SENSOR', sdk.withMotion(false), sdk.withBattery(90))
// opts.stateAt (ms since the epoch) says the state comes from the bridge's
// storage, saved then (API 1.2): the hub keeps a newer state it was told.
function device(id, name, category, traits, state, opts = {}) {
  const d = { endpoint: { device_id: id, friendly_name: name, category, manufacturer: opts.manufacturer || 'avshub', model: opts.model || 'generic',
    description: opts.description || category, traits }, state, reachable: opts.reachable !== false };
  if (opts.stateAt) d.state_at = timestamp(opts.stateAt);
  return d;
}
// build: the options are functions (with…); a plain object among them is the
// device's info ({ manufacturer, model, description, reachable, stateAt }).
function build(id, name, category, ...opts) {
  const info = opts.find((o) => typeof o === 'object') || {};
  const d = device(id, name, category, {}, {}, info);
  for (const o of opts) if (typeof o === 'function') o(d);
  return d;
}
const names = (text, given) => (given && given.length ? given : [{ text, locale: 'en-US' }]);
const trait = (field, config, state) => (d) => { d.endpoint.traits[field] = config; Object.assign(d.state, state); };
const generic = (field, stateField, config, value) => (d) => {
  d.endpoint.traits[field] = [...(d.endpoint.traits[field] || []), config];
  d.state[stateField] = { ...(d.state[stateField] || {}), [config.instance]: value };
};
const withOnOff = (on = false) => trait('on_off', {}, { on });
const withBrightness = (pct = 100) => trait('brightness', {}, { brightness: pct });
const withColor = (hsb = { hue: 0, saturation: 0, brightness: 1 }) => trait('color', {}, { color: hsb });
const withColorTemperature = (kelvin = 2700, minKelvin = 2200, maxKelvin = 6500) =>
  trait('color_temperature', { min_kelvin: minKelvin, max_kelvin: maxKelvin }, { color_temperature: Math.min(Math.max(kelvin, minKelvin), maxKelvin) });
const withLock = (locked = true) => trait('lock', {}, { lock: locked ? 'LOCK_STATE_LOCKED' : 'LOCK_STATE_UNLOCKED' });
// withThermostat: config as ThermostatTrait ({ modes: ['THERMOSTAT_MODE_HEAT', …], target_setpoint, min_c, max_c, … }),
// state as ThermostatState; the temperature sensor comes with it.
const withThermostat = (config, state, tempC) => (d) => {
  trait('thermostat', config, { thermostat: state })(d);
  withTemperatureSensor(tempC)(d);
};
const withTemperatureSensor = (tempC) => trait('temperature_sensor', {}, { temperature: tempC });
const withToggle = (instance, on = false, n) => generic('toggles', 'toggles', { instance, names: names(instance, n) }, on);
const withRange = (range, value) => generic('ranges', 'ranges', { precision: 1, ...range, names: names(range.instance, range.names) }, value);
const withMode = (mode, value) => generic('modes', 'modes', { ...mode, names: names(mode.instance, mode.names),
  values: (mode.values || []).map((v) => ({ ...v, names: names(v.value, v.names) })) }, value);
const withCover = (position = 0) => trait('cover', {}, { cover_position: position });
const withContact = (open = false) => trait('contact', {}, { contact_open: open });
const withMotion = (detected = false) => trait('motion', {}, { motion: detected });
const withWaterLeak = (leak = false) => trait('water_leak', {}, { water_leak: leak });
const withSmoke = (detected = false) => trait('smoke', {}, { smoke: detected });
const withGas = (detected = false) => trait('gas', {}, { gas: detected });
const withTamper = (tampered = false) => trait('tamper', {}, { tamper: tampered });
const withHumidity = (pct) => trait('humidity', {}, { humidity: pct });
const withIlluminance = (lux) => trait('illuminance', {}, { illuminance: lux });
const withPower = (watts) => trait('power', {}, { watts });
const withEnergy = (kWh) => trait('energy', {}, { energy_k_wh: kWh });
const withBattery = (pct, low = false) => trait('battery', {}, { battery: pct, battery_low: low });
// withFan: presets as [{ value: 33, names: [{ text: 'low', locale: 'en-US' }] }, …]; on and off are withOnOff.
const withFan = (speed, presets = []) => trait('fan', { presets }, { fan_speed: speed });
const withSiren = (on = false) => trait('siren', {}, { siren: on });

const switchDevice = (id, name, opts) => build(id, name, 'SWITCH', withOnOff(false), opts || {});
const plug = (id, name, opts) => build(id, name, 'SMARTPLUG', withOnOff(false), opts || {});
const light = (id, name, opts) => build(id, name, 'LIGHT', withOnOff(false), withBrightness(100), opts || {});
const lock = (id, name, opts) => build(id, name, 'SMARTLOCK', withLock(true), opts || {});
const cover = (id, name, opts) => build(id, name, 'INTERIOR_BLIND', withCover(0), opts || {});
const fan = (id, name, presets = [], opts) => build(id, name, 'FAN', withOnOff(false), withFan(presets.length ? presets[0].value : 100, presets), opts || {});

// duration reads a duration as the Go SDK's Duration does ("500ms", "5s",
// "1m30s", "2h") and returns milliseconds; anything else throws.
const durationUnits = { ms: 1, s: 1000, m: 60000, h: 3600000 };
function duration(text) {
  const parts = String(text).match(/^(\d+(?:\.\d+)?(?:ms|s|m|h))+$/) && String(text).match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g);
  if (!parts) throw new Error(`${JSON.stringify(text)} is not a duration like "5s"`);
  return parts.reduce((ms, p) => { const [, n, u] = p.match(/^([\d.]+)(ms|s|m|h)$/); return ms + Number(n) * durationUnits[u]; }, 0);
}

// deadlineMs is when a request's answer is due (ms since the epoch): its
// deadline, or 10 s from now when it carries none.
function deadlineMs(req) {
  return req.deadline ? Number(req.deadline.seconds) * 1000 + Math.floor((req.deadline.nanos || 0) / 1e6) : Date.now() + 10000;
}

// answerMarginMs is how much of a command's remaining time (leftMs) execute
// keeps for its answer's way back to the hub: a quarter, at least 100 ms, at
// most 1 s (the Go SDK's AnswerMargin).
function answerMarginMs(leftMs) {
  return Math.min(Math.max(leftMs / 4, 100), 1000);
}

// waitLeft returns how long (ms) execute may still wait for a slow device, at
// most limitMs: until req's deadline less its answer margin, never below 0
// (the Go SDK's WaitLeft). Then answer: the state, { accepted }, or an error.
function waitLeft(req, limitMs) {
  const left = deadlineMs(req) - Date.now();
  return Math.min(limitMs, Math.max(0, left - answerMarginMs(left)));
}

// changed returns the fields of next that differ from prev (null: none).
function changed(prev, next) {
  const c = {};
  for (const [k, v] of Object.entries(next)) if (JSON.stringify(prev[k]) !== JSON.stringify(v)) c[k] = v;
  return Object.keys(c).length ? c : null;
}

// mergeState returns a overlaid with every field b sets, as the Go model's
// State.Merge: the generic traits' maps by instance, the thermostat by field.
const byKey = new Set(['toggles', 'ranges', 'modes', 'thermostat']);
function mergeState(a, b) {
  const s = { ...a };
  for (const [k, v] of Object.entries(b || {})) {
    if (v === undefined || v === null) continue;
    s[k] = byKey.has(k) && s[k] ? { ...s[k], ...v } : v;
  }
  return s;
}

// effect returns the part of state s a command is about, as the Go model's
// Command.Effect (TestJSEffectAgreesWithGo holds them alike for every trait):
// its trait's fields (a generic trait: only its instance), with the on/off a
// brightness or a fan speed also switches; nothing for a reading.
const effectFields = { TRAIT_KIND_ON_OFF: ['on'], TRAIT_KIND_BRIGHTNESS: ['brightness', 'on'], TRAIT_KIND_COLOR: ['color'],
  TRAIT_KIND_COLOR_TEMPERATURE: ['color_temperature'], TRAIT_KIND_LOCK: ['lock'], TRAIT_KIND_THERMOSTAT: ['thermostat'],
  TRAIT_KIND_COVER: ['cover_position', 'cover_tilt'], TRAIT_KIND_FAN: ['fan_speed', 'on'], TRAIT_KIND_SIREN: ['siren'] };
const effectMaps = { TRAIT_KIND_TOGGLE: 'toggles', TRAIT_KIND_RANGE: 'ranges', TRAIT_KIND_MODE: 'modes' };
function effect(cmd, s) {
  const e = {};
  s = s || {};
  for (const f of effectFields[cmd.trait] || []) if (s[f] !== undefined && s[f] !== null) e[f] = s[f];
  const m = effectMaps[cmd.trait];
  const inst = cmd.instance || '';
  if (m && s[m] && Object.hasOwn(s[m], inst)) e[m] = { [inst]: s[m][inst] };
  return e;
}

// ---- the emitter: numbered events, a snapshot first on every stream ----
// The emitter keeps the devices' state (the snapshot a new stream starts
// from) and merges into it what the bridge reports and what commands answer.
class Emitter {
  constructor() {
    this.healthState = { state: 'HEALTH_STATE_STARTING', description: 'starting' }; this.devices = new Map(); this.snapshotSent = false; this.streams = new Set();
    this.pending = new Map(); // correlation id -> an accepted command under way
    this.underWay = new Map(); // device id -> its commands not yet answered (or completed): Set of { cmd, changed }
  }
  _send(ev) { for (const s of this.streams) s.send(ev); }
  health(state, description = '') { this.healthState = { state: 'HEALTH_STATE_' + state, description }; this._send({ health: this.healthState }); }
  snapshot(devices) {
    this.devices = new Map(devices.map((d) => [d.endpoint.device_id, structuredClone(d)]));
    this.snapshotSent = true;
    this._send({ snapshot: { devices: [...this.devices.values()] } });
  }
  stateChanged(id, state, cause = 'PERIODIC_POLL') {
    const d = this.devices.get(id);
    if (d) { d.state = mergeState(d.state, state); delete d.state_at; } // heard from the device: current
    for (const u of this.underWay.get(id) || []) u.changed = mergeState(u.changed, state);
    this._send({ state: { device_id: id, changed: state, cause } });
  }
  // upsert adds or replaces one device (a device that joined while pairing).
  upsert(d) {
    this.devices.set(d.endpoint.device_id, structuredClone(d));
    this._send({ upsert: d });
  }
  remove(id) {
    this.devices.delete(id);
    this._send({ remove: { device_id: id } });
  }
  // complete finishes a command execute answered as accepted ({ accepted: … }):
  // the state it reached, or the error (an Error from errorf) why it failed.
  complete(correlationId, state, error) {
    const u = this.pending.get(correlationId);
    this.pending.delete(correlationId);
    if (error) {
      if (u) this._end(u);
      return this._send({ completion: { correlation_id: correlationId, error: toProtoError(error) } });
    }
    if (u) this._answered(u, state);
    this._send({ completion: { correlation_id: correlationId, state } });
  }
  // _execute runs one command (call: the bridge's execute) and merges its
  // answer, or an accepted command's completion, into the device's state: the
  // command's own part (effect) comes from the answer; for anything else it
  // carries, a change the bridge reported while the command was under way
  // stays (a plug's power after its relay: the answer's copy may be older).
  async _execute(req, cmd, call) {
    const u = { id: req.device_id, cmd, changed: {} };
    if (!this.underWay.has(u.id)) this.underWay.set(u.id, new Set());
    this.underWay.get(u.id).add(u);
    let state;
    try { state = await call(); } catch (e) { this._end(u); throw e; }
    if (state && state.accepted) this.pending.set(req.correlation_id, u);
    else this._answered(u, state);
    return state;
  }
  _end(u) {
    const us = this.underWay.get(u.id);
    if (us && us.delete(u) && us.size === 0) this.underWay.delete(u.id);
  }
  _answered(u, state) {
    this._end(u);
    const d = this.devices.get(u.id);
    if (d) { d.state = mergeState(mergeState(mergeState(d.state, state), u.changed), effect(u.cmd, state)); delete d.state_at; }
  }
  // pairing reports a pairing window (no deviceId: stage OPEN or CLOSED with
  // remainingMs) or one joining device: ANNOUNCED, INTERVIEWING (detail says
  // the step), PUBLISHED (endpoint: the device's endpoint) or FAILED (detail: why).
  pairing({ stage, deviceId = '', detail = '', remainingMs = 0, endpoint }) {
    this._send({ pairing: { stage: 'PAIRING_STAGE_' + stage, device_id: deviceId, detail,
      remaining: { seconds: String(Math.floor(remainingMs / 1000)), nanos: (remainingMs % 1000) * 1e6 }, endpoint } });
  }
  reachability(id, reachable) {
    const d = this.devices.get(id);
    if (d) d.reachable = reachable;
    this._send({ reachability: { device_id: id, reachable } });
  }
  _subscribe(call) {
    let seq = 0;
    const s = { send: (ev) => call.write({ seq: String(++seq), at: now(), ...ev }) };
    s.send({ health: this.healthState });
    if (this.snapshotSent) s.send({ snapshot: { devices: [...this.devices.values()] } });
    this.streams.add(s);
    return () => this.streams.delete(s);
  }
}
function timestamp(ms) { return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 }; }
function now() { return timestamp(Date.now()); }

// ---- the poller: interval, diff, reachability, backoff ----
class Poller {
  // devices: helper-built devices; read(id, signal) resolves to a state.
  constructor({ devices, read, everyMs = 5000, maxBackoffMs = 60000 }) { Object.assign(this, { devices, read, everyMs, maxBackoffMs }); this.polled = new Map(); }
  async _read(id, signal) {
    const t = AbortSignal.any([signal, AbortSignal.timeout(Math.min(this.everyMs, 10000))]);
    return this.read(id, t);
  }
  async run(em, signal) {
    em.health('STARTING', 'reading devices');
    const snap = [];
    for (const d of this.devices) {
      const id = d.endpoint.device_id;
      try {
        const st = await this._read(id, signal);
        this.polled.set(id, { state: { ...d.state, ...st }, reachable: true, failures: 0, next: 0 });
      } catch (err) {
        this.polled.set(id, { state: d.state, reachable: false, failures: 1, next: Date.now() + this.everyMs, err });
      }
      const p = this.polled.get(id);
      snap.push({ ...d, state: p.state, reachable: p.reachable });
    }
    em.snapshot(snap);
    em.health('HEALTHY', `polling ${snap.length} devices`);
    while (!signal.aborted) {
      await new Promise((r) => { const t = setTimeout(r, this.everyMs); signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true }); });
      for (const d of this.devices) {
        const id = d.endpoint.device_id;
        const p = this.polled.get(id);
        if (signal.aborted) return;
        if (Date.now() < p.next) continue;
        try {
          const st = await this._read(id, signal);
          const c = changed(p.state, st);
          p.state = { ...p.state, ...st };
          p.failures = 0; p.next = 0;
          if (!p.reachable) { p.reachable = true; em.reachability(id, true); }
          if (c) em.stateChanged(id, c, 'PERIODIC_POLL');
        } catch (err) {
          if (signal.aborted) return;
          p.failures++; p.err = err;
          p.next = Date.now() + Math.min(this.everyMs * 2 ** Math.min(p.failures - 1, 16), this.maxBackoffMs);
          if (p.reachable) { p.reachable = false; em.reachability(id, false); }
        }
      }
    }
  }
  state(id) {
    const p = this.polled.get(id);
    if (!p) throw errorf('UNREACHABLE', `no device "${id}"`);
    if (!p.reachable) throw errorf('UNREACHABLE', `${id} does not answer: ${p.err && p.err.message}`);
    return p.state;
  }
  update(id, state) { const p = this.polled.get(id); if (p) p.state = { ...p.state, ...state }; }
}

// ---- go-plugin AutoMTLS: a self-signed certificate for localhost ----
function selfSignedCert() {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }));
  cert.serialNumber = '01' + crypto.randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 30000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86400000);
  const attrs = [{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'avshub' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true }, { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] }]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { certPem: forge.pki.certificateToPem(cert), keyPem, der };
}

// ---- serve ----
// serve runs bridge as a plugin: { describe(), configure(json, dataDir),
// run(emitter, signal), execute(req, signal), state(id) } (all may be async),
// and, for a bridge that lets devices join, startPairing(ms, emitter) (joined
// devices are announced with emitter.upsert; with describe().pairingProgress
// the bridge reports each step with emitter.pairing), and for one that can
// remove devices, removeDevice(id, emitter). execute resolves to the state the
// device reached, or to { accepted: { state, estimatedDeferralMs } } for a slow
// device that finishes later with emitter.complete(req.correlation_id, state).
// Commands are checked first (validate.js) as the Go SDK checks them.
function serve(bridge) {
  const desc = bridge.describe();
  if (process.argv[2] === 'describe') {
    process.stdout.write(JSON.stringify({ name: desc.name, version: desc.version, apiVersions: desc.apiVersions || [API_VERSION],
      pairing: Boolean(bridge.startPairing), remove: Boolean(bridge.removeDevice), configSchema: desc.configSchema, sampleConfig: desc.sampleConfig }, null, 2) + '\n');
    return;
  }
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write('This is an avshub bridge plugin: the hub starts it (try "describe").\n');
    process.exit(1);
  }
  // The hub stops its plugins itself, in order: a Ctrl-C or a SIGTERM to the
  // hub's whole process group (systemd's KillMode=control-group) is not ours.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  const em = new Emitter();
  const stop = new AbortController();
  let configured = false;
  const exit = (code) => { stop.abort(); setTimeout(() => process.exit(code), 50); };

  const server = new grpc.Server();
  server.addService(bridgeProto.Bridge.service, {
    Describe: (_call, cb) => cb(null, { name: desc.name, version: desc.version, api_versions: desc.apiVersions || [API_VERSION],
      capabilities: { pairing: Boolean(bridge.startPairing), remove: Boolean(bridge.removeDevice), pairing_progress: Boolean(desc.pairingProgress) }, config_schema_json: JSON.stringify(desc.configSchema), sample_config_json: JSON.stringify(desc.sampleConfig) }),
    Configure: async (call, cb) => {
      if (configured) return cb({ code: grpc.status.FAILED_PRECONDITION, details: 'bridge is already configured' });
      try {
        await bridge.configure(JSON.parse(call.request.config_json || '{}'), call.request.data_dir);
      } catch (e) { return cb({ code: grpc.status.INVALID_ARGUMENT, details: String(e.message || e) }); }
      configured = true;
      cb(null, {});
      Promise.resolve().then(() => bridge.run(em, stop.signal)).then(() => {
        if (!stop.signal.aborted) throw new Error('bridge run returned before it was stopped');
      }).catch((e) => { if (!stop.signal.aborted) { logger.error('bridge stopped', { err: String(e) }); em.health('UNHEALTHY', String(e)); exit(1); } });
    },
    StreamEvents: (call) => {
      const unsubscribe = em._subscribe(call);
      const end = () => { unsubscribe(); call.end(); };
      call.on('cancelled', end);
      stop.signal.addEventListener('abort', end, { once: true });
    },
    Execute: async (call, cb) => {
      const req = call.request;
      const d = em.devices.get(req.device_id);
      const fail = (kind, message) => cb(null, { error: { kind: 'ERROR_KIND_' + kind, message } });
      if (!d) return fail('UNREACHABLE', `no device "${req.device_id}"`);
      if (!d.reachable) return fail('UNREACHABLE', `${d.endpoint.friendly_name} is unreachable`);
      const cmd = req.command || {};
      const bad = validate(cmd, d.endpoint.traits, d.state);
      if (bad) return cb(null, { error: bad });
      const budget = Math.max(0, deadlineMs(req) - Date.now());
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), budget);
      try {
        const state = await em._execute(req, cmd, () => Promise.race([bridge.execute({ ...req, command: cmd }, ac.signal),
          new Promise((_, rej) => ac.signal.addEventListener('abort', () => rej(errorf('UNREACHABLE',
            `${d.endpoint.friendly_name} did not answer: the bridge's execute did not return before its deadline (${(budget / 1000).toFixed(1)}s)`)), { once: true }))]));
        if (state && state.accepted) {
          // A slow device: the hub answers Alexa with a deferred response; finish with em.complete(req.correlation_id, …).
          const ms = state.accepted.estimatedDeferralMs || 0;
          return cb(null, { accepted: { state: state.accepted.state || {},
            estimated_deferral: { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 } } });
        }
        cb(null, { done: { state } });
      } catch (e) { cb(null, { error: toProtoError(e) }); } finally { clearTimeout(timer); }
    },
    GetState: async (call, cb) => {
      if (!em.devices.has(call.request.device_id)) return cb(null, { error: { kind: 'ERROR_KIND_UNREACHABLE', message: `no device "${call.request.device_id}"` } });
      try { cb(null, { state: await bridge.state(call.request.device_id) }); } catch (e) { cb(null, { error: toProtoError(e) }); }
    },
    RemoveDevice: async (call, cb) => {
      const id = call.request.device_id;
      if (!bridge.removeDevice) return cb(null, { error: { kind: 'ERROR_KIND_NOT_SUPPORTED', message: `bridge ${desc.name} cannot remove devices` } });
      if (!em.devices.has(id)) return cb(null, { error: { kind: 'ERROR_KIND_UNREACHABLE', message: `no device "${id}"` } });
      try {
        await bridge.removeDevice(id, em);
        if (em.devices.has(id)) em.remove(id); // the SDK says so when the bridge has not
        cb(null, {});
      } catch (e) { cb(null, { error: toProtoError(e) }); }
    },
    StartPairing: async (call, cb) => {
      if (!bridge.startPairing) return cb(null, { error: { kind: 'ERROR_KIND_NOT_SUPPORTED', message: `bridge ${desc.name} cannot pair` } });
      const dur = call.request.duration || {};
      try {
        await bridge.startPairing(Number(dur.seconds || 0) * 1000 + Math.floor((dur.nanos || 0) / 1e6), em);
        cb(null, {});
      } catch (e) { cb(null, { error: toProtoError(e) }); }
    },
  });
  server.addService(healthProto.Health.service, { Check: (_c, cb) => cb(null, { status: 'SERVING' }) });
  server.addService(controllerProto.GRPCController.service, { Shutdown: (_c, cb) => { cb(null, {}); server.tryShutdown(() => {}); exit(0); } });

  // go-plugin: a unix socket, TLS with the hub's client certificate (AutoMTLS).
  const dir = fs.mkdtempSync(path.join(process.env.PLUGIN_UNIX_SOCKET_DIR || os.tmpdir(), 'plugin'));
  const sock = path.join(dir, 'bridge.sock');
  let creds = grpc.ServerCredentials.createInsecure();
  let certField = '';
  if (process.env.PLUGIN_CLIENT_CERT) {
    const c = selfSignedCert();
    creds = grpc.ServerCredentials.createSsl(Buffer.from(process.env.PLUGIN_CLIENT_CERT), [{ private_key: Buffer.from(c.keyPem), cert_chain: Buffer.from(c.certPem) }], true);
    certField = c.der.toString('base64').replace(/=+$/, '');
  }
  server.bindAsync('unix:' + sock, creds, (err) => {
    if (err) { logger.error('cannot listen', { err: String(err) }); process.exit(1); }
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    process.stdout.write(`1|${PROTOCOL_VERSION}|unix|${sock}|grpc|${certField}\n`);
  });
  // The hub is gone when our parent changes (even after its SIGKILL).
  const ppid = process.ppid;
  setInterval(() => { if (process.ppid !== ppid) exit(0); }, 500).unref();
}

module.exports = { serve, logger, errorf, BridgeError, validate, device, build, switchDevice, plug, light, lock, cover, fan,
  withOnOff, withBrightness, withColor, withColorTemperature, withLock, withThermostat, withTemperatureSensor, withToggle, withRange, withMode,
  withCover, withContact, withMotion, withWaterLeak, withSmoke, withGas, withTamper, withHumidity, withIlluminance, withPower, withEnergy,
  withBattery, withFan, withSiren, Poller, Emitter, changed, effect, duration, answerMarginMs, waitLeft, API_VERSION };
