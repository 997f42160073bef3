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

const API_VERSION = '1.0';
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
function device(id, name, category, traits, state, opts = {}) {
  return { endpoint: { device_id: id, friendly_name: name, category, manufacturer: opts.manufacturer || 'avshub', model: opts.model || 'generic',
    description: opts.description || category, traits }, state, reachable: opts.reachable !== false };
}
const switchDevice = (id, name, opts) => device(id, name, 'SWITCH', { on_off: {} }, { on: false }, opts);
const plug = (id, name, opts) => device(id, name, 'SMARTPLUG', { on_off: {} }, { on: false }, opts);
const light = (id, name, opts) => device(id, name, 'LIGHT', { on_off: {}, brightness: {} }, { on: false, brightness: 100 }, opts);

// changed returns the fields of next that differ from prev (null: none).
function changed(prev, next) {
  const c = {};
  for (const [k, v] of Object.entries(next)) if (JSON.stringify(prev[k]) !== JSON.stringify(v)) c[k] = v;
  return Object.keys(c).length ? c : null;
}

// ---- the emitter: numbered events, a snapshot first on every stream ----
class Emitter {
  constructor() { this.healthState = { state: 'HEALTH_STATE_STARTING', description: 'starting' }; this.devices = new Map(); this.snapshotSent = false; this.streams = new Set(); }
  _send(ev) { for (const s of this.streams) s.send(ev); }
  health(state, description = '') { this.healthState = { state: 'HEALTH_STATE_' + state, description }; this._send({ health: this.healthState }); }
  snapshot(devices) {
    this.devices = new Map(devices.map((d) => [d.endpoint.device_id, structuredClone(d)]));
    this.snapshotSent = true;
    this._send({ snapshot: { devices: [...this.devices.values()] } });
  }
  stateChanged(id, state, cause = 'PERIODIC_POLL') {
    const d = this.devices.get(id);
    if (d) d.state = { ...d.state, ...state };
    this._send({ state: { device_id: id, changed: state, cause } });
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
function now() { const ms = Date.now(); return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 }; }

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
// run(emitter, signal), execute(req, signal), state(id) } (all may be async).
function serve(bridge) {
  const desc = bridge.describe();
  if (process.argv[2] === 'describe') {
    process.stdout.write(JSON.stringify({ name: desc.name, version: desc.version, apiVersions: desc.apiVersions || [API_VERSION],
      pairing: false, configSchema: desc.configSchema, sampleConfig: desc.sampleConfig }, null, 2) + '\n');
    return;
  }
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write('This is an avshub bridge plugin: the hub starts it (try "describe").\n');
    process.exit(1);
  }
  process.on('SIGINT', () => {}); // the hub stops its plugins itself
  const em = new Emitter();
  const stop = new AbortController();
  let configured = false;
  const exit = (code) => { stop.abort(); setTimeout(() => process.exit(code), 50); };

  const server = new grpc.Server();
  server.addService(bridgeProto.Bridge.service, {
    Describe: (_call, cb) => cb(null, { name: desc.name, version: desc.version, api_versions: desc.apiVersions || [API_VERSION],
      capabilities: { pairing: false }, config_schema_json: JSON.stringify(desc.configSchema), sample_config_json: JSON.stringify(desc.sampleConfig) }),
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
      const t = d.endpoint.traits || {};
      if (cmd.trait === 'TRAIT_KIND_ON_OFF' && !t.on_off || cmd.trait === 'TRAIT_KIND_BRIGHTNESS' && !t.brightness || !['TRAIT_KIND_ON_OFF', 'TRAIT_KIND_BRIGHTNESS'].includes(cmd.trait)) {
        return fail(cmd.trait && cmd.trait.startsWith('TRAIT_KIND_') && cmd.trait !== 'TRAIT_KIND_UNSPECIFIED' ? 'NOT_SUPPORTED' : 'INVALID_VALUE', `the endpoint has no ${cmd.trait} trait`);
      }
      if (cmd.trait === 'TRAIT_KIND_ON_OFF' && typeof cmd.power !== 'boolean') return fail('INVALID_VALUE', 'on_off: power is missing');
      if (cmd.trait === 'TRAIT_KIND_BRIGHTNESS' && !(cmd.brightness >= 0 && cmd.brightness <= 100)) {
        return cb(null, { error: { kind: 'ERROR_KIND_OUT_OF_RANGE', message: `brightness ${cmd.brightness} is outside 0–100`, min: 0, max: 100 } });
      }
      const deadlineMs = req.deadline ? Number(req.deadline.seconds) * 1000 + Math.floor((req.deadline.nanos || 0) / 1e6) : Date.now() + 10000;
      const budget = Math.max(0, deadlineMs - Date.now());
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), budget);
      try {
        const state = await Promise.race([bridge.execute({ ...req, command: cmd }, ac.signal),
          new Promise((_, rej) => ac.signal.addEventListener('abort', () => rej(errorf('UNREACHABLE',
            `${d.endpoint.friendly_name} did not answer: the bridge's execute did not return before its deadline (${(budget / 1000).toFixed(1)}s)`)), { once: true }))]);
        d.state = { ...d.state, ...state };
        cb(null, { done: { state } });
      } catch (e) { cb(null, { error: toProtoError(e) }); } finally { clearTimeout(timer); }
    },
    GetState: async (call, cb) => {
      if (!em.devices.has(call.request.device_id)) return cb(null, { error: { kind: 'ERROR_KIND_UNREACHABLE', message: `no device "${call.request.device_id}"` } });
      try { cb(null, { state: await bridge.state(call.request.device_id) }); } catch (e) { cb(null, { error: toProtoError(e) }); }
    },
    StartPairing: (_call, cb) => cb(null, { error: { kind: 'ERROR_KIND_NOT_SUPPORTED', message: `bridge ${desc.name} cannot pair` } }),
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

module.exports = { serve, logger, errorf, BridgeError, switchDevice, plug, light, device, Poller, changed, API_VERSION };
