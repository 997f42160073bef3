package mqtt

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/avshub/avshub/bridges/mqtt/internal/colorconv"
	"github.com/avshub/avshub/discovery/model"
)

// Expose access bits (zigbee-herdsman-converters lib/exposes).
const (
	accessState = 1
	accessSet   = 2
	accessGet   = 4
)

// z2mExpose is one expose or feature as zigbee2mqtt serialises it.
type z2mExpose struct {
	Type        string      `json:"type"`
	Name        string      `json:"name"`
	Property    string      `json:"property"`
	Access      int         `json:"access"`
	Endpoint    string      `json:"endpoint"`
	Unit        string      `json:"unit"`
	ValueMin    *float64    `json:"value_min"`
	ValueMax    *float64    `json:"value_max"`
	ValueStep   *float64    `json:"value_step"`
	ValueOn     any         `json:"value_on"`
	ValueOff    any         `json:"value_off"`
	ValueToggle any         `json:"value_toggle"`
	Values      []any       `json:"values"`
	Features    []z2mExpose `json:"features"`
}

// z2mDeviceJSON is one entry of bridge/devices (the fields the bridge reads).
type z2mDeviceJSON struct {
	IEEE         string `json:"ieee_address"`
	Type         string `json:"type"`
	Supported    *bool  `json:"supported"`
	FriendlyName string `json:"friendly_name"`
	Disabled     bool   `json:"disabled"`
	Description  string `json:"description"`
	Manufacturer string `json:"manufacturer"`
	ModelID      string `json:"model_id"`
	PowerSource  string `json:"power_source"`
	Definition   *struct {
		Model       string      `json:"model"`
		Vendor      string      `json:"vendor"`
		Description string      `json:"description"`
		Exposes     []z2mExpose `json:"exposes"`
		Source      string      `json:"source"`
	} `json:"definition"`
}

// z2mDevice is one bridged zigbee2mqtt device: one or more units (a two-gang
// switch has two), all addressed through the same friendly name.
type z2mDevice struct {
	ieee  string
	name  string
	units []*z2mUnit
}

// z2mUnit maps one endpoint's traits to state properties.
type z2mUnit struct {
	id       string
	ep       model.Endpoint
	light    *z2mLight
	onoff    *z2mBinary // switch / plug
	lock     *z2mLock
	climate  *z2mClimate
	tempProp string
	getProps []string // properties readable with /get

	// The last colour temperature and colour commanded, with what was sent:
	// when the device reports exactly what was sent, the state shows the
	// commanded value rather than its round trip through mireds or xy.
	ctHintK    int
	ctHintSent int
	colorHint  *model.HSB
	colorSent  map[string]float64
}

type z2mBinary struct {
	prop    string
	on, off any
}

type z2mLight struct {
	state     z2mBinary
	bright    string
	brightMax float64
	ct        string
	ctMin     int
	ctMax     int
	colorProp string
	xy, hs    bool
}

type z2mLock struct {
	state     z2mBinary
	lockState string
}

type z2mClimate struct {
	mode      string
	modes     map[model.ThermostatMode]string // Alexa mode → z2m value
	heat      string                          // heating setpoint property
	cool      string                          // cooling setpoint property
	local     string
	step      float64
	min, max  float64
	modeOrder []model.ThermostatMode
}

// Setpoint properties real devices use, in order of preference.
var (
	heatSetpointProps = []string{"occupied_heating_setpoint", "current_heating_setpoint", "heating_setpoint"}
	coolSetpointProps = []string{"occupied_cooling_setpoint", "cooling_setpoint"}
	localTempProps    = []string{"local_temperature"}
	// z2m system_mode values and the Alexa mode each stands for.
	z2mModes = map[string]model.ThermostatMode{"heat": model.ModeHeat, "cool": model.ModeCool,
		"auto": model.ModeAuto, "off": model.ModeOff, "eco": model.ModeEco}
)

// parseZ2MDevices parses a bridge/devices payload. Devices that cannot be
// bridged come back as skips; a device whose entry is malformed is skipped
// without affecting the others.
func parseZ2MDevices(payload []byte, base string) ([]*z2mDevice, []Skip, map[string]bool, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, nil, nil, fmt.Errorf("bridge/devices is not a JSON array: %w", err)
	}
	known := map[string]bool{}
	var devs []*z2mDevice
	var skips []Skip
	for i, r := range raw {
		var d z2mDeviceJSON
		if err := json.Unmarshal(r, &d); err != nil {
			skips = append(skips, Skip{Source: "zigbee2mqtt", ID: fmt.Sprintf("bridge/devices[%d]", i), Reason: "malformed device entry: " + err.Error()})
			continue
		}
		if d.IEEE != "" {
			known[strings.ToLower(d.IEEE)] = true
		}
		id := d.FriendlyName
		if id == "" {
			id = d.IEEE
		}
		var reason string
		switch {
		case d.Type == "Coordinator":
			reason = "coordinator"
		case d.IEEE == "" || d.FriendlyName == "":
			reason = "no ieee_address or friendly_name"
		case d.Disabled:
			reason = "disabled in zigbee2mqtt"
		case d.Supported != nil && !*d.Supported:
			reason = "not supported by zigbee2mqtt"
		case d.Definition == nil:
			reason = "no definition (interview not complete?)"
		case d.Definition.Source == "generated":
			reason = "definition generated by zigbee2mqtt (unsupported device)"
		case strings.ContainsAny(d.FriendlyName, "+#"):
			reason = "friendly name contains an MQTT wildcard"
		}
		if reason != "" {
			skips = append(skips, Skip{Source: "zigbee2mqtt", ID: id, Reason: reason})
			continue
		}
		dev, problems := buildZ2MDevice(&d, base)
		for _, p := range problems {
			skips = append(skips, Skip{Source: "zigbee2mqtt", ID: id, Reason: p})
		}
		if len(dev.units) == 0 {
			skips = append(skips, Skip{Source: "zigbee2mqtt", ID: id, Reason: "no light, switch, lock, climate or temperature expose"})
			continue
		}
		devs = append(devs, dev)
	}
	return devs, skips, known, nil
}

var knownExposeTypes = map[string]bool{"light": true, "switch": true, "lock": true, "climate": true, "fan": true, "cover": true,
	"binary": true, "numeric": true, "enum": true, "text": true, "composite": true, "list": true}

func buildZ2MDevice(d *z2mDeviceJSON, base string) (*z2mDevice, []string) {
	dev := &z2mDevice{ieee: d.IEEE, name: d.FriendlyName}
	var problems []string
	var units []*z2mUnit
	var temp *z2mExpose
	for i := range d.Definition.Exposes {
		e := &d.Definition.Exposes[i]
		if !knownExposeTypes[e.Type] {
			problems = append(problems, fmt.Sprintf("unknown expose type %q ignored", e.Type))
			continue
		}
		var u *z2mUnit
		switch e.Type {
		case "light":
			if l := parseZ2MLight(e.Features); l != nil {
				u = &z2mUnit{light: l}
				u.ep.Category = model.CategoryLight
				u.ep.Traits.OnOff = &model.OnOff{}
				if l.bright != "" {
					u.ep.Traits.Brightness = &model.Brightness{}
				}
				if l.ct != "" {
					u.ep.Traits.ColorTemperature = &model.ColorTemperature{MinKelvin: miredToKelvin(l.ctMax), MaxKelvin: miredToKelvin(l.ctMin)}
				}
				if l.xy || l.hs {
					u.ep.Traits.Color = &model.Color{}
				}
			}
		case "switch":
			if f := findZ2MFeature(e.Features, "state", "binary"); f != nil && f.Access&accessSet != 0 {
				u = &z2mUnit{onoff: &z2mBinary{prop: f.Property, on: f.ValueOn, off: f.ValueOff}}
				u.ep.Category = model.CategorySmartPlug
				u.ep.Traits.OnOff = &model.OnOff{}
			}
		case "lock":
			f := findZ2MFeature(e.Features, "state", "binary")
			if f != nil && f.Access&accessSet != 0 {
				lk := &z2mLock{state: z2mBinary{prop: f.Property, on: f.ValueOn, off: f.ValueOff}}
				if ls := findZ2MFeature(e.Features, "lock_state", "enum"); ls != nil {
					lk.lockState = ls.Property
				}
				u = &z2mUnit{lock: lk}
				u.ep.Category = model.CategorySmartLock
				u.ep.Traits.Lock = &model.Lock{}
			}
		case "climate":
			if c := parseZ2MClimate(e.Features); c != nil {
				u = &z2mUnit{climate: c}
				u.ep.Category = model.CategoryThermostat
				th := &model.Thermostat{Modes: c.modeOrder, MinC: c.min, MaxC: c.max, StepC: c.step, Scale: "CELSIUS"}
				th.TargetSetpoint = c.heat != "" || c.cool != ""
				th.DualSetpoints = c.heat != "" && c.cool != "" && c.modes[model.ModeAuto] != ""
				if th.DualSetpoints {
					th.MinDeltaC = 1
				}
				u.ep.Traits.Thermostat = th
				if c.local != "" {
					u.ep.Traits.TemperatureSensor = &model.TemperatureSensor{}
				}
			}
		case "numeric":
			if e.Name == "temperature" && e.Access&accessState != 0 && (e.Unit == "°C" || e.Unit == "") && temp == nil {
				temp = e
			}
		}
		if u == nil {
			continue
		}
		u.getProps = collectGetProps(e)
		u.ep.Description = e.Endpoint // overwritten below
		units = append(units, u)
	}
	if temp != nil {
		var host *z2mUnit
		for _, u := range units {
			if u.climate != nil {
				host = u
				break
			}
		}
		if host == nil {
			host = &z2mUnit{}
			host.ep.Category = model.CategoryTemperatureSensor
			units = append(units, host)
		}
		host.tempProp = temp.Property
		host.ep.Traits.TemperatureSensor = &model.TemperatureSensor{}
		if temp.Access&accessGet != 0 {
			host.getProps = append(host.getProps, temp.Property)
		}
	}
	for i, u := range units {
		suffix := u.ep.Description
		u.id = "z2m:" + d.IEEE
		name := d.FriendlyName
		if len(units) > 1 {
			if suffix == "" {
				suffix = strconv.Itoa(i + 1)
			}
			u.id += ":" + suffix
			name += " " + suffix
		}
		desc := d.Description
		if desc == "" && d.Definition.Description != "" {
			desc = d.Definition.Description
		}
		desc = truncate(desc+" via zigbee2mqtt", model.MaxDescriptionLen)
		u.ep = model.Endpoint{
			DeviceID:     u.id,
			FriendlyName: truncate(strings.TrimSpace(strings.ReplaceAll(name, "/", " ")), model.MaxFriendlyNameLen),
			Manufacturer: firstNonEmpty(d.Definition.Vendor, d.Manufacturer),
			Model:        firstNonEmpty(d.Definition.Model, d.ModelID),
			Description:  desc,
			Category:     u.ep.Category,
			Connections:  []model.Connection{{Type: model.ConnectionZigbee, MACAddress: ieeeToMAC(d.IEEE)}},
			Traits:       u.ep.Traits,
		}
		sort.Strings(u.getProps)
	}
	dev.units = units
	_ = base
	return dev, problems
}

func parseZ2MLight(fs []z2mExpose) *z2mLight {
	st := findZ2MFeature(fs, "state", "binary")
	if st == nil || st.Access&accessSet == 0 {
		return nil
	}
	l := &z2mLight{state: z2mBinary{prop: st.Property, on: st.ValueOn, off: st.ValueOff}}
	if b := findZ2MFeature(fs, "brightness", "numeric"); b != nil && b.Access&accessSet != 0 {
		l.bright = b.Property
		l.brightMax = 254
		if b.ValueMax != nil && *b.ValueMax > 0 {
			l.brightMax = *b.ValueMax
		}
	}
	if ct := findZ2MFeature(fs, "color_temp", "numeric"); ct != nil && ct.Access&accessSet != 0 {
		l.ct = ct.Property
		l.ctMin, l.ctMax = 153, 500
		if ct.ValueMin != nil && *ct.ValueMin >= 50 {
			l.ctMin = int(*ct.ValueMin)
		}
		if ct.ValueMax != nil && *ct.ValueMax > float64(l.ctMin) && *ct.ValueMax <= 1000 {
			l.ctMax = int(*ct.ValueMax)
		}
	}
	for _, f := range fs {
		if f.Type != "composite" || f.Access&accessSet == 0 {
			continue
		}
		switch f.Name {
		case "color_xy":
			l.xy, l.colorProp = true, f.Property
		case "color_hs":
			l.hs, l.colorProp = true, f.Property
		}
	}
	return l
}

func parseZ2MClimate(fs []z2mExpose) *z2mClimate {
	c := &z2mClimate{modes: map[model.ThermostatMode]string{}, step: 0.5, min: 5, max: 35}
	for _, p := range heatSetpointProps {
		if f := findZ2MFeature(fs, p, "numeric"); f != nil && f.Access&accessSet != 0 && c.heat == "" {
			c.heat = f.Property
			c.applyRange(f)
		}
	}
	for _, p := range coolSetpointProps {
		if f := findZ2MFeature(fs, p, "numeric"); f != nil && f.Access&accessSet != 0 && c.cool == "" {
			c.cool = f.Property
			if c.heat == "" {
				c.applyRange(f)
			}
		}
	}
	for _, p := range localTempProps {
		if f := findZ2MFeature(fs, p, "numeric"); f != nil && f.Access&accessState != 0 {
			c.local = f.Property
			break
		}
	}
	if f := findZ2MFeature(fs, "system_mode", "enum"); f != nil && f.Access&accessSet != 0 {
		c.mode = f.Property
		for _, v := range f.Values {
			s, _ := v.(string)
			if m, ok := z2mModes[s]; ok && c.modes[m] == "" {
				c.modes[m] = s
				c.modeOrder = append(c.modeOrder, m)
			}
		}
	}
	if c.heat == "" && c.cool == "" && c.mode == "" {
		return nil
	}
	if len(c.modeOrder) == 0 {
		// A thermostat without system_mode heats (TRVs) or cools.
		m := model.ModeHeat
		if c.heat == "" {
			m = model.ModeCool
		}
		c.modeOrder = []model.ThermostatMode{m}
	}
	return c
}

func (c *z2mClimate) applyRange(f *z2mExpose) {
	if f.ValueMin != nil {
		c.min = *f.ValueMin
	}
	if f.ValueMax != nil && *f.ValueMax > c.min {
		c.max = *f.ValueMax
	}
	if f.ValueStep != nil && *f.ValueStep > 0 {
		c.step = *f.ValueStep
	}
}

func findZ2MFeature(fs []z2mExpose, name, typ string) *z2mExpose {
	for i := range fs {
		if fs[i].Name == name && fs[i].Type == typ && fs[i].Property != "" {
			return &fs[i]
		}
	}
	return nil
}

func collectGetProps(e *z2mExpose) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range e.Features {
		if f.Access&accessGet != 0 && f.Property != "" && !seen[f.Property] {
			seen[f.Property] = true
			out = append(out, f.Property)
		}
	}
	return out
}

// parseState extracts the unit's state from a zigbee2mqtt state message.
// Properties of the wrong type are reported in problems and ignored.
func (u *z2mUnit) parseState(m map[string]any) (model.State, []string) {
	var s model.State
	var problems []string
	bad := func(prop string, v any) {
		problems = append(problems, fmt.Sprintf("property %q has unexpected value %v", prop, v))
	}
	if l := u.light; l != nil {
		if v, ok := m[l.state.prop]; ok {
			switch {
			case v == l.state.on:
				s.On = model.Ptr(true)
			case v == l.state.off:
				s.On = model.Ptr(false)
			default:
				bad(l.state.prop, v)
			}
		}
		if v, ok := m[l.bright]; ok && l.bright != "" {
			if n, ok := asNumber(v); ok && n >= 0 {
				s.Brightness = model.Ptr(clampInt(int(math.Round(n*100/l.brightMax)), 0, 100))
			} else {
				bad(l.bright, v)
			}
		}
		mode, _ := m["color_mode"].(string)
		if v, ok := m[l.ct]; ok && l.ct != "" && v != nil && (mode == "" || mode == "color_temp") {
			if n, ok := asNumber(v); ok && n > 0 {
				m := int(math.Round(n))
				k := miredToKelvin(m)
				if u.ctHintK > 0 && m == u.ctHintSent {
					k = u.ctHintK
				}
				s.ColorTemperature = &k
			} else {
				bad(l.ct, v)
			}
		}
		if v, ok := m[l.colorProp]; ok && (l.xy || l.hs) && v != nil && mode != "color_temp" {
			if c, ok := v.(map[string]any); ok {
				if hsb, ok := parseZ2MColor(c); ok {
					if u.colorHint != nil && colorMatches(c, u.colorSent) {
						hsb = *u.colorHint
					}
					hsb.Brightness = 1
					if s.Brightness != nil {
						hsb.Brightness = float64(*s.Brightness) / 100
					}
					s.Color = &hsb
				}
			} else {
				bad(l.colorProp, v)
			}
		}
	}
	if b := u.onoff; b != nil {
		if v, ok := m[b.prop]; ok {
			switch v {
			case b.on:
				s.On = model.Ptr(true)
			case b.off:
				s.On = model.Ptr(false)
			default:
				bad(b.prop, v)
			}
		}
	}
	if lk := u.lock; lk != nil {
		if v, ok := m[lk.lockState]; ok && lk.lockState != "" {
			switch v {
			case "locked":
				s.Lock = model.Locked
			case "unlocked":
				s.Lock = model.Unlocked
			case "not_fully_locked":
				s.Lock = model.Jammed
			default:
				bad(lk.lockState, v)
			}
		} else if v, ok := m[lk.state.prop]; ok {
			switch v {
			case lk.state.on:
				s.Lock = model.Locked
			case lk.state.off:
				s.Lock = model.Unlocked
			default:
				bad(lk.state.prop, v)
			}
		}
	}
	if c := u.climate; c != nil {
		var ts model.ThermostatState
		set := false
		if v, ok := m[c.mode]; ok && c.mode != "" {
			str, _ := v.(string)
			if am, ok := z2mModes[str]; ok {
				ts.Mode, set = am, true
			} else {
				bad(c.mode, v)
			}
		}
		num := func(prop string) *float64 {
			v, ok := m[prop]
			if !ok || prop == "" {
				return nil
			}
			if n, ok := asNumber(v); ok {
				return &n
			}
			bad(prop, v)
			return nil
		}
		dual := u.ep.Traits.Thermostat.DualSetpoints && ts.Mode == model.ModeAuto
		h, cl := num(c.heat), num(c.cool)
		switch {
		case dual:
			ts.Lower, ts.Upper = h, cl
		case ts.Mode == model.ModeCool && cl != nil:
			ts.Target = cl
		case h != nil:
			ts.Target = h
		case c.heat == "" && cl != nil:
			ts.Target = cl
		}
		set = set || ts.Target != nil || ts.Lower != nil || ts.Upper != nil
		if set {
			s.Thermostat = &ts
		}
		if t := num(c.local); t != nil {
			s.Temperature = t
		}
	}
	if u.tempProp != "" {
		if v, ok := m[u.tempProp]; ok {
			if n, ok := asNumber(v); ok {
				s.Temperature = &n
			} else {
				bad(u.tempProp, v)
			}
		}
	}
	return s, problems
}

// colorMatches reports whether a reported colour object carries exactly the
// values that were sent.
func colorMatches(c map[string]any, sent map[string]float64) bool {
	if len(sent) == 0 {
		return false
	}
	for k, v := range sent {
		n, ok := asNumber(c[k])
		if !ok || math.Abs(n-v) > 1e-4 {
			return false
		}
	}
	return true
}

func parseZ2MColor(c map[string]any) (model.HSB, bool) {
	h, hok := asNumber(firstKey(c, "hue", "h"))
	sat, sok := asNumber(firstKey(c, "saturation", "s"))
	if hok && sok {
		return model.HSB{Hue: math.Mod(math.Max(h, 0), 360), Saturation: math.Max(0, math.Min(1, sat/100))}, true
	}
	x, xok := asNumber(c["x"])
	y, yok := asNumber(c["y"])
	if xok && yok {
		h, s := colorconv.XYToHS(x, y)
		return model.HSB{Hue: round(h, 1), Saturation: round(s, 3)}, true
	}
	return model.HSB{}, false
}

// command builds the /set payload for one command, in zigbee2mqtt's units.
func (u *z2mUnit) command(c model.Command, cur model.State) (map[string]any, error) {
	p := map[string]any{}
	switch c.Trait {
	case model.TraitOnOff:
		b := u.onoff
		if u.light != nil {
			b = &u.light.state
		}
		if b == nil {
			return nil, notSupported(c)
		}
		if *c.Power {
			p[b.prop] = b.on
		} else {
			p[b.prop] = b.off
		}
	case model.TraitBrightness:
		if u.light == nil || u.light.bright == "" {
			return nil, notSupported(c)
		}
		p[u.light.bright] = int(math.Round(float64(*c.Brightness) * u.light.brightMax / 100))
	case model.TraitColorTemperature:
		if u.light == nil || u.light.ct == "" {
			return nil, notSupported(c)
		}
		m := clampInt(kelvinToMired(*c.ColorTemperature), u.light.ctMin, u.light.ctMax)
		p[u.light.ct] = m
		u.ctHintK, u.ctHintSent = *c.ColorTemperature, m
	case model.TraitColor:
		l := u.light
		if l == nil || !(l.xy || l.hs) {
			return nil, notSupported(c)
		}
		if l.hs {
			u.colorSent = map[string]float64{"hue": round(c.Color.Hue, 0), "saturation": round(c.Color.Saturation*100, 0)}
		} else {
			x, y := colorconv.HSToXY(c.Color.Hue, c.Color.Saturation)
			u.colorSent = map[string]float64{"x": x, "y": y}
		}
		p[l.colorProp] = u.colorSent
		u.colorHint = &model.HSB{Hue: c.Color.Hue, Saturation: c.Color.Saturation}
	case model.TraitLock:
		if u.lock == nil {
			return nil, notSupported(c)
		}
		if c.Lock == model.Locked {
			p[u.lock.state.prop] = u.lock.state.on
		} else {
			p[u.lock.state.prop] = u.lock.state.off
		}
	case model.TraitThermostat:
		cl := u.climate
		if cl == nil {
			return nil, notSupported(c)
		}
		t := c.Thermostat
		if t.Mode != "" {
			v, ok := cl.modes[t.Mode]
			if !ok {
				if cl.mode != "" || len(cl.modeOrder) != 1 || cl.modeOrder[0] != t.Mode {
					return nil, &model.Error{Kind: model.ErrUnsupportedThermostatMode, Message: fmt.Sprintf("the thermostat has no %s mode", t.Mode)}
				}
			} else {
				p[cl.mode] = v
			}
		}
		step := func(v float64) float64 {
			v = math.Round(v/cl.step) * cl.step
			return round(math.Max(cl.min, math.Min(cl.max, v)), 2)
		}
		mode := t.Mode
		if mode == "" && cur.Thermostat != nil {
			mode = cur.Thermostat.Mode
		}
		if t.Target != nil {
			if cl.heat != "" && (mode != model.ModeCool || cl.cool == "") {
				p[cl.heat] = step(*t.Target)
			} else {
				p[cl.cool] = step(*t.Target)
			}
		}
		if t.Lower != nil && cl.heat != "" {
			p[cl.heat] = step(*t.Lower)
		}
		if t.Upper != nil && cl.cool != "" {
			p[cl.cool] = step(*t.Upper)
		}
	default:
		return nil, notSupported(c)
	}
	return p, nil
}

func notSupported(c model.Command) *model.Error {
	return &model.Error{Kind: model.ErrNotSupported, Message: fmt.Sprintf("the endpoint has no %s trait", c.Trait)}
}

func miredToKelvin(m int) int {
	if m <= 0 {
		return 0
	}
	return int(math.Round(1e6 / float64(m)))
}

func kelvinToMired(k int) int {
	if k <= 0 {
		return 0
	}
	return int(math.Round(1e6 / float64(k)))
}

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

func round(v float64, places int) float64 {
	s := math.Pow(10, float64(places))
	return math.Round(v*s) / s
}

func firstKey(m map[string]any, keys ...string) any {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// ieeeToMAC formats "0x00158d00045a6b7c" as "00:15:8d:00:04:5a:6b:7c".
func ieeeToMAC(ieee string) string {
	h := strings.TrimPrefix(strings.ToLower(ieee), "0x")
	if len(h) != 16 {
		return ""
	}
	var b strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
