package mqtt

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/avshub/avshub/discovery/colorconv"
	"github.com/avshub/avshub/discovery/model"
)

// haEntity is one Home Assistant MQTT discovery entity the bridge understands.
type haEntity struct {
	key      string // discovery key: "<component>/[<node>/]<object>" or "device/<id>/<component id>"
	platform string
	uniqueID string
	name     string
	named    bool // has its own name (null or absent: the device's main feature)
	device   haDevice
	origin   string
	avail    haAvail
	qos      byte
	retain   bool

	light   *haLight
	lock    *haLock
	climate *haClimate
	sensor  *haSensor
	sw      *haSwitch
	cover   *haCover
	fan     *haFan
	siren   *haSiren
	binary  *haBinary

	subs []haSub
}

type haDevice struct {
	key          string // first identifier, else first connection; "" when the entity has no device
	ids          []string
	conns        [][2]string
	name         string
	manufacturer string
	model        string
}

type haSub struct {
	topic string
	role  string
	tpl   *template
}

type haAvailEntry struct {
	topic    string
	on, off  string
	tpl      *template
	state    int8 // 0 unknown, 1 available, -1 not available
	sequence int
}

type haAvail struct {
	mode    string // all, any, latest
	entries []haAvailEntry
	seq     int
}

// available evaluates availability_mode over what has been received; an entity
// without availability topics is always available.
func (a *haAvail) available() bool {
	if len(a.entries) == 0 {
		return true
	}
	switch a.mode {
	case "all":
		for _, e := range a.entries {
			if e.state != 1 {
				return false
			}
		}
		return true
	case "any":
		for _, e := range a.entries {
			if e.state == 1 {
				return true
			}
		}
		return false
	default: // latest
		best := -1
		st := int8(0)
		for _, e := range a.entries {
			if e.state != 0 && e.sequence > best {
				best, st = e.sequence, e.state
			}
		}
		return st == 1
	}
}

type haLight struct {
	json         bool
	cmdTopic     string
	payloadOn    string
	payloadOff   string
	brightScale  float64
	bright       bool
	briCmdTopic  string
	briCmdTpl    *template
	ct           bool
	ctKelvin     bool
	ctCmdTopic   string
	ctCmdTpl     *template
	minK, maxK   int
	colorMode    string // hs, xy, rgb (the form commands use)
	colorTopic   string // default schema: hs/xy/rgb command topic
	colorCmdTpl  *template
	hasStateTopc bool
	// last commanded kelvin and the mireds sent for it (see z2mUnit.ctHintK)
	ctHintK, ctHintSent int
}

// kelvin converts a reported colour temperature to kelvin, preferring the
// commanded value when the device reports exactly what was sent.
func (l *haLight) kelvin(n float64) int {
	v := int(math.Round(n))
	if l.ctKelvin {
		return v
	}
	if l.ctHintK > 0 && v == l.ctHintSent {
		return l.ctHintK
	}
	return miredToKelvin(v)
}

type haLock struct {
	cmdTopic                  string
	cmdTpl                    *template
	payloadLock, payloadUnlck string
	stLocked, stUnlocked      string
	stJammed                  string
	stLocking, stUnlocking    string
}

type haSwitch struct {
	cmdTopic          string
	payloadOn, payOff string
	stateOn, stateOff string
}

type haClimate struct {
	fahrenheit     bool
	modes          map[model.ThermostatMode]string
	modeOrder      []model.ThermostatMode
	modeCmdTopic   string
	modeCmdTpl     *template
	tempCmdTopic   string
	tempCmdTpl     *template
	lowCmdTopic    string
	lowCmdTpl      *template
	highCmdTopic   string
	highCmdTpl     *template
	min, max, step float64
	current        bool
}

type haSensor struct {
	fahrenheit bool
	kind       readingKind // 0: temperature
	scale      float64     // a reading's unit to the trait's
	quantity   string      // readMeasure: the key of model.Quantities
}

var haModes = map[string]model.ThermostatMode{"heat": model.ModeHeat, "cool": model.ModeCool,
	"auto": model.ModeAuto, "heat_cool": model.ModeAuto, "off": model.ModeOff}

// parseHAEntity builds an entity from an expanded config. It returns an error
// that says why the entity is not bridged.
func parseHAEntity(key, platform string, cfg map[string]any) (*haEntity, error) {
	r := &cfgReader{m: cfg}
	e := &haEntity{key: key, platform: platform, uniqueID: r.str("unique_id", "")}
	if n, ok := cfg["name"]; ok && n != nil {
		e.name, e.named = r.str("name", ""), true
	}
	if o, ok := cfg["origin"].(map[string]any); ok {
		e.origin, _ = o["name"].(string)
	}
	if d, ok := cfg["device"].(map[string]any); ok {
		dr := &cfgReader{m: d}
		e.device.name = dr.str("name", "")
		e.device.manufacturer = dr.str("manufacturer", "")
		e.device.model = dr.str("model", "")
		switch ids := d["identifiers"].(type) {
		case string:
			e.device.ids = []string{ids}
		case []any:
			for _, id := range ids {
				if s, ok := id.(string); ok {
					e.device.ids = append(e.device.ids, s)
				}
			}
		}
		if cns, ok := d["connections"].([]any); ok {
			for _, c := range cns {
				if pair, ok := c.([]any); ok && len(pair) == 2 {
					a, _ := pair[0].(string)
					b, _ := pair[1].(string)
					e.device.conns = append(e.device.conns, [2]string{a, b})
				}
			}
		}
		switch {
		case len(e.device.ids) > 0:
			e.device.key = "id:" + e.device.ids[0]
		case len(e.device.conns) > 0:
			e.device.key = "cn:" + e.device.conns[0][0] + "=" + strings.ToLower(e.device.conns[0][1])
		}
		r.errs = append(r.errs, dr.errs...)
	}
	if why := isRemoteEntity(platform); why != "" {
		return e, &notImported{why}
	}
	if skip := notAFunction(e, cfg); skip != "" && !isBattery(platform, cfg) {
		return e, &notImported{skip}
	}
	q := r.num("qos", 0)
	if q >= 0 && q <= 2 {
		e.qos = byte(q)
	}
	e.retain = r.boolean("retain", false)
	if err := e.parseAvailability(r); err != nil {
		return e, err
	}
	var err error
	switch platform {
	case "light":
		err = e.parseLight(r)
	case "lock":
		err = e.parseLock(r)
	case "switch":
		err = e.parseSwitch(r)
	case "climate":
		err = e.parseClimate(r)
	case "sensor":
		dc := r.str("device_class", "")
		if k, ok := haSensorClasses[dc]; ok {
			err = e.parseReadingSensor(r, k)
		} else if qs, ok := haMeasureClasses[dc]; ok {
			err = e.parseMeasureSensor(r, dc, qs)
		} else if dc == "" && e.fromZigbee2MQTT() {
			err = e.parseZ2MSensor(r)
		} else {
			err = e.parseSensor(r)
		}
	case "binary_sensor":
		err = e.parseBinarySensor(r)
	case "cover":
		err = e.parseCover(r)
	case "fan":
		err = e.parseFan(r)
	case "siren":
		err = e.parseSiren(r)
	case "select":
		err = e.parseZ2MSelect(r)
	default:
		return e, fmt.Errorf("platform %q is not bridged", platform)
	}
	if err != nil && len(r.errs) > 0 {
		return e, fmt.Errorf("%w (bad config: %s)", err, strings.Join(r.errs, "; "))
	}
	if err != nil {
		return e, err
	}
	if len(r.errs) > 0 {
		return e, fmt.Errorf("bad config: %s", strings.Join(r.errs, "; "))
	}
	if e.sw != nil && e.fromZigbee2MQTT() {
		switch p := e.switchProperty(); {
		case p == "alarm" || p == "siren_on":
			// zigbee2mqtt publishes a settable binary "alarm" (a siren's or
			// a detector's sounder) as a switch: it is the device's siren,
			// as the zigbee2mqtt source judges (parseZ2MSiren).
			e.siren = &haSiren{cmdTopic: e.sw.cmdTopic, payloadOn: e.sw.payloadOn, payOff: e.sw.payOff, stateOn: e.sw.stateOn, stateOff: e.sw.stateOff}
			e.sw = nil
			e.nameByDevice()
		case p == "contact":
			// A settable binary "contact" is still the contact reading
			// (zigbee2mqtt's contact is true when closed: open is off).
			e.binary = &haBinary{kind: readContact, on: e.sw.stateOff, off: e.sw.stateOn}
			e.sw = nil
		case p != "" && settingProperty(p):
			return e, &notImported{fmt.Sprintf("a setting (%s) zigbee2mqtt publishes as a switch, not a function", p)}
		}
	}
	return e, nil
}

// valueProperty is the value_json property an entity's first state topic
// reads plainly (templateProperty), "" when none.
func (e *haEntity) valueProperty() string {
	if len(e.subs) == 0 {
		return ""
	}
	return e.subs[0].tpl.property()
}

// switchProperty is the property of value_json a switch's state template
// reads, "" when it reads none plainly.
func (e *haEntity) switchProperty() string {
	if e.sw == nil || len(e.subs) == 0 {
		return ""
	}
	return e.subs[0].tpl.property()
}

// z2mHeatCool reports whether the entity is a zigbee2mqtt climate of a
// heating and a cooling setpoint (occupied_heating_setpoint and
// occupied_cooling_setpoint), which zigbee2mqtt's discovery gives as the
// low and high topics only. The zigbee2mqtt source takes one target for
// it, the heating setpoint (the cooling one in COOL), and both only in
// AUTO; so does the Home Assistant source (traits, command, z2mTarget).
func (e *haEntity) z2mHeatCool() bool {
	c := e.climate
	return c != nil && c.tempCmdTopic == "" && c.lowCmdTopic != "" && c.highCmdTopic != "" && e.fromZigbee2MQTT()
}

// z2mTarget is s as the zigbee2mqtt source reads a z2mHeatCool
// thermostat: outside AUTO, its target is the heating setpoint (the
// cooling one in COOL) and it has no lower and upper.
func (e *haEntity) z2mTarget(s model.State) model.State {
	if !e.z2mHeatCool() || s.Thermostat == nil {
		return s
	}
	ts := *s.Thermostat
	if ts.Mode == model.ModeAuto && e.climate.modes[model.ModeAuto] != "" {
		return s
	}
	switch {
	case ts.Mode == model.ModeCool && ts.Upper != nil:
		ts.Target = ts.Upper
	case ts.Lower != nil:
		ts.Target = ts.Lower
	}
	ts.Lower, ts.Upper = nil, nil
	s.Thermostat = &ts
	return s
}

// fromZigbee2MQTT reports whether zigbee2mqtt published the entity's config:
// its origin, or its device's zigbee2mqtt_<ieee> identifier. zigbee2mqtt's
// own rules (settingProperty, internal temperatures) apply only to these;
// another source's plain switch is a function.
func (e *haEntity) fromZigbee2MQTT() bool {
	if strings.EqualFold(e.origin, "Zigbee2MQTT") {
		return true
	}
	return len(e.device.ids) > 0 && strings.HasPrefix(e.device.ids[0], "zigbee2mqtt_")
}

// notImported is why an entity that is valid is still not imported.
type notImported struct{ reason string }

func (n *notImported) Error() string { return n.reason }

// notAFunction says why an entity is not one of its device's functions:
// settings and diagnostics (entity_category config or diagnostic, as
// zigbee2mqtt marks child lock, indicator, window detection, device
// temperature and their like) and the entities of zigbee2mqtt's own bridge
// device (permit join, restart, log level, version).
func notAFunction(e *haEntity, cfg map[string]any) string {
	switch c, _ := cfg["entity_category"].(string); c {
	case "config":
		return "a setting (entity_category config), not a function"
	case "diagnostic":
		return "diagnostic (entity_category diagnostic), not a function"
	}
	bridgeID := false
	for _, id := range e.device.ids {
		bridgeID = bridgeID || strings.HasPrefix(id, "zigbee2mqtt_bridge_")
	}
	if bridgeID || (e.device.manufacturer == "Zigbee2MQTT" && e.device.model == "Bridge") {
		return "zigbee2mqtt's own bridge entity, not a device"
	}
	return ""
}

func (e *haEntity) parseAvailability(r *cfgReader) error {
	e.avail.mode = r.str("availability_mode", "latest")
	switch e.avail.mode {
	case "all", "any", "latest":
	default:
		return fmt.Errorf("availability_mode %q is not all, any or latest", e.avail.mode)
	}
	if t := r.topic("availability_topic"); t != "" {
		tpl, err := r.tmpl("availability_template")
		if err != nil {
			return err
		}
		e.avail.entries = append(e.avail.entries, haAvailEntry{topic: t, on: r.str("payload_available", "online"),
			off: r.str("payload_not_available", "offline"), tpl: tpl})
	}
	if v, ok := r.m["availability"]; ok && v != nil {
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("availability must be a list")
		}
		for _, x := range list {
			m, ok := x.(map[string]any)
			if !ok {
				return fmt.Errorf("availability entries must be objects")
			}
			ar := &cfgReader{m: m}
			t := ar.topic("topic")
			if t == "" {
				return fmt.Errorf("availability entry without topic")
			}
			tpl, err := ar.tmpl("value_template")
			if err != nil {
				return err
			}
			e.avail.entries = append(e.avail.entries, haAvailEntry{topic: t, on: ar.str("payload_available", "online"),
				off: ar.str("payload_not_available", "offline"), tpl: tpl})
			r.errs = append(r.errs, ar.errs...)
		}
	}
	return nil
}

func (e *haEntity) sub(topic, role string, tpl *template) {
	if topic != "" {
		e.subs = append(e.subs, haSub{topic: topic, role: role, tpl: tpl})
	}
}

func (e *haEntity) parseLight(r *cfgReader) error {
	l := &haLight{cmdTopic: r.topic("command_topic"), brightScale: r.num("brightness_scale", 255)}
	if l.cmdTopic == "" {
		return fmt.Errorf("light without command_topic")
	}
	if l.brightScale <= 0 {
		return fmt.Errorf("brightness_scale must be positive")
	}
	schema := r.str("schema", "default")
	modes := r.strs("supported_color_modes")
	l.minK, l.maxK = 2000, 6535
	if r.has("min_mireds") || r.has("max_mireds") {
		l.minK = miredToKelvin(int(r.num("max_mireds", 500)))
		l.maxK = miredToKelvin(int(r.num("min_mireds", 153)))
	}
	if r.has("min_kelvin") || r.has("max_kelvin") {
		l.minK, l.maxK = int(r.num("min_kelvin", 2000)), int(r.num("max_kelvin", 6535))
	}
	l.ctKelvin = r.boolean("color_temp_kelvin", false)
	switch schema {
	case "json":
		l.json = true
		if len(modes) == 0 {
			// Deprecated flags of older JSON-schema lights.
			for _, f := range []string{"brightness", "color_temp", "hs", "xy", "rgb"} {
				if r.boolean(f, false) {
					modes = append(modes, f)
				}
			}
		}
		l.bright = r.boolean("brightness", false)
		for _, m := range modes {
			switch m {
			case "brightness", "white":
				l.bright = true
			case "color_temp":
				l.ct, l.bright = true, true
			case "hs", "xy", "rgb", "rgbw", "rgbww":
				l.bright = true
				if l.colorMode == "" || m == "hs" || (m == "xy" && l.colorMode != "hs") {
					l.colorMode = m
				}
			}
		}
		if l.colorMode == "rgbw" || l.colorMode == "rgbww" {
			l.colorMode = "rgb"
		}
		if st := r.topic("state_topic"); st != "" {
			e.sub(st, "json", nil)
			l.hasStateTopc = true
		}
	case "default", "basic":
		l.payloadOn, l.payloadOff = r.str("payload_on", "ON"), r.str("payload_off", "OFF")
		key := "state_value_template"
		if !r.has(key) {
			key = "value_template" // Tasmota's legacy discovery puts it here
		}
		stpl, err := r.tmpl(key)
		if err != nil {
			return err
		}
		if st := r.topic("state_topic"); st != "" {
			e.sub(st, "state", stpl)
			l.hasStateTopc = true
		}
		if t := r.topic("brightness_command_topic"); t != "" {
			l.bright, l.briCmdTopic = true, t
			if l.briCmdTpl, err = r.tmpl("brightness_command_template"); err != nil {
				return err
			}
			tpl, err := r.tmpl("brightness_value_template")
			if err != nil {
				return err
			}
			e.sub(r.topic("brightness_state_topic"), "brightness", tpl)
		}
		if t := r.topic("color_temp_command_topic"); t != "" {
			l.ct, l.ctCmdTopic = true, t
			if l.ctCmdTpl, err = r.tmpl("color_temp_command_template"); err != nil {
				return err
			}
			tpl, err := r.tmpl("color_temp_value_template")
			if err != nil {
				return err
			}
			e.sub(r.topic("color_temp_state_topic"), "color_temp", tpl)
		}
		for _, cm := range []string{"hs", "xy", "rgb"} {
			t := r.topic(cm + "_command_topic")
			if t == "" {
				continue
			}
			tpl, err := r.tmpl(cm + "_value_template")
			if err != nil {
				return err
			}
			e.sub(r.topic(cm+"_state_topic"), cm, tpl)
			if l.colorMode == "" {
				l.colorMode, l.colorTopic = cm, t
				if l.colorCmdTpl, err = r.tmpl(cm + "_command_template"); err != nil {
					return err
				}
			}
		}
	default:
		return fmt.Errorf("light schema %q is not supported (template schema needs Jinja)", schema)
	}
	e.light = l
	return nil
}

func (e *haEntity) parseLock(r *cfgReader) error {
	l := &haLock{cmdTopic: r.topic("command_topic"), payloadLock: r.str("payload_lock", "LOCK"), payloadUnlck: r.str("payload_unlock", "UNLOCK"),
		stLocked: r.str("state_locked", "LOCKED"), stUnlocked: r.str("state_unlocked", "UNLOCKED"), stJammed: r.str("state_jammed", "JAMMED"),
		stLocking: r.str("state_locking", "LOCKING"), stUnlocking: r.str("state_unlocking", "UNLOCKING")}
	if l.cmdTopic == "" {
		return fmt.Errorf("lock without command_topic")
	}
	var err error
	if l.cmdTpl, err = r.tmpl("command_template"); err != nil {
		return err
	}
	tpl, err := r.tmpl("value_template")
	if err != nil {
		return err
	}
	e.sub(r.topic("state_topic"), "state", tpl)
	e.lock = l
	return nil
}

func (e *haEntity) parseSwitch(r *cfgReader) error {
	s := &haSwitch{cmdTopic: r.topic("command_topic"), payloadOn: r.str("payload_on", "ON"), payOff: r.str("payload_off", "OFF")}
	if s.cmdTopic == "" {
		return fmt.Errorf("switch without command_topic")
	}
	s.stateOn, s.stateOff = r.str("state_on", s.payloadOn), r.str("state_off", s.payOff)
	tpl, err := r.tmpl("value_template")
	if err != nil {
		return err
	}
	e.sub(r.topic("state_topic"), "state", tpl)
	e.sw = s
	return nil
}

func (e *haEntity) parseClimate(r *cfgReader) error {
	c := &haClimate{modes: map[model.ThermostatMode]string{}, fahrenheit: strings.EqualFold(strings.TrimPrefix(r.str("temperature_unit", "C"), "°"), "F")}
	defMin, defMax := 7.0, 35.0
	if c.fahrenheit {
		defMin, defMax = 44.6, 95
	}
	c.min, c.max = r.num("min_temp", defMin), r.num("max_temp", defMax)
	c.step = r.num("temp_step", r.num("precision", 0.5))
	if c.fahrenheit {
		c.min, c.max = round(fToC(c.min), 1), round(fToC(c.max), 1)
		c.step = 0.5
	}
	if c.step <= 0 {
		c.step = 0.5
	}
	if c.max <= c.min {
		return fmt.Errorf("max_temp %g is not above min_temp %g", c.max, c.min)
	}
	modes := r.strs("modes")
	if !r.has("modes") {
		modes = []string{"auto", "off", "cool", "heat", "dry", "fan_only"}
	}
	for _, m := range modes {
		if am, ok := haModes[m]; ok && c.modes[am] == "" {
			c.modes[am] = m
			c.modeOrder = append(c.modeOrder, am)
		}
	}
	var err error
	c.modeCmdTopic = r.topic("mode_command_topic")
	if c.modeCmdTpl, err = r.tmpl("mode_command_template"); err != nil {
		return err
	}
	c.tempCmdTopic = r.topic("temperature_command_topic")
	if c.tempCmdTpl, err = r.tmpl("temperature_command_template"); err != nil {
		return err
	}
	c.lowCmdTopic, c.highCmdTopic = r.topic("temperature_low_command_topic"), r.topic("temperature_high_command_topic")
	if c.lowCmdTpl, err = r.tmpl("temperature_low_command_template"); err != nil {
		return err
	}
	if c.highCmdTpl, err = r.tmpl("temperature_high_command_template"); err != nil {
		return err
	}
	if c.modeCmdTopic == "" && c.tempCmdTopic == "" && c.lowCmdTopic == "" {
		return fmt.Errorf("climate without mode_command_topic or temperature_command_topic")
	}
	if c.modeCmdTopic == "" && len(c.modeOrder) != 1 {
		// Without a mode topic the mode cannot be changed: keep the one it runs in.
		c.modeOrder = []model.ThermostatMode{model.ModeHeat}
		c.modes = map[model.ThermostatMode]string{model.ModeHeat: "heat"}
	}
	for _, s := range []struct{ topic, tpl, role string }{
		{"mode_state_topic", "mode_state_template", "mode"},
		{"temperature_state_topic", "temperature_state_template", "target"},
		{"temperature_low_state_topic", "temperature_low_state_template", "low"},
		{"temperature_high_state_topic", "temperature_high_state_template", "high"},
		{"current_temperature_topic", "current_temperature_template", "current"},
	} {
		tpl, err := r.tmpl(s.tpl)
		if err != nil {
			return err
		}
		e.sub(r.topic(s.topic), s.role, tpl)
	}
	c.current = r.topic("current_temperature_topic") != ""
	e.climate = c
	return nil
}

func (e *haEntity) parseSensor(r *cfgReader) error {
	if dc := r.str("device_class", ""); dc != "temperature" {
		return fmt.Errorf("sensor with device_class %q is not bridged", dc)
	}
	unit := strings.TrimPrefix(r.str("unit_of_measurement", "°C"), "°")
	s := &haSensor{fahrenheit: strings.EqualFold(unit, "F")}
	if !s.fahrenheit && !strings.EqualFold(unit, "C") {
		return fmt.Errorf("temperature unit %q is not °C or °F", unit)
	}
	if err := e.subValue(r, "sensor"); err != nil {
		return err
	}
	e.sensor = s
	return nil
}

// traits returns the entity's traits and display category.
func (e *haEntity) traits() (model.Traits, model.Category) {
	if t, c, ok := e.kindTraits(); ok {
		return t, c
	}
	var t model.Traits
	switch {
	case e.light != nil:
		l := e.light
		t.OnOff = &model.OnOff{}
		if l.bright {
			t.Brightness = &model.Brightness{}
		}
		if l.ct {
			t.ColorTemperature = &model.ColorTemperature{MinKelvin: l.minK, MaxKelvin: l.maxK}
		}
		if l.colorMode != "" {
			t.Color = &model.Color{}
		}
		return t, model.CategoryLight
	case e.lock != nil:
		t.Lock = &model.Lock{}
		return t, model.CategorySmartLock
	case e.sw != nil:
		t.OnOff = &model.OnOff{}
		return t, model.CategorySwitch
	case e.climate != nil:
		c := e.climate
		t.Thermostat = &model.Thermostat{Modes: slices.Clone(c.modeOrder), MinC: c.min, MaxC: c.max, StepC: c.step,
			TargetSetpoint: c.tempCmdTopic != "", DualSetpoints: c.lowCmdTopic != "" && c.highCmdTopic != "", Scale: "CELSIUS"}
		if e.z2mHeatCool() {
			// as the zigbee2mqtt source: one target (the heating setpoint,
			// the cooling one in COOL), both only in AUTO
			t.Thermostat.TargetSetpoint = true
			t.Thermostat.DualSetpoints = c.modes[model.ModeAuto] != ""
		}
		if c.fahrenheit {
			t.Thermostat.Scale = "FAHRENHEIT"
		}
		if t.Thermostat.DualSetpoints {
			t.Thermostat.MinDeltaC = 1
		}
		if c.current {
			t.TemperatureSensor = &model.TemperatureSensor{}
		}
		return t, model.CategoryThermostat
	case e.sensor != nil:
		t.TemperatureSensor = &model.TemperatureSensor{}
		return t, model.CategoryTemperatureSensor
	}
	return t, model.CategoryOther
}

// onMessage turns a message on one of the entity's state topics into a state
// change. A template that finds nothing (undefined) is not an error.
func (e *haEntity) onMessage(sub haSub, payload []byte) (model.State, error) {
	var s model.State
	if sub.role == "json" {
		return e.light.parseJSONState(payload)
	}
	v, err := sub.tpl.render(payload)
	if err == errUndefined {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	v = strings.TrimSpace(v)
	if ks, ok, err := e.kindMessage(sub.role, v); ok {
		return ks, err
	}
	num := func() (float64, error) {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, fmt.Errorf("%s value %q is not a number", sub.role, v)
		}
		return n, nil
	}
	switch {
	case e.light != nil:
		l := e.light
		switch sub.role {
		case "state":
			switch v {
			case l.payloadOn:
				s.On = model.Ptr(true)
			case l.payloadOff:
				s.On = model.Ptr(false)
			case "", "None":
			default:
				return s, fmt.Errorf("state %q is neither %q nor %q", v, l.payloadOn, l.payloadOff)
			}
		case "brightness":
			n, err := num()
			if err != nil {
				return s, err
			}
			s.Brightness = model.Ptr(clampInt(int(math.Round(n*100/l.brightScale)), 0, 100))
		case "color_temp":
			n, err := num()
			if err != nil || n <= 0 {
				return s, fmt.Errorf("color_temp %q is not a positive number", v)
			}
			s.ColorTemperature = model.Ptr(l.kelvin(n))
		case "hs", "xy", "rgb":
			parts := strings.Split(v, ",")
			want := 2
			if sub.role == "rgb" {
				want = 3
			}
			if len(parts) != want {
				return s, fmt.Errorf("%s value %q does not have %d parts", sub.role, v, want)
			}
			f := make([]float64, want)
			for i, p := range parts {
				n, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
				if err != nil {
					return s, fmt.Errorf("%s value %q is not numbers", sub.role, v)
				}
				f[i] = n
			}
			var h, sat float64
			switch sub.role {
			case "hs":
				h, sat = f[0], f[1]/100
			case "xy":
				h, sat = xyToHS(f[0], f[1])
			case "rgb":
				h, sat, _ = colorconv.RGBToHSV(f[0]/255, f[1]/255, f[2]/255)
			}
			s.Color = &model.HSB{Hue: round(math.Mod(math.Max(h, 0), 360), 1), Saturation: round(math.Max(0, math.Min(1, sat)), 3), Brightness: 1}
		}
	case e.lock != nil:
		l := e.lock
		switch v {
		case l.stLocked:
			s.Lock = model.Locked
		case l.stUnlocked:
			s.Lock = model.Unlocked
		case l.stJammed:
			s.Lock = model.Jammed
		case l.stLocking, l.stUnlocking, "", "None":
		default:
			return s, fmt.Errorf("lock state %q is not one of the configured states", v)
		}
	case e.sw != nil:
		switch v {
		case e.sw.stateOn:
			s.On = model.Ptr(true)
		case e.sw.stateOff:
			s.On = model.Ptr(false)
		case "", "None":
		default:
			return s, fmt.Errorf("switch state %q is neither %q nor %q", v, e.sw.stateOn, e.sw.stateOff)
		}
	case e.climate != nil:
		c := e.climate
		if sub.role == "mode" {
			am, ok := haModes[v]
			if !ok || c.modes[am] == "" {
				return s, fmt.Errorf("mode %q is not one of the thermostat's modes", v)
			}
			s.Thermostat = &model.ThermostatState{Mode: am}
			return s, nil
		}
		if v == "" || v == "None" {
			return s, nil
		}
		n, err := num()
		if err != nil {
			return s, err
		}
		if c.fahrenheit {
			n = round(fToC(n), 2)
		}
		switch sub.role {
		case "target":
			s.Thermostat = &model.ThermostatState{Target: &n}
		case "low":
			s.Thermostat = &model.ThermostatState{Lower: &n}
		case "high":
			s.Thermostat = &model.ThermostatState{Upper: &n}
		case "current":
			s.Temperature = &n
		}
	case e.sensor != nil:
		if v == "" || v == "None" || v == "unknown" || v == "unavailable" {
			return s, nil
		}
		n, err := num()
		if err != nil {
			return s, err
		}
		if e.sensor.fahrenheit {
			n = round(fToC(n), 2)
		}
		s.Temperature = &n
	}
	return s, nil
}

func (l *haLight) parseJSONState(payload []byte) (model.State, error) {
	var s model.State
	m, err := decodeObject(payload)
	if err != nil {
		return s, err
	}
	switch v := m["state"]; v {
	case "ON":
		s.On = model.Ptr(true)
	case "OFF":
		s.On = model.Ptr(false)
	case nil:
	default:
		return s, fmt.Errorf("state %v is neither ON nor OFF", v)
	}
	if v, ok := m["brightness"]; ok && v != nil && l.bright {
		n, ok := asNumber(v)
		if !ok {
			return s, fmt.Errorf("brightness %v is not a number", v)
		}
		s.Brightness = model.Ptr(clampInt(int(math.Round(n*100/l.brightScale)), 0, 100))
	}
	mode, _ := m["color_mode"].(string)
	if v, ok := m["color_temp"]; ok && v != nil && l.ct && (mode == "" || mode == "color_temp") {
		n, ok := asNumber(v)
		if !ok || n <= 0 {
			return s, fmt.Errorf("color_temp %v is not a positive number", v)
		}
		s.ColorTemperature = model.Ptr(l.kelvin(n))
	}
	if c, ok := m["color"].(map[string]any); ok && l.colorMode != "" && mode != "color_temp" {
		if hsb, ok := parseZ2MColor(c); ok {
			s.Color = &hsb
		} else if r, rok := asNumber(c["r"]); rok {
			g, _ := asNumber(c["g"])
			b, _ := asNumber(c["b"])
			h, sat, _ := colorconv.RGBToHSV(r/255, g/255, b/255)
			s.Color = &model.HSB{Hue: round(h, 1), Saturation: round(sat, 3)}
		}
		if s.Color != nil {
			s.Color.Brightness = 1
			if s.Brightness != nil {
				s.Color.Brightness = float64(*s.Brightness) / 100
			}
		}
	}
	return s, nil
}

// command builds the messages for one validated command.
func (e *haEntity) command(c model.Command, cur model.State) ([]outMsg, error) {
	msg := func(topic string, tpl *template, v string) ([]outMsg, error) {
		p, err := tpl.renderValue(v)
		if err != nil {
			return nil, &model.Error{Kind: model.ErrInternal, Message: err.Error()}
		}
		return []outMsg{{topic: topic, payload: []byte(p), retain: e.retain}}, nil
	}
	if out, ok, err := e.kindCommand(c, msg); ok {
		return out, err
	}
	switch {
	case e.light != nil:
		return e.light.command(c, e.retain, msg)
	case e.lock != nil && c.Trait == model.TraitLock:
		v := e.lock.payloadUnlck
		if c.Lock == model.Locked {
			v = e.lock.payloadLock
		}
		return msg(e.lock.cmdTopic, e.lock.cmdTpl, v)
	case e.sw != nil && c.Trait == model.TraitOnOff:
		v := e.sw.payOff
		if *c.Power {
			v = e.sw.payloadOn
		}
		return msg(e.sw.cmdTopic, nil, v)
	case e.climate != nil && c.Trait == model.TraitThermostat:
		cl := e.climate
		t := c.Thermostat
		var out []outMsg
		add := func(topic string, tpl *template, v string) error {
			m, err := msg(topic, tpl, v)
			out = append(out, m...)
			return err
		}
		temp := func(v float64) string {
			v = math.Round(v/cl.step) * cl.step
			if cl.fahrenheit {
				v = math.Round(cToF(v)*2) / 2
			}
			return strconv.FormatFloat(round(v, 2), 'f', -1, 64)
		}
		if t.Mode != "" {
			if cl.modeCmdTopic == "" {
				if cl.modes[t.Mode] == "" {
					return nil, &model.Error{Kind: model.ErrUnsupportedThermostatMode, Message: fmt.Sprintf("the thermostat has no %s mode", t.Mode)}
				}
			} else if err := add(cl.modeCmdTopic, cl.modeCmdTpl, cl.modes[t.Mode]); err != nil {
				return nil, err
			}
		}
		if t.Target != nil && cl.tempCmdTopic != "" {
			if err := add(cl.tempCmdTopic, cl.tempCmdTpl, temp(*t.Target)); err != nil {
				return nil, err
			}
		}
		if t.Target != nil && e.z2mHeatCool() {
			mode := t.Mode
			if mode == "" && cur.Thermostat != nil {
				mode = cur.Thermostat.Mode
			}
			topic, tpl := cl.lowCmdTopic, cl.lowCmdTpl
			if mode == model.ModeCool {
				topic, tpl = cl.highCmdTopic, cl.highCmdTpl
			}
			if err := add(topic, tpl, temp(*t.Target)); err != nil {
				return nil, err
			}
		}
		if t.Lower != nil && cl.lowCmdTopic != "" {
			if err := add(cl.lowCmdTopic, cl.lowCmdTpl, temp(*t.Lower)); err != nil {
				return nil, err
			}
		}
		if t.Upper != nil && cl.highCmdTopic != "" {
			if err := add(cl.highCmdTopic, cl.highCmdTpl, temp(*t.Upper)); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, notSupported(c)
}

func (l *haLight) command(c model.Command, retain bool, msg func(string, *template, string) ([]outMsg, error)) ([]outMsg, error) {
	if l.json {
		p := map[string]any{"state": "ON"}
		switch c.Trait {
		case model.TraitOnOff:
			if !*c.Power {
				p["state"] = "OFF"
			}
		case model.TraitBrightness:
			if !l.bright {
				return nil, notSupported(c)
			}
			if *c.Brightness == 0 {
				p["state"] = "OFF"
			} else {
				p["brightness"] = int(math.Round(float64(*c.Brightness) * l.brightScale / 100))
			}
		case model.TraitColorTemperature:
			if !l.ct {
				return nil, notSupported(c)
			}
			k := clampInt(*c.ColorTemperature, l.minK, l.maxK)
			if l.ctKelvin {
				p["color_temp"] = k
			} else {
				p["color_temp"] = kelvinToMired(k)
				l.ctHintK, l.ctHintSent = k, kelvinToMired(k)
			}
		case model.TraitColor:
			switch l.colorMode {
			case "hs":
				p["color"] = map[string]any{"h": round(c.Color.Hue, 1), "s": round(c.Color.Saturation*100, 1)}
			case "xy":
				x, y := hsToXY(c.Color.Hue, c.Color.Saturation, nil)
				p["color"] = map[string]any{"x": x, "y": y}
			case "rgb":
				r, g, b := colorconv.HSVToRGB(c.Color.Hue, c.Color.Saturation, 1)
				p["color"] = map[string]any{"r": int(math.Round(r * 255)), "g": int(math.Round(g * 255)), "b": int(math.Round(b * 255))}
			default:
				return nil, notSupported(c)
			}
		default:
			return nil, notSupported(c)
		}
		b, _ := json.Marshal(p)
		return []outMsg{{topic: l.cmdTopic, payload: b, retain: retain}}, nil
	}
	switch c.Trait {
	case model.TraitOnOff:
		v := l.payloadOff
		if *c.Power {
			v = l.payloadOn
		}
		return msg(l.cmdTopic, nil, v)
	case model.TraitBrightness:
		if l.briCmdTopic == "" {
			return nil, notSupported(c)
		}
		if *c.Brightness == 0 {
			return msg(l.cmdTopic, nil, l.payloadOff)
		}
		return msg(l.briCmdTopic, l.briCmdTpl, strconv.Itoa(int(math.Round(float64(*c.Brightness)*l.brightScale/100))))
	case model.TraitColorTemperature:
		if l.ctCmdTopic == "" {
			return nil, notSupported(c)
		}
		k := clampInt(*c.ColorTemperature, l.minK, l.maxK)
		v := kelvinToMired(k)
		if l.ctKelvin {
			v = k
		} else {
			l.ctHintK, l.ctHintSent = k, v
		}
		return msg(l.ctCmdTopic, l.ctCmdTpl, strconv.Itoa(v))
	case model.TraitColor:
		var v string
		switch l.colorMode {
		case "hs":
			v = fmt.Sprintf("%s,%s", ftoa(round(c.Color.Hue, 1)), ftoa(round(c.Color.Saturation*100, 1)))
		case "xy":
			x, y := hsToXY(c.Color.Hue, c.Color.Saturation, nil)
			v = fmt.Sprintf("%s,%s", ftoa(x), ftoa(y))
		case "rgb":
			r, g, b := colorconv.HSVToRGB(c.Color.Hue, c.Color.Saturation, 1)
			v = fmt.Sprintf("%d,%d,%d", int(math.Round(r*255)), int(math.Round(g*255)), int(math.Round(b*255)))
		default:
			return nil, notSupported(c)
		}
		return msg(l.colorTopic, l.colorCmdTpl, v)
	}
	return nil, notSupported(c)
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func fToC(f float64) float64 { return (f - 32) * 5 / 9 }

func cToF(c float64) float64 { return c*9/5 + 32 }
