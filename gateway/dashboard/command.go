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
	reg := traitRegistry()
	if p[0] != '{' {
		word := strings.ToUpper(string(p))
		words := make([]string, len(reg.bare))
		for i, b := range reg.bare {
			if b.word == word {
				return []model.Command{b.cmd}, nil
			}
			words[i] = b.word
		}
		return nil, bad("command payload must be a JSON object or one of %s", strings.Join(words, ", "))
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

	d := &commandDecoder{fields: fields, ep: ep, current: current}
	for _, k := range sortedKeys(fields) {
		if k == "transition" || k == "flash" {
			// Accepted and ignored: the model has no transitions or flashing
			// (Home Assistant's JSON light may send them).
			continue
		}
		decode, ok := reg.keys[k]
		if !ok {
			return nil, bad("unknown command key %q", model.Abbreviate(k, 40))
		}
		if err := decode(d, k, fields[k]); err != nil {
			return nil, err
		}
	}
	if d.hasThermo {
		d.middle = append(d.middle, model.SetThermostat(d.thermo))
	}
	powerOn, powerOff := d.powerOn, d.powerOff
	cmds := append(append(powerOn, d.middle...), powerOff...)
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
