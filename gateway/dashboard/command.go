package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/avshub/avshub/discovery/model"
)

// MaxCommandSize is the largest command payload accepted.
const MaxCommandSize = 4096

// DecodeCommand decodes a payload received on an endpoint's command topic
// into model commands, in the order they are to be carried out (power on
// first, power off last). current is the endpoint's state (for the colour's
// brightness and for leaving ECO). Accepted payloads:
//
//   - a bare ON, OFF, LOCK or UNLOCK (case-insensitive);
//   - a JSON object with any of: "state" (ON/OFF), "brightness" (0–100),
//     "color" {"h": 0–360, "s": 0–100}, "color_temp" (kelvin), "lock"
//     (LOCK/UNLOCK), "mode" (off/heat/cool/heat_cool), "preset" (eco/none),
//     "temperature", "temperature_low", "temperature_high" (°C),
//     "toggles" {instance: ON/OFF}, "ranges" {instance: number}, "modes"
//     {instance: value}, "position" (a cover's 0–100), "percentage" (a fan's
//     speed 0–100), "fan_preset" (a fan preset's name), "siren" (ON/OFF);
//     "transition" and "flash" are ignored.
//
// It checks the form only; values are checked by Command.Validate. Errors are
// *model.Error of kind INVALID_VALUE.
func DecodeCommand(payload []byte, ep model.Endpoint, current model.State) ([]model.Command, error) {
	if len(payload) > MaxCommandSize {
		return nil, bad("command payload is larger than %d bytes", MaxCommandSize)
	}
	if !utf8.Valid(payload) {
		return nil, bad("command payload is not UTF-8 text")
	}
	p := bytes.TrimSpace(payload)
	if len(p) == 0 {
		return nil, bad("command payload is empty")
	}
	if p[0] != '{' {
		switch strings.ToUpper(string(p)) {
		case "ON":
			return []model.Command{model.SetPower(true)}, nil
		case "OFF":
			return []model.Command{model.SetPower(false)}, nil
		case "LOCK":
			return []model.Command{model.SetLock(model.Locked)}, nil
		case "UNLOCK":
			return []model.Command{model.SetLock(model.Unlocked)}, nil
		}
		return nil, bad("command payload must be a JSON object or one of ON, OFF, LOCK, UNLOCK")
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		return nil, bad("command payload is not a JSON object: %v", err)
	}
	if dec.More() {
		return nil, bad("command payload has data after the JSON object")
	}

	var (
		powerOn, powerOff []model.Command
		middle            []model.Command
		thermo            model.ThermostatState
		hasThermo         bool
	)
	for _, k := range sortedKeys(fields) {
		raw := fields[k]
		switch k {
		case "transition", "flash":
			// Accepted and ignored: the model has no transitions or flashing
			// (Home Assistant's JSON light may send them).
		case "state":
			s, err := str(k, raw)
			if err != nil {
				return nil, err
			}
			switch strings.ToUpper(s) {
			case "ON":
				powerOn = append(powerOn, model.SetPower(true))
			case "OFF":
				powerOff = append(powerOff, model.SetPower(false))
			case "TOGGLE":
				on := current.On == nil || !*current.On
				if on {
					powerOn = append(powerOn, model.SetPower(true))
				} else {
					powerOff = append(powerOff, model.SetPower(false))
				}
			default:
				return nil, bad("state must be ON, OFF or TOGGLE, not %q", s)
			}
		case "brightness":
			v, err := num(k, raw)
			if err != nil {
				return nil, err
			}
			middle = append(middle, model.SetBrightness(toInt(v)))
		case "color":
			var c map[string]json.RawMessage
			if err := json.Unmarshal(raw, &c); err != nil || c == nil {
				return nil, bad("color must be an object with h (0–360) and s (0–100)")
			}
			h, hok := c["h"]
			s, sok := c["s"]
			if !hok || !sok || len(c) != 2 {
				return nil, bad("color must have exactly h (0–360) and s (0–100)")
			}
			hv, err := num("color.h", h)
			if err != nil {
				return nil, err
			}
			sv, err := num("color.s", s)
			if err != nil {
				return nil, err
			}
			bri := 1.0
			if current.Color != nil {
				bri = current.Color.Brightness
			} else if current.Brightness != nil {
				bri = float64(*current.Brightness) / 100
			}
			middle = append(middle, model.SetColor(model.HSB{Hue: hv, Saturation: sv / 100, Brightness: bri}))
		case "color_temp":
			v, err := num(k, raw)
			if err != nil {
				return nil, err
			}
			middle = append(middle, model.SetColorTemperature(toInt(v)))
		case "lock":
			s, err := str(k, raw)
			if err != nil {
				return nil, err
			}
			switch strings.ToUpper(s) {
			case "LOCK", "LOCKED":
				middle = append(middle, model.SetLock(model.Locked))
			case "UNLOCK", "UNLOCKED":
				middle = append(middle, model.SetLock(model.Unlocked))
			default:
				return nil, bad("lock must be LOCK or UNLOCK, not %q", s)
			}
		case "mode":
			s, err := str(k, raw)
			if err != nil {
				return nil, err
			}
			m, ok := modelMode(strings.ToLower(s))
			if !ok {
				return nil, bad("mode must be one of off, heat, cool, heat_cool, not %q", s)
			}
			if thermo.Mode == "" { // a preset given alongside wins
				thermo.Mode = m
			}
			hasThermo = true
		case "preset":
			s, err := str(k, raw)
			if err != nil {
				return nil, err
			}
			switch strings.ToLower(s) {
			case "eco":
				thermo.Mode = model.ModeEco
			case "none":
				if current.Thermostat != nil && current.Thermostat.Mode != model.ModeEco {
					// Not in eco: nothing to leave; keep any mode given alongside.
					break
				}
				if ep.Traits.Thermostat == nil {
					return nil, &model.Error{Kind: model.ErrNotSupported, Message: "the endpoint has no thermostat trait"}
				}
				if _, given := fields["mode"]; !given {
					thermo.Mode = ecoBase(ep.Traits.Thermostat)
				}
			default:
				return nil, bad("preset must be eco or none, not %q", s)
			}
			hasThermo = true
		case "temperature", "temperature_low", "temperature_high":
			v, err := num(k, raw)
			if err != nil {
				return nil, err
			}
			switch k {
			case "temperature":
				thermo.Target = &v
			case "temperature_low":
				thermo.Lower = &v
			default:
				thermo.Upper = &v
			}
			hasThermo = true
		case "position":
			v, err := num(k, raw)
			if err != nil {
				return nil, err
			}
			middle = append(middle, model.SetCoverPosition(toInt(v)))
		case "percentage":
			v, err := num(k, raw)
			if err != nil {
				return nil, err
			}
			middle = append(middle, model.SetFanSpeed(toInt(v)))
		case "fan_preset":
			s, err := str(k, raw)
			if err != nil {
				return nil, err
			}
			c, err := fanPreset(ep, s)
			if err != nil {
				return nil, err
			}
			middle = append(middle, c)
		case "siren":
			on, err := toggleValue(k, raw)
			if err != nil {
				return nil, err
			}
			middle = append(middle, model.SetSiren(on))
		case "toggles":
			var tg map[string]json.RawMessage
			if err := json.Unmarshal(raw, &tg); err != nil || len(tg) == 0 {
				return nil, bad("toggles must be a non-empty object of instance: ON/OFF")
			}
			for _, inst := range sortedKeys(tg) {
				on, err := toggleValue(inst, tg[inst])
				if err != nil {
					return nil, err
				}
				middle = append(middle, model.SetToggle(inst, on))
			}
		case "ranges":
			var rs map[string]json.RawMessage
			if err := json.Unmarshal(raw, &rs); err != nil || len(rs) == 0 {
				return nil, bad("ranges must be a non-empty object of instance: number")
			}
			for _, inst := range sortedKeys(rs) {
				v, err := num("ranges."+model.Abbreviate(inst, 40), rs[inst])
				if err != nil {
					return nil, err
				}
				middle = append(middle, model.SetRange(inst, v))
			}
		case "modes":
			var ms map[string]json.RawMessage
			if err := json.Unmarshal(raw, &ms); err != nil || len(ms) == 0 {
				return nil, bad("modes must be a non-empty object of instance: value")
			}
			for _, inst := range sortedKeys(ms) {
				v, err := str("modes."+model.Abbreviate(inst, 40), ms[inst])
				if err != nil {
					return nil, err
				}
				middle = append(middle, model.SetMode(inst, v))
			}
		default:
			return nil, bad("unknown command key %q", model.Abbreviate(k, 40))
		}
	}
	if hasThermo {
		middle = append(middle, model.SetThermostat(thermo))
	}
	cmds := append(append(powerOn, middle...), powerOff...)
	if len(powerOn) > 0 && len(powerOff) > 0 {
		return nil, bad("state cannot be both ON and OFF")
	}
	if len(cmds) == 0 {
		return nil, bad("command sets nothing")
	}
	return cmds, nil
}

func bad(format string, args ...any) *model.Error {
	return &model.Error{Kind: model.ErrInvalidValue, Message: fmt.Sprintf(format, args...)}
}

func str(key string, raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", bad("%s must be a string", key)
	}
	return s, nil
}

func num(key string, raw json.RawMessage) (float64, error) {
	var n json.Number
	if len(raw) == 0 || raw[0] == '"' {
		return 0, bad("%s must be a number", key)
	}
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, bad("%s must be a number", key)
	}
	v, err := n.Float64()
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, bad("%s must be a finite number", key)
	}
	return v, nil
}

// toInt rounds v, clamping huge values so the range check still reports them.
func toInt(v float64) int {
	const limit = 1 << 30
	switch {
	case v > limit:
		return limit
	case v < -limit:
		return -limit
	}
	return int(math.Round(v))
}

func toggleValue(inst string, raw json.RawMessage) (bool, error) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch strings.ToUpper(s) {
		case "ON":
			return true, nil
		case "OFF":
			return false, nil
		}
	}
	return false, bad("toggle %q must be ON or OFF", model.Abbreviate(inst, 40))
}
