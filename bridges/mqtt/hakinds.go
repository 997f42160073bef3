package mqtt

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/avshub/avshub/discovery/model"
)

// The Home Assistant side of the cover, sensor, metering, fan and siren
// traits: MQTT discovery's cover, binary_sensor, sensor (besides
// temperature), fan and siren platforms.

// haCover is a cover entity.
type haCover struct {
	cmdTopic              string
	payloadOpen, payClose string
	payStop               string // payload_stop ("": null, the cover cannot stop)
	stOpen, stClosed      string
	posTopic              bool // a position_topic reports the position
	setPosTopic           string
	setPosTpl             *template
	posOpen, posClosed    float64
	hasState              bool
	// The slats' tilt (tilt_command_topic; "": none or not bridged): the
	// tilt trait's 0 (closed) … 100 (open) is tilt_closed_value …
	// tilt_opened_value, which must be the two ends of tilt_min–tilt_max.
	tiltCmdTopic          string
	tiltCmdTpl            *template
	tiltOpened, tiltClose float64
	tiltWhy               string // why a tilt_command_topic's tilt is not bridged
}

// haFan is a fan entity: on/off, and a percentage when its template is one
// the bridge evaluates.
type haFan struct {
	cmdTopic          string
	cmdTpl            *template
	payloadOn, payOff string
	stateOn, stateOff string
	pctTopic          string
	pctTpl            *template
	min, max          float64 // speed_range_min/max
	// modes are zigbee2mqtt's named speeds (fan_mode) when its templates
	// are not ones the bridge evaluates: pctTopic takes a speed's name.
	modes *z2mFan
}

// haSiren is a siren entity.
type haSiren struct {
	cmdTopic          string
	onTpl, offTpl     *template
	payloadOn, payOff string
	stateOn, stateOff string
	anyOn             bool // every state but stateOff sounds (an alarm enum's other tones)
}

// haBinary is a binary_sensor entity of a class with a trait, or a
// zigbee2mqtt sensor of a detection's enum.
type haBinary struct {
	kind    readingKind
	on, off string
	anyOn   bool // every value but off is on (z2mEnumReadings)
}

// haBinaryClasses are the binary_sensor device classes with a trait.
var haBinaryClasses = map[string]readingKind{
	"door": readContact, "window": readContact, "opening": readContact, "garage_door": readContact,
	"motion": readMotion, "occupancy": readMotion, "presence": readMotion,
	"moisture": readLeak, "smoke": readSmoke, "gas": readGas, "carbon_monoxide": readGas,
	"tamper": readTamper, "battery": readBatteryLow, "vibration": readVibration, "safety": readSOS, "heat": readHeat,
}

// haSensorClasses are the sensor device classes with a trait (temperature
// is the thermometer's own).
var haSensorClasses = map[string]readingKind{
	"humidity": readHumidity, "illuminance": readIlluminance, "power": readPower, "energy": readEnergy, "battery": readBattery,
}

// isBattery reports whether an entity is a battery's level or low flag:
// endpoint health, imported even with entity_category diagnostic (where
// zigbee2mqtt puts it), never an endpoint of its own.
func isBattery(platform string, cfg map[string]any) bool {
	dc, _ := cfg["device_class"].(string)
	return dc == "battery" && (platform == "sensor" || platform == "binary_sensor")
}

func (e *haEntity) parseCover(r *cfgReader) error {
	c := &haCover{cmdTopic: r.topic("command_topic"), payloadOpen: r.str("payload_open", "OPEN"), payClose: r.str("payload_close", "CLOSE"),
		stOpen: r.str("state_open", "open"), stClosed: r.str("state_closed", "closed"),
		setPosTopic: r.topic("set_position_topic"), posOpen: r.num("position_open", 100), posClosed: r.num("position_closed", 0)}
	// payload_stop: "STOP" unless given; null disables stopping (Home Assistant's MQTT cover).
	if v, ok := r.m["payload_stop"]; !ok || v != nil {
		c.payStop = r.str("payload_stop", "STOP")
	}
	if c.cmdTopic == "" && c.setPosTopic == "" {
		return fmt.Errorf("cover without command_topic or set_position_topic")
	}
	if c.posOpen == c.posClosed {
		return fmt.Errorf("position_open and position_closed are both %g", c.posOpen)
	}
	var err error
	if c.setPosTpl, err = r.tmpl("set_position_template"); err != nil {
		return err
	}
	stpl, err := r.tmpl("value_template")
	if err != nil {
		return err
	}
	ptpl, err := r.tmpl("position_template")
	if err != nil {
		return err
	}
	if t := r.topic("position_topic"); t != "" {
		e.sub(t, "position", ptpl)
		c.posTopic = true
	}
	if t := r.topic("state_topic"); t != "" {
		e.sub(t, "state", stpl)
		c.hasState = true
	}
	if err := e.parseCoverTilt(r, c); err != nil {
		return err
	}
	e.cover = c
	return nil
}

// parseCoverTilt reads a cover's tilt: tilt_command_topic (with
// tilt_command_template), tilt_status_topic (with tilt_status_template),
// tilt_min and tilt_max (0 and 100 unless given), tilt_opened_value and
// tilt_closed_value (100 and 0). Home Assistant's tilt percentage runs over
// tilt_min–tilt_max; the tilt trait's 0 … 100 is closed … open, so the
// closed and opened values must be the range's two ends (either way round:
// opened at tilt_min is an inverted tilt). A tilt that opens in the middle
// of its range (slats horizontal at 50 of 0–100) has no such scale: the
// cover is bridged without its tilt, and says why.
func (e *haEntity) parseCoverTilt(r *cfgReader, c *haCover) error {
	topic := r.topic("tilt_command_topic")
	if topic == "" {
		return nil
	}
	lo, hi := r.num("tilt_min", 0), r.num("tilt_max", 100)
	opened, closed := r.num("tilt_opened_value", 100), r.num("tilt_closed_value", 0)
	ends := (opened == hi && closed == lo) || (opened == lo && closed == hi)
	switch {
	case lo == hi:
		c.tiltWhy = fmt.Sprintf("tilt_min and tilt_max are both %g", lo)
	case !ends:
		c.tiltWhy = fmt.Sprintf("tilt_opened_value %g and tilt_closed_value %g are not the ends of tilt_min–tilt_max %g–%g (a tilt that opens mid-range has no closed-to-open scale)", opened, closed, lo, hi)
	}
	if c.tiltWhy != "" {
		return nil
	}
	tpl, err := r.tmpl("tilt_command_template")
	if err != nil {
		return err
	}
	stpl, err := r.tmpl("tilt_status_template")
	if err != nil {
		return err
	}
	if t := r.topic("tilt_status_topic"); t != "" {
		e.sub(t, "tilt", stpl)
	}
	c.tiltCmdTopic, c.tiltCmdTpl, c.tiltOpened, c.tiltClose = topic, tpl, opened, closed
	return nil
}

func (e *haEntity) parseFan(r *cfgReader) error {
	f := &haFan{cmdTopic: r.topic("command_topic"), payloadOn: r.str("payload_on", "ON"), payOff: r.str("payload_off", "OFF"),
		min: r.num("speed_range_min", 1), max: r.num("speed_range_max", 100)}
	if f.cmdTopic == "" {
		return fmt.Errorf("fan without command_topic")
	}
	if f.min < 1 || f.max < f.min {
		return fmt.Errorf("speed range %g–%g is not a range from 1 up", f.min, f.max)
	}
	f.stateOn, f.stateOff = f.payloadOn, f.payOff
	var err error
	if f.cmdTpl, err = r.tmpl("command_template"); err != nil {
		return err
	}
	stpl, err := r.tmpl("state_value_template")
	if err != nil {
		return err
	}
	e.sub(r.topic("state_topic"), "state", stpl)
	// The percentage is imported when its templates are ones the bridge
	// evaluates; zigbee2mqtt's (a lookup in a dict literal) are not: its
	// named speeds are read as the zigbee2mqtt source reads its fan_mode.
	if t := r.topic("percentage_command_topic"); t != "" {
		ct, cerr := r.tmpl("percentage_command_template")
		vt, verr := r.tmpl("percentage_value_template")
		switch {
		case cerr == nil && verr == nil:
			f.pctTopic, f.pctTpl = t, ct
			e.sub(r.topic("percentage_state_topic"), "percentage", vt)
		case e.fromZigbee2MQTT():
			e.parseZ2MFanModes(r, f, t)
		}
	}
	e.fan = f
	return nil
}

// z2mFanSpeedRE matches an entry of zigbee2mqtt's percentage_value_template
// dict ({'off':0, 'low':1, 'medium':2, 'high':3, 'on':4}[value_json["fan_mode"]]).
var z2mFanSpeedRE = regexp.MustCompile(`'([^']*)'\s*:\s*\d+`)

// parseZ2MFanModes reads zigbee2mqtt's fan_mode from its fan config: the
// mode property is the last segment of the command topic
// (<base>/<device>/set/fan_mode), its values the percentage dict's names
// and the preset modes (the expose's enum), so that the fan has the named
// speeds the zigbee2mqtt source gives it (parseZ2MFan).
func (e *haEntity) parseZ2MFanModes(r *cfgReader, f *haFan, cmdTopic string) {
	i := strings.LastIndex(cmdTopic, "/set/")
	if i < 0 {
		return
	}
	prop := cmdTopic[i+len("/set/"):]
	var values []any
	for _, m := range z2mFanSpeedRE.FindAllStringSubmatch(r.str("percentage_value_template", ""), -1) {
		values = append(values, m[1])
	}
	for _, p := range r.strs("preset_modes") {
		values = append(values, p)
	}
	z := parseZ2MFan([]z2mExpose{{Type: "enum", Name: "mode", Property: prop, Access: accessState | accessSet, Values: values}})
	if z == nil || len(z.speeds) == 0 {
		return
	}
	tpl, err := parseTemplate(`{{ value_json["` + prop + `"] }}`)
	if err != nil {
		return
	}
	f.modes, f.pctTopic = z, cmdTopic
	e.sub(r.topic("percentage_state_topic"), "mode", tpl)
}

func (e *haEntity) parseSiren(r *cfgReader) error {
	s := &haSiren{cmdTopic: r.topic("command_topic"), payloadOn: r.str("payload_on", "ON"), payOff: r.str("payload_off", "OFF")}
	if s.cmdTopic == "" {
		return fmt.Errorf("siren without command_topic")
	}
	s.stateOn, s.stateOff = r.str("state_on", s.payloadOn), r.str("state_off", s.payOff)
	var err error
	if s.onTpl, err = r.tmpl("command_template"); err != nil {
		return err
	}
	if s.offTpl, err = r.tmpl("command_off_template"); err != nil {
		return err
	}
	if s.offTpl == nil {
		s.offTpl = s.onTpl
	}
	tpl, err := r.tmpl("value_template")
	if err != nil {
		return err
	}
	e.sub(r.topic("state_topic"), "state", tpl)
	e.siren = s
	return nil
}

// parseZ2MSelect reads a select zigbee2mqtt publishes for a settable alarm
// enum with "normal" (a light and sound siren: HOBEIAN ZG-229Z's alarm,
// Lincukoo A08-Z10T's alarm_state) as the siren the zigbee2mqtt source
// makes of that expose (parseZ2MSiren: on is its loudest alarm, off
// "normal"; the property is the command topic's last segment, its values
// the options). Any other select is not bridged.
func (e *haEntity) parseZ2MSelect(r *cfgReader) error {
	topic := r.topic("command_topic")
	i := strings.LastIndex(topic, "/set/")
	if !e.fromZigbee2MQTT() || i < 0 {
		return fmt.Errorf("platform %q is not bridged", "select")
	}
	prop := topic[i+len("/set/"):]
	var values []any
	for _, o := range r.strs("options") {
		values = append(values, o)
	}
	s := parseZ2MSiren(&z2mExpose{Type: "enum", Name: prop, Property: prop, Access: accessState | accessSet, Values: values})
	if s == nil || s.alarm == nil || !s.enum {
		return fmt.Errorf("platform %q is not bridged", "select")
	}
	tpl, err := r.tmpl("value_template")
	if err != nil {
		return err
	}
	e.sub(r.topic("state_topic"), "state", tpl)
	on, off := stringify(s.alarm.on), stringify(s.alarm.off)
	e.siren = &haSiren{cmdTopic: topic, payloadOn: on, payOff: off, stateOn: on, stateOff: off, anyOn: true}
	e.nameByDevice()
	return nil
}

func (e *haEntity) parseBinarySensor(r *cfgReader) error {
	dc := r.str("device_class", "")
	k, ok := haBinaryClasses[dc]
	if !ok && dc == "" && e.fromZigbee2MQTT() {
		return e.parseZ2MBinarySensor(r)
	}
	if !ok {
		return fmt.Errorf("binary_sensor with device_class %q is not bridged", dc)
	}
	if err := e.subValue(r, "binary_sensor"); err != nil {
		return err
	}
	e.binary = &haBinary{kind: k, on: r.str("payload_on", "ON"), off: r.str("payload_off", "OFF")}
	return nil
}

// parseZ2MBinarySensor reads a binary_sensor zigbee2mqtt publishes without a
// device class: an IAS zone's alarm (contact_alarm_1, water_leak_alarm_1, a
// generic alarm_1), a pressure pad. Home Assistant has no class for them,
// but the config carries what the zigbee2mqtt source judges them by: the
// expose's name (the property its value_template reads) and the
// definition's description (zigbee2mqtt's device model), so both sources
// read them alike (parseReading).
func (e *haEntity) parseZ2MBinarySensor(r *cfgReader) error {
	if err := e.subValue(r, "binary_sensor"); err != nil {
		return err
	}
	p := e.valueProperty()
	x := &z2mExpose{Type: "binary", Name: p, Property: p, Access: accessState, ValueOn: r.m["payload_on"], ValueOff: r.m["payload_off"]}
	if x.ValueOn == nil {
		x.ValueOn = "ON"
	}
	if x.ValueOff == nil {
		x.ValueOff = "OFF"
	}
	rd, _ := parseReading(x, e.device.model)
	if p == "" || rd == nil || !rd.kind.binary() {
		return fmt.Errorf("binary_sensor with device_class %q is not bridged", "")
	}
	e.binary = &haBinary{kind: rd.kind, on: stringify(rd.on), off: stringify(rd.off)}
	e.nameByDevice()
	return nil
}

// parseZ2MSensor reads a sensor zigbee2mqtt publishes without a device
// class as the zigbee2mqtt source reads the expose it comes from (the
// property its value_template reads is the expose's name, its
// unit_of_measurement the expose's unit): a detection's enum (a Tuya
// smoke_state or alarm_status, a radar's presence_state, a window's
// opening_state), a reading Home Assistant has no class for (a liquid
// level), or one whose unit zigbee2mqtt left out (an energy).
func (e *haEntity) parseZ2MSensor(r *cfgReader) error {
	if err := e.subValue(r, "sensor"); err != nil {
		return err
	}
	p := e.valueProperty()
	if p == "" {
		return fmt.Errorf("sensor with device_class %q is not bridged", "")
	}
	if rd := parseEnumReading(&z2mExpose{Type: "enum", Name: p, Property: p, Access: accessState}, e.device.model); rd != nil {
		e.binary = &haBinary{kind: rd.kind, on: stringify(rd.on), off: stringify(rd.off), anyOn: rd.anyOn}
		e.nameByDevice()
		return nil
	}
	x := &z2mExpose{Type: "numeric", Name: p, Property: p, Access: accessState, Unit: r.str("unit_of_measurement", "")}
	rd, why := parseReading(x, e.device.model)
	switch {
	case why != "":
		return errors.New(why)
	case rd == nil || rd.kind.binary():
		return fmt.Errorf("sensor with device_class %q is not bridged", "")
	}
	e.sensor = &haSensor{kind: rd.kind, scale: rd.scale, quantity: rd.quantity}
	e.nameByDevice()
	return nil
}

// nameByDevice names a zigbee2mqtt entity read as its expose by its device,
// as the zigbee2mqtt source names the device's function: zigbee2mqtt names
// such an entity by the expose's label ("Rain", "Smoke state"), where it
// names one with a device class by its device (name null).
func (e *haEntity) nameByDevice() { e.named = false }

// parseReadingSensor parses a sensor of a class in haSensorClasses.
func (e *haEntity) parseReadingSensor(r *cfgReader, k readingKind) error {
	s := &haSensor{kind: k, scale: 1}
	unit := r.str("unit_of_measurement", "")
	switch k {
	case readHumidity, readBattery:
		if unit != "%" && unit != "" {
			return fmt.Errorf("%s in %q, not %%", k, unit)
		}
	case readIlluminance:
		if unit != "lx" && unit != "" {
			return fmt.Errorf("illuminance in %q, not lx", unit)
		}
	case readPower:
		switch unit {
		case "W", "":
		case "kW":
			s.scale = 1000
		case "mW":
			s.scale = 0.001
		default:
			return fmt.Errorf("power in %q, not W", unit)
		}
	case readEnergy:
		switch unit {
		case "kWh", "":
		case "Wh":
			s.scale = 0.001
		case "MWh":
			s.scale = 1000
		default:
			return fmt.Errorf("energy in %q, not kWh", unit)
		}
	}
	if err := e.subValue(r, "sensor"); err != nil {
		return err
	}
	e.sensor = s
	return nil
}

// parseMeasureSensor parses a sensor of a class in haMeasureClasses.
func (e *haEntity) parseMeasureSensor(r *cfgReader, class string, candidates []string) error {
	key, scale, why := measureQuantity(class, candidates, r.str("unit_of_measurement", ""))
	if why != "" {
		return errors.New(why)
	}
	if err := e.subValue(r, "sensor"); err != nil {
		return err
	}
	e.sensor = &haSensor{kind: readMeasure, scale: scale, quantity: key}
	return nil
}

// subValue subscribes a sensor's value: its state_topic through its
// value_template (platform names the entity in the error).
func (e *haEntity) subValue(r *cfgReader, platform string) error {
	st := r.topic("state_topic")
	if st == "" {
		return fmt.Errorf("%s without state_topic", platform)
	}
	tpl, err := r.tmpl("value_template")
	if err != nil {
		return err
	}
	e.sub(st, "value", tpl)
	return nil
}

// kindTraits returns the traits and category of a cover, fan, siren or
// reading entity; ok is false for another.
func (e *haEntity) kindTraits() (t model.Traits, c model.Category, ok bool) {
	switch {
	case e.cover != nil:
		t.Cover = &model.Cover{Tilt: e.cover.tiltCmdTopic != ""}
		return t, model.CategoryInteriorBlind, true
	case e.fan != nil:
		t.OnOff = &model.OnOff{}
		switch {
		case e.fan.modes != nil:
			t.Fan = e.fan.modes.trait()
		case e.fan.pctTopic != "":
			t.Fan = &model.Fan{}
		}
		return t, model.CategoryFan, true
	case e.siren != nil:
		t.Siren = &model.Siren{}
		return t, model.CategorySecurityPanel, true
	case e.binary != nil:
		setReadingTrait(&t, e.binary.kind)
		return t, hostCategory(t), true
	case e.sensor != nil && e.sensor.kind != 0:
		e.setReadingTrait(&t)
		return t, hostCategory(t), true
	}
	return t, "", false
}

// kindMessage reads a message on a cover's, fan's, siren's or reading's
// topic (v is the rendered value); ok is false for another entity.
func (e *haEntity) kindMessage(role, v string) (s model.State, ok bool, err error) {
	num := func() (float64, error) {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, fmt.Errorf("%s value %q is not a number", role, v)
		}
		return n, nil
	}
	empty := v == "" || v == "None" || v == "unknown" || v == "unavailable"
	switch {
	case e.cover != nil:
		c := e.cover
		switch {
		case empty:
		case role == "tilt":
			n, err := num()
			if err != nil {
				return s, true, err
			}
			p := (n - c.tiltClose) * 100 / (c.tiltOpened - c.tiltClose)
			s.CoverTilt = model.Ptr(clampInt(int(math.Round(p)), 0, 100))
		case role == "position":
			n, err := num()
			if err != nil {
				return s, true, err
			}
			p := (n - c.posClosed) * 100 / (c.posOpen - c.posClosed)
			s.CoverPosition = model.Ptr(clampInt(int(math.Round(p)), 0, 100))
		case c.posTopic:
			// the position says more than open/closed/opening/closing
		case v == c.stOpen:
			s.CoverPosition = model.Ptr(100)
		case v == c.stClosed:
			s.CoverPosition = model.Ptr(0)
		case v == "opening", v == "closing", v == "stopped", v == "STOP":
		default:
			return s, true, fmt.Errorf("cover state %q is neither %q nor %q", v, c.stOpen, c.stClosed)
		}
	case e.fan != nil:
		f := e.fan
		switch {
		case empty:
		case role == "mode" && f.modes != nil:
			if v == "off" {
				s.FanSpeed = model.Ptr(0)
			}
			for i, sp := range f.modes.speeds {
				if sp == v {
					s.FanSpeed = model.Ptr(f.modes.percent(i))
				}
			}
		case role == "percentage":
			n, err := num()
			if err != nil {
				return s, true, err
			}
			if n <= 0 {
				s.FanSpeed = model.Ptr(0)
			} else {
				// HA's ranged_value_to_percentage
				s.FanSpeed = model.Ptr(clampInt(int(math.Floor((n-f.min+1)*100/(f.max-f.min+1))), 0, 100))
			}
		case v == f.stateOn:
			s.On = model.Ptr(true)
		case v == f.stateOff:
			s.On = model.Ptr(false)
		default:
			return s, true, fmt.Errorf("fan state %q is neither %q nor %q", v, f.stateOn, f.stateOff)
		}
	case e.siren != nil:
		switch {
		case empty:
		case v == e.siren.stateOn:
			s.Siren = model.Ptr(true)
		case v == e.siren.stateOff:
			s.Siren = model.Ptr(false)
		case e.siren.anyOn:
			s.Siren = model.Ptr(true) // another of its alarm tones
		default:
			return s, true, fmt.Errorf("siren state %q is neither %q nor %q", v, e.siren.stateOn, e.siren.stateOff)
		}
	case e.binary != nil:
		b := e.binary
		var active bool
		switch {
		case empty:
			return s, true, nil
		case v == b.off:
		case b.anyOn || v == b.on:
			active = true
		default:
			return s, true, fmt.Errorf("%s state %q is neither %q nor %q", b.kind, v, b.on, b.off)
		}
		setReading(&s, b.kind, active, 0)
	case e.sensor != nil && e.sensor.kind != 0:
		if empty {
			return s, true, nil
		}
		n, err := num()
		if err != nil {
			return s, true, err
		}
		if e.sensor.kind == readMeasure {
			setMeasure(&s, e.sensor.quantity, n*e.sensor.scale)
		} else {
			setReading(&s, e.sensor.kind, false, n*e.sensor.scale)
		}
	default:
		return s, false, nil
	}
	return s, true, nil
}

// setReadingTrait gives t the trait of the reading entity e.
func (e *haEntity) setReadingTrait(t *model.Traits) {
	switch {
	case e.sensor != nil && e.sensor.kind == readMeasure:
		addMeasure(t, e.sensor.quantity)
	default:
		setReadingTrait(t, e.readingKind())
	}
}

// setReading sets a reading's field of a state: active for the binary
// kinds, n for the numeric ones.
func setReading(s *model.State, k readingKind, active bool, n float64) {
	switch k {
	case readContact:
		s.ContactOpen = model.Ptr(active)
	case readMotion, readVibration, readSOS, readRain, readHeat:
		s.Motion = model.Ptr(active)
	case readLeak:
		s.WaterLeak = model.Ptr(active)
	case readSmoke:
		s.Smoke = model.Ptr(active)
	case readGas:
		s.Gas = model.Ptr(active)
	case readTamper:
		s.Tamper = model.Ptr(active)
	case readBatteryLow:
		s.BatteryLow = model.Ptr(active)
	case readHumidity:
		s.Humidity = model.Ptr(n)
	case readIlluminance:
		s.Illuminance = model.Ptr(n)
	case readPower:
		s.Watts = model.Ptr(n)
	case readEnergy:
		s.EnergyKWh = model.Ptr(n)
	case readBattery:
		s.Battery = model.Ptr(clampInt(int(math.Round(n)), 0, 100))
	}
}

// kindCommand builds the messages of a cover, fan or siren command; ok is
// false for another entity.
func (e *haEntity) kindCommand(c model.Command, msg func(string, *template, string) ([]outMsg, error)) ([]outMsg, bool, error) {
	switch {
	case e.cover != nil && c.Trait == model.TraitCover:
		cv := e.cover
		if c.CoverStop != nil {
			if cv.cmdTopic == "" || cv.payStop == "" {
				return nil, true, &model.Error{Kind: model.ErrNotSupported, Message: "this cover cannot stop (no command_topic or payload_stop)"}
			}
			out, err := msg(cv.cmdTopic, nil, cv.payStop)
			return out, true, err
		}
		if c.CoverTilt != nil {
			if cv.tiltCmdTopic == "" {
				return nil, true, &model.Error{Kind: model.ErrNotSupported, Message: "this cover has no tilt"}
			}
			// Home Assistant's set_cover_tilt_position: the value in
			// range, rounded to a whole number
			v := cv.tiltClose + float64(*c.CoverTilt)*(cv.tiltOpened-cv.tiltClose)/100
			out, err := msg(cv.tiltCmdTopic, cv.tiltCmdTpl, strconv.Itoa(int(math.Round(v))))
			return out, true, err
		}
		pos := *c.CoverPosition
		switch {
		case cv.setPosTopic != "":
			v := cv.posClosed + float64(pos)*(cv.posOpen-cv.posClosed)/100
			out, err := msg(cv.setPosTopic, cv.setPosTpl, strconv.Itoa(int(math.Round(v))))
			return out, true, err
		case pos == 100:
			out, err := msg(cv.cmdTopic, nil, cv.payloadOpen)
			return out, true, err
		case pos == 0:
			out, err := msg(cv.cmdTopic, nil, cv.payClose)
			return out, true, err
		}
		return nil, true, &model.Error{Kind: model.ErrInvalidValue, Message: fmt.Sprintf("the cover only opens (100) and closes (0): position %d", pos)}
	case e.fan != nil && c.Trait == model.TraitOnOff:
		v := e.fan.payOff
		if *c.Power {
			v = e.fan.payloadOn
		}
		out, err := msg(e.fan.cmdTopic, e.fan.cmdTpl, v)
		return out, true, err
	case e.fan != nil && c.Trait == model.TraitFan && e.fan.pctTopic != "":
		f := e.fan
		n := *c.FanSpeed
		if n == 0 {
			out, err := msg(f.cmdTopic, f.cmdTpl, f.payOff)
			return out, true, err
		}
		if z := f.modes; z != nil {
			// the nearest named speed, as the zigbee2mqtt source sets it
			i := clampInt(int(math.Round(float64(n)*float64(len(z.speeds))/100))-1, 0, len(z.speeds)-1)
			out, err := msg(f.pctTopic, nil, z.speeds[i])
			return out, true, err
		}
		// HA's percentage_to_ranged_value: ceil over the speed range.
		speed := math.Ceil(float64(n) * (f.max - f.min + 1) / 100)
		speed = math.Max(f.min, math.Min(f.max, speed+f.min-1))
		out, err := msg(f.pctTopic, f.pctTpl, strconv.Itoa(int(speed)))
		return out, true, err
	case e.siren != nil && c.Trait == model.TraitSiren:
		s := e.siren
		if *c.Siren {
			out, err := msg(s.cmdTopic, s.onTpl, s.payloadOn)
			return out, true, err
		}
		out, err := msg(s.cmdTopic, s.offTpl, s.payOff)
		return out, true, err
	}
	return nil, false, nil
}

// isRemoteEntity says why a discovery entity is a remote's presses
// (device triggers, event entities), or "".
func isRemoteEntity(platform string) string {
	switch platform {
	case "device_automation", "event":
		return remoteReason
	}
	return ""
}
