package dashboard

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/avshub/avshub/discovery/model"
)

// Topic leaves under <prefix>/<node>/.
const (
	leafState        = "state"
	leafSet          = "set"
	leafAvailability = "availability"
	leafError        = "error"
)

// Availability payloads (hub status topic and endpoint availability topics).
const (
	PayloadOnline  = "online"
	PayloadOffline = "offline"
)

var (
	cleanBridge = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	cleanDevice = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	unsafeRun   = regexp.MustCompile(`[^A-Za-z0-9-]+`)
)

// NodeID is the stable topic-safe name of an endpoint: "<bridge>_<device>"
// when both are made of [A-Za-z0-9_-] (the bridge without '_'), otherwise a
// slug of them with a short hash of the endpoint id so distinct endpoints never share it.
func NodeID(ep model.Endpoint) string {
	if cleanBridge.MatchString(ep.Bridge) && cleanDevice.MatchString(ep.DeviceID) {
		return ep.Bridge + "_" + ep.DeviceID
	}
	id := ep.ID
	if id == "" {
		id = ep.Bridge + "::" + ep.DeviceID
	}
	sum := sha256.Sum256([]byte(id))
	slug := strings.Trim(unsafeRun.ReplaceAllString(ep.Bridge+"_"+ep.DeviceID, "_"), "_")
	if len(slug) > 64 {
		slug = slug[:64]
	}
	return slug + "_" + hex.EncodeToString(sum[:4])
}

// layout turns endpoints into topics and payloads; it holds no state.
type layout struct {
	prefix     string // topic prefix, e.g. "avshub"
	disc       string // discovery prefix, e.g. "homeassistant"
	qos        int
	swVersion  string
	supportURL string
}

func (l layout) statusTopic() string                { return l.prefix + "/status" }
func (l layout) nodeTopic(node, leaf string) string { return l.prefix + "/" + node + "/" + leaf }

// objectID is the Home Assistant object id of a node: unique per topic prefix.
func (l layout) objectID(node string) string {
	return strings.Trim(unsafeRun.ReplaceAllString(l.prefix, "_"), "_") + "_" + node
}

func (l layout) configTopic(node string) string {
	return l.disc + "/device/" + l.objectID(node) + "/config"
}

// haMode maps model thermostat modes to Home Assistant climate modes. ECO is
// a Home Assistant preset, not a mode.
var haMode = map[model.ThermostatMode]string{
	model.ModeHeat: "heat", model.ModeCool: "cool", model.ModeAuto: "heat_cool", model.ModeOff: "off",
}

func modelMode(ha string) (model.ThermostatMode, bool) {
	for m, s := range haMode {
		if s == ha {
			return m, true
		}
	}
	return "", false
}

// ecoBase is the mode a thermostat in ECO shows in Home Assistant, and the mode
// the preset "none" returns to: HEAT if it has it, else its first other mode.
func ecoBase(t *model.Thermostat) model.ThermostatMode {
	if t.SupportsMode(model.ModeHeat) {
		return model.ModeHeat
	}
	for _, m := range t.Modes {
		if m != model.ModeEco && m != model.ModeOff {
			return m
		}
	}
	return ""
}

// isLight says whether an endpoint's on/off is shown as a light (else a switch).
func isLight(ep model.Endpoint) bool {
	t := ep.Traits
	return t.Brightness != nil || t.Color != nil || t.ColorTemperature != nil ||
		(t.OnOff != nil && ep.Category == model.CategoryLight)
}

// components returns the Home Assistant components of an endpoint, keyed by
// component id (stable: derived from the trait, never from the name).
func (l layout) components(node string, ep model.Endpoint) map[string]map[string]any {
	st, ct := l.nodeTopic(node, leafState), l.nodeTopic(node, leafSet)
	uid := func(c string) string { return l.objectID(node) + "_" + c }
	t := ep.Traits
	out := map[string]map[string]any{}
	main := true // the first component is the device's main feature (name null)
	name := func(n string) any {
		if main {
			main = false
			return nil
		}
		return n
	}
	if isLight(ep) {
		var modes []string
		if t.Color != nil {
			modes = append(modes, "hs")
		}
		if t.ColorTemperature != nil {
			modes = append(modes, "color_temp")
		}
		if len(modes) == 0 {
			if t.Brightness != nil {
				modes = []string{"brightness"}
			} else {
				modes = []string{"onoff"}
			}
		}
		c := map[string]any{"p": "light", "unique_id": uid("light"), "name": name("Light"), "schema": "json",
			"state_topic": st, "command_topic": ct, "supported_color_modes": modes}
		if t.Brightness != nil {
			c["brightness"] = true
			c["brightness_scale"] = 100
		}
		if ctr := t.ColorTemperature; ctr != nil {
			c["color_temp_kelvin"] = true
			c["min_kelvin"] = ctr.MinKelvin
			c["max_kelvin"] = ctr.MaxKelvin
		}
		out["light"] = c
	} else if t.OnOff != nil && t.Fan == nil { // a fan's power is the fan component's
		out["switch"] = map[string]any{"p": "switch", "unique_id": uid("switch"), "name": name("Power"),
			"state_topic": st, "command_topic": ct, "value_template": "{{ value_json.state }}",
			"payload_on": `{"state":"ON"}`, "payload_off": `{"state":"OFF"}`, "state_on": "ON", "state_off": "OFF"}
	}
	if t.Lock != nil {
		out["lock"] = map[string]any{"p": "lock", "unique_id": uid("lock"), "name": name("Lock"),
			"state_topic": st, "value_template": "{{ value_json.lock }}",
			"command_topic": ct, "command_template": `{"lock":"{{ value }}"}`,
			"payload_lock": "LOCK", "payload_unlock": "UNLOCK",
			"state_locked": "LOCKED", "state_unlocked": "UNLOCKED", "state_jammed": "JAMMED"}
	}
	if th := t.Thermostat; th != nil {
		var modes []string
		for _, m := range th.Modes {
			if s, ok := haMode[m]; ok {
				modes = append(modes, s)
			}
		}
		step := th.StepC
		if step <= 0 {
			step = 0.5
		}
		precision := 0.1
		if step >= 1 {
			precision = 1.0
		} else if math.Mod(step, 0.5) == 0 {
			precision = 0.5
		}
		c := map[string]any{"p": "climate", "unique_id": uid("climate"), "name": name("Thermostat"),
			"modes": modes, "mode_command_topic": ct, "mode_command_template": `{"mode":"{{ value }}"}`,
			"mode_state_topic": st, "mode_state_template": "{{ value_json.mode }}",
			"min_temp": th.MinC, "max_temp": th.MaxC, "temp_step": step, "precision": precision, "temperature_unit": "C"}
		if th.TargetSetpoint {
			c["temperature_command_topic"] = ct
			c["temperature_command_template"] = `{"temperature":{{ value }}}`
			c["temperature_state_topic"] = st
			c["temperature_state_template"] = "{{ value_json.temperature }}"
		}
		if th.DualSetpoints {
			c["temperature_low_command_topic"] = ct
			c["temperature_low_command_template"] = `{"temperature_low":{{ value }}}`
			c["temperature_low_state_topic"] = st
			c["temperature_low_state_template"] = "{{ value_json.temperature_low }}"
			c["temperature_high_command_topic"] = ct
			c["temperature_high_command_template"] = `{"temperature_high":{{ value }}}`
			c["temperature_high_state_topic"] = st
			c["temperature_high_state_template"] = "{{ value_json.temperature_high }}"
		}
		if t.TemperatureSensor != nil {
			c["current_temperature_topic"] = st
			c["current_temperature_template"] = "{{ value_json.current_temperature }}"
		}
		if th.SupportsMode(model.ModeEco) {
			c["preset_modes"] = []string{"eco"}
			c["preset_mode_command_topic"] = ct
			c["preset_mode_command_template"] = `{"preset":"{{ value }}"}`
			c["preset_mode_state_topic"] = st
			c["preset_mode_value_template"] = "{{ value_json.preset }}"
		}
		out["climate"] = c
	}
	if t.TemperatureSensor != nil {
		out["temperature"] = map[string]any{"p": "sensor", "unique_id": uid("temperature"), "name": name("Temperature"),
			"state_topic": st, "value_template": "{{ value_json.current_temperature }}",
			"device_class": "temperature", "unit_of_measurement": "°C", "state_class": "measurement",
			"suggested_display_precision": 1}
	}
	kindComponents(out, ep, st, ct, uid, name)
	for _, tg := range t.Toggles {
		inst, _ := json.Marshal(tg.Instance)
		id := genericID(out, "toggle", tg.Instance)
		c := map[string]any{"unique_id": uid(id), "name": displayName(tg.Names, tg.Instance),
			"state_topic": st, "value_template": fmt.Sprintf("{{ value_json.toggles[%s] }}", inst)}
		if tg.NonControllable {
			c["p"] = "binary_sensor"
			c["payload_on"], c["payload_off"] = "ON", "OFF"
		} else {
			c["p"] = "switch"
			c["command_topic"] = ct
			c["payload_on"] = fmt.Sprintf(`{"toggles":{%s:"ON"}}`, inst)
			c["payload_off"] = fmt.Sprintf(`{"toggles":{%s:"OFF"}}`, inst)
			c["state_on"], c["state_off"] = "ON", "OFF"
		}
		out[id] = c
	}
	for _, r := range t.Ranges {
		inst, _ := json.Marshal(r.Instance)
		id := genericID(out, "range", r.Instance)
		c := map[string]any{"unique_id": uid(id), "name": displayName(r.Names, r.Instance),
			"state_topic": st, "value_template": fmt.Sprintf("{{ value_json.ranges[%s] }}", inst)}
		if u := haUnit[r.Unit]; u != "" {
			c["unit_of_measurement"] = u
		}
		if r.NonControllable {
			c["p"] = "sensor"
			c["state_class"] = "measurement"
		} else {
			step := r.Precision
			if step <= 0 {
				step = 1
			}
			c["p"] = "number"
			c["command_topic"] = ct
			c["command_template"] = fmt.Sprintf(`{"ranges":{%s:{{ value }}}}`, inst)
			c["min"], c["max"], c["step"] = r.Min, r.Max, step
			c["mode"] = "slider"
		}
		out[id] = c
	}
	for _, m := range t.Modes {
		inst, _ := json.Marshal(m.Instance)
		id := genericID(out, "mode", m.Instance)
		c := map[string]any{"unique_id": uid(id), "name": displayName(m.Names, m.Instance),
			"state_topic": st, "value_template": fmt.Sprintf("{{ value_json.modes[%s] }}", inst)}
		options := make([]string, 0, len(m.Values))
		for _, v := range m.Values {
			options = append(options, v.Value)
		}
		if m.NonControllable {
			c["p"] = "sensor"
			c["device_class"] = "enum"
			c["options"] = options
		} else {
			c["p"] = "select"
			c["command_topic"] = ct
			c["command_template"] = fmt.Sprintf(`{"modes":{%s:"{{ value }}"}}`, inst)
			c["options"] = options
		}
		out[id] = c
	}
	return out
}

// haUnit maps Alexa units of measure to Home Assistant units.
var haUnit = map[string]string{
	"Alexa.Unit.Percent":             "%",
	"Alexa.Unit.Temperature.Celsius": "°C",
	"Alexa.Unit.Angle.Degrees":       "°",
	"Alexa.Unit.Distance.Meters":     "m",
	"Alexa.Unit.Distance.Inches":     "in",
	"Alexa.Unit.Volume.Liters":       "L",
	"Alexa.Unit.Mass.Kilograms":      "kg",
}

// genericID is the component id of a generic trait instance: kind_slug, with a
// short hash when the slug is empty or taken.
func genericID(taken map[string]map[string]any, kind, instance string) string {
	id := kind + "_" + strings.Trim(unsafeRun.ReplaceAllString(instance, "_"), "_")
	if _, dup := taken[id]; dup || id == kind+"_" {
		sum := sha256.Sum256([]byte(instance))
		id += "_" + hex.EncodeToString(sum[:3])
	}
	return id
}

// displayName is a generic trait's first text name, else its instance.
func displayName(names []model.Name, instance string) string {
	for _, n := range names {
		if n.Text != "" {
			return n.Text
		}
	}
	return instance
}

// config is the device-based discovery payload of an endpoint.
func (l layout) config(node string, ep model.Endpoint, cmps map[string]map[string]any) map[string]any {
	dev := map[string]any{"identifiers": []string{l.objectID(node)}, "name": ep.FriendlyName}
	if ep.Manufacturer != "" {
		dev["manufacturer"] = ep.Manufacturer
	}
	if ep.Model != "" {
		dev["model"] = ep.Model
	}
	var cns [][2]string
	for _, c := range ep.Connections {
		switch {
		case c.Type == model.ConnectionZigbee && c.MACAddress != "":
			cns = append(cns, [2]string{"zigbee", c.MACAddress})
		case c.MACAddress != "":
			cns = append(cns, [2]string{"mac", c.MACAddress})
		}
	}
	if len(cns) > 0 {
		dev["connections"] = cns
	}
	origin := map[string]any{"name": OriginName}
	if l.swVersion != "" {
		origin["sw_version"] = l.swVersion
	}
	if l.supportURL != "" {
		origin["support_url"] = l.supportURL
	}
	return map[string]any{
		"dev": dev,
		"o":   origin,
		"availability": []map[string]string{
			{"topic": l.statusTopic()},
			{"topic": l.nodeTopic(node, leafAvailability)},
		},
		"availability_mode": "all",
		"qos":               l.qos,
		"cmps":              cmps,
	}
}

// state is the JSON state document of an endpoint.
func (l layout) state(n *node) map[string]any {
	e := n.entry
	t, s := e.Endpoint.Traits, e.State
	out := map[string]any{"reachable": e.Reachable}
	if n.cause != "" {
		out["cause"] = string(n.cause)
	}
	if !e.Updated.IsZero() {
		out["updated"] = e.Updated.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	if s.On != nil {
		out["state"] = onOff(*s.On)
	} else if t.OnOff != nil {
		out["state"] = nil // unknown
	}
	if s.Brightness != nil {
		out["brightness"] = *s.Brightness
	}
	if isLight(e.Endpoint) {
		out["color_mode"] = n.colorMode()
	}
	if s.Color != nil {
		out["color"] = map[string]any{"h": round(s.Color.Hue, 2), "s": round(s.Color.Saturation*100, 2)}
	}
	if s.ColorTemperature != nil {
		out["color_temp"] = *s.ColorTemperature
	}
	if s.Lock != "" {
		out["lock"] = string(s.Lock)
	}
	if th := s.Thermostat; th != nil && t.Thermostat != nil {
		if th.Mode == model.ModeEco {
			if b := ecoBase(t.Thermostat); b != "" {
				out["mode"] = haMode[b]
			}
		} else if m, ok := haMode[th.Mode]; ok {
			out["mode"] = m
		}
		if t.Thermostat.SupportsMode(model.ModeEco) {
			out["preset"] = "none"
			if th.Mode == model.ModeEco {
				out["preset"] = "eco"
			}
		}
		for k, v := range map[string]*float64{"temperature": th.Target, "temperature_low": th.Lower, "temperature_high": th.Upper} {
			if v != nil {
				out[k] = *v
			}
		}
	}
	if s.Temperature != nil {
		out["current_temperature"] = *s.Temperature
	}
	kindState(out, t, s)
	if len(s.Toggles) > 0 {
		tg := map[string]string{}
		for k, v := range s.Toggles {
			tg[k] = onOff(v)
		}
		out["toggles"] = tg
	}
	if len(s.Ranges) > 0 {
		out["ranges"] = s.Ranges
	}
	if len(s.Modes) > 0 {
		out["modes"] = s.Modes
	}
	return out
}

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
