// validate checks a bridge.v1 Command against an endpoint's traits and its
// current state, as the Go SDK does before it calls a bridge's Execute (the
// hub's model, Command.Validate): the trait must exist (and be controllable),
// the value must be there and inside the range the trait declares. It returns
// null or a bridge.v1 Error ({ kind: 'ERROR_KIND_…', message, min, max, … }).
// sdkjs_test.go runs it against the Go rules over every trait's cases.
'use strict';

const num = (v) => typeof v === 'number' && !Number.isNaN(v);
const has = (v) => v !== undefined && v !== null;
const err = (kind, message, extra = {}) => ({ kind: 'ERROR_KIND_' + kind, message, ...extra });
const outOfRange = (message, min, max) => err('OUT_OF_RANGE', message, { min, max });
const instance = (c) => (c.instance ? ' ' + c.instance : '');
const trait = (c) => String(c.trait || '').replace(/^TRAIT_KIND_/, '').toLowerCase();
const notSupported = (c) => err('NOT_SUPPORTED', `the endpoint has no ${trait(c)} trait${instance(c)}`);
const invalid = (c, msg) => err('INVALID_VALUE', `${trait(c)}${instance(c)}: ${msg}`);
const byInstance = (list, name) => (list || []).find((x) => (x.instance || '') === (name || ''));

// percent: a 0–100 integer command (brightness, cover position, fan speed).
const percent = (field, label) => (c, t) => {
  if (!has(c[field])) return invalid(c, `${label} is missing`);
  if (c[field] < 0 || c[field] > 100) return outOfRange(`${label} ${c[field]} is outside 0–100`, 0, 100);
  return null;
};
const present = (field, label) => (c) => (has(c[field]) ? null : invalid(c, `${label} is missing`));

function thermostat(c, th, current) {
  const ts = c.thermostat;
  const mode = ts && ts.mode && ts.mode !== 'THERMOSTAT_MODE_UNSPECIFIED' ? ts.mode : '';
  if (!ts || (!mode && !has(ts.target) && !has(ts.lower) && !has(ts.upper))) return invalid(c, 'thermostat command sets nothing');
  if (mode && !(th.modes || []).includes(mode)) return err('UNSUPPORTED_THERMOSTAT_MODE', `the thermostat has no ${mode.replace(/^THERMOSTAT_MODE_/, '')} mode`);
  if (!has(ts.target) && !has(ts.lower) && !has(ts.upper)) return null;
  const cur = (current && current.thermostat) || {};
  const effective = mode || cur.mode;
  if (effective === 'THERMOSTAT_MODE_OFF') return err('THERMOSTAT_IS_OFF', 'the thermostat is off');
  if (has(ts.target) && has(ts.lower) && has(ts.upper)) return err('TRIPLE_SETPOINTS_UNSUPPORTED', 'the thermostat does not take three setpoints');
  if (has(ts.target) && !th.target_setpoint) return err('INVALID_VALUE', 'the thermostat takes a lower and an upper setpoint, not a target');
  if ((has(ts.lower) || has(ts.upper)) && !th.dual_setpoints) return err('DUAL_SETPOINTS_UNSUPPORTED', 'the thermostat does not take dual setpoints');
  const min = th.min_c || 0;
  const max = th.max_c || 0;
  for (const v of [ts.target, ts.lower, ts.upper]) {
    if (has(v) && (!num(v) || v < min || v > max)) return err('TEMPERATURE_OUT_OF_RANGE', `${v} °C is outside ${min}–${max} °C`, { min, max });
  }
  let lower = ts.lower;
  let upper = ts.upper;
  if (!has(lower) && has(upper)) lower = cur.lower;
  if (!has(upper) && has(lower)) upper = cur.upper;
  const delta = th.min_delta_c || 0;
  if (has(lower) && has(upper) && (upper < lower || upper - lower < delta - 1e-9)) {
    return err('SETPOINTS_TOO_CLOSE', `setpoints ${lower} and ${upper} °C must be at least ${delta} °C apart`, { min_delta: delta });
  }
  return null;
}

// rules: per controllable trait, the Traits field it needs and its value check.
const rules = {
  TRAIT_KIND_ON_OFF: ['on_off', present('power', 'power')],
  TRAIT_KIND_BRIGHTNESS: ['brightness', percent('brightness', 'brightness')],
  TRAIT_KIND_COLOR: ['color', (c) => {
    const h = c.color;
    if (!h) return invalid(c, 'color is missing');
    const [hue, sat, bri] = [h.hue ?? 0, h.saturation ?? 0, h.brightness ?? 0];
    if (!num(hue) || !num(sat) || !num(bri) || hue < 0 || hue > 360 || sat < 0 || sat > 1 || bri < 0 || bri > 1) {
      return err('INVALID_VALUE', 'color must have hue 0–360 and saturation and brightness 0–1');
    }
    return null;
  }],
  TRAIT_KIND_COLOR_TEMPERATURE: ['color_temperature', (c, ct) => {
    if (!has(c.color_temperature)) return invalid(c, 'colour temperature is missing');
    const [lo, hi] = [ct.min_kelvin || 0, ct.max_kelvin || 0];
    const k = c.color_temperature;
    return k < lo || k > hi ? outOfRange(`colour temperature ${k} K is outside ${lo}–${hi} K`, lo, hi) : null;
  }],
  TRAIT_KIND_LOCK: ['lock', (c) => (['LOCK_STATE_LOCKED', 'LOCK_STATE_UNLOCKED'].includes(c.lock) ? null : invalid(c, 'lock must be LOCKED or UNLOCKED'))],
  TRAIT_KIND_THERMOSTAT: ['thermostat', (c, th, current) => thermostat(c, th, current)],
  // A cover command is a position, the slats' tilt (a cover with tilt) or the
  // stop action (cover_stop: true), exactly one.
  TRAIT_KIND_COVER: ['cover', (c, t) => {
    if ([c.cover_stop, c.cover_position, c.cover_tilt].filter(has).length > 1) return invalid(c, 'a cover command is a position, a tilt or a stop, one of them');
    if (has(c.cover_tilt)) return t.tilt ? percent('cover_tilt', 'cover tilt')(c, t) : err('NOT_SUPPORTED', 'the cover has no tilt');
    if (has(c.cover_stop)) return c.cover_stop === true ? null : invalid(c, 'coverStop must be true');
    return percent('cover_position', 'cover position')(c, t);
  }],
  TRAIT_KIND_FAN: ['fan', percent('fan_speed', 'fan speed')],
  TRAIT_KIND_SIREN: ['siren', present('siren', 'siren')],
};

// Generic traits: found by instance; a non-controllable one takes no command.
const generic = {
  TRAIT_KIND_TOGGLE: ['toggles', present('toggle', 'toggle value')],
  TRAIT_KIND_RANGE: ['ranges', (c, r) => {
    if (!num(c.range)) return invalid(c, 'range value is missing');
    const [lo, hi] = [r.min || 0, r.max || 0];
    return c.range < lo || c.range > hi ? outOfRange(`${c.instance} ${c.range} is outside ${lo}–${hi}`, lo, hi) : null;
  }],
  TRAIT_KIND_MODE: ['modes', (c, m) => ((m.values || []).some((v) => v.value === (c.mode || '')) ? null : err('INVALID_VALUE', `${c.instance} has no mode "${c.mode || ''}"`))],
};

function validate(c, traits, current) {
  c = c || {};
  const t = traits || {};
  if (rules[c.trait]) {
    const [field, check] = rules[c.trait];
    return t[field] ? check(c, t[field], current || {}) : notSupported(c);
  }
  if (generic[c.trait]) {
    const [field, check] = generic[c.trait];
    const g = byInstance(t[field], c.instance);
    return g && !g.non_controllable ? check(c, g) : notSupported(c);
  }
  return invalid(c, 'unknown trait');
}

module.exports = { validate };
