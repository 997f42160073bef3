package mqtt

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// The zigbee2mqtt side of the cover, sensor, metering, fan and siren traits:
// which exposes carry them (zigbee-herdsman-converters lib/exposes), how
// their state reads and how their commands are written.

// remoteReason is why a remote's or button's presses (zigbee2mqtt's
// "action" expose, Home Assistant's device triggers) are not imported: Alexa
// has no generic button (README.md, "Buttons and remotes").
const remoteReason = "remote: presses are not an Alexa endpoint"

// z2mPress is a remote opted into Alexa (the bridge config's remotes): a
// press (a state message with one of its action properties set to an action
// that counts) opens its contact or trips its motion for hold.
type z2mPress struct {
	props   []string        // the action properties (action, action_l1, …)
	actions map[string]bool // the presses that count; nil: every press
	contact bool            // a contact stand-in, else motion
	hold    time.Duration
}

// newPress checks an opt-in against a remote's action exposes; why says
// why it cannot be honoured (an action the remote does not have).
func newPress(o *remoteOptIn, exposes []*z2mExpose) (*z2mPress, string) {
	p := &z2mPress{actions: o.actions, contact: o.contact, hold: o.hold}
	has := map[string]bool{}
	open := false // a text action, or an enum without values: any action may come
	for _, e := range exposes {
		p.props = append(p.props, e.Property)
		if e.Type == "text" || len(e.Values) == 0 {
			open = true
		}
		for _, v := range e.Values {
			if s, ok := v.(string); ok {
				has[s] = true
			}
		}
	}
	if !open {
		var missing []string
		for a := range o.actions {
			if !has[a] {
				missing = append(missing, a)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return nil, fmt.Sprintf("remote opted in with actions it does not have: %s", strings.Join(missing, ", "))
		}
	}
	return p, ""
}

// pressed reports whether a state message is a press that counts.
func (p *z2mPress) pressed(m map[string]any) bool {
	for _, prop := range p.props {
		a, ok := m[prop].(string)
		if ok && a != "" && (p.actions == nil || p.actions[a]) {
			return true
		}
	}
	return false
}

// state is the stand-in's state: open or detected while active.
func (p *z2mPress) state(active bool) model.State {
	if p.contact {
		return model.State{ContactOpen: model.Ptr(active)}
	}
	return model.State{Motion: model.Ptr(active)}
}

// z2mCover is a cover expose: its OPEN/CLOSE/STOP state and its position
// (0 closed … 100 open, as zigbee2mqtt reports it after invert_cover).
type z2mCover struct {
	state    string // the OPEN/CLOSE/STOP enum's property ("state", "state_left")
	open     string
	close    string
	stop     string // "STOP" when the state enum has it ("": the cover cannot stop)
	position string // "" when the cover only opens and closes
	tilt     string // the slats' tilt (0 closed … 100 open); "" when the cover has none
}

// z2mFan is a fan expose: on/off, and the speed as zigbee2mqtt's fan_mode
// (named speeds) or a native speed.
type z2mFan struct {
	state    *z2mBinary // fan_state or state
	mode     string     // fan_mode property
	speeds   []string   // fan_mode values that are speeds, slowest first (off excluded)
	hasOff   bool       // fan_mode has "off"
	speed    string     // native speed property
	min, max float64    // native speed range
}

// z2mSiren is a siren: zigbee2mqtt's warning composite (set only: the state
// is what was last commanded) or a settable alarm binary.
type z2mSiren struct {
	warning string     // warning property
	tone    string     // the warning mode that sounds: emergency when the device has it
	level   bool       // the warning has a level
	timed   bool       // the warning has a duration
	alarm   *z2mBinary // alarm binary (or enum: on is the loudest value, off "normal")
	enum    bool       // alarm is an enum: every value but off sounds
}

// readingKind is a read-only reading a device reports.
type readingKind int

const (
	readContact readingKind = iota + 1
	readMotion
	readLeak
	readSmoke
	readGas
	readTamper
	readHumidity
	readIlluminance
	readPower
	readEnergy
	readBattery
	readBatteryLow
	readMeasure   // a measured quantity (model.Quantities): a read-only range
	readVibration // a vibration sensor: the motion trait, detects vibration
	readSOS       // an emergency button: the motion trait, detects sos
	readRain      // a rain sensor: the motion trait, detects rain
	readHeat      // a heat alarm: the motion trait, detects heat
)

// z2mReadings maps the exposes that are readings (name, type) to their
// kind. occupancy and presence are both motion; carbon_monoxide is gas.
var z2mReadings = map[string]struct {
	typ  string
	kind readingKind
}{
	"contact": {"binary", readContact}, "occupancy": {"binary", readMotion}, "presence": {"binary", readMotion},
	"water_leak": {"binary", readLeak}, "smoke": {"binary", readSmoke}, "gas": {"binary", readGas},
	"carbon_monoxide": {"binary", readGas}, "tamper": {"binary", readTamper},
	"pressure":  {"binary", readMotion}, // a pressure pad: someone is on it (occupancy)
	"vibration": {"binary", readVibration}, "sos": {"binary", readSOS}, "rain": {"binary", readRain},
	"occupancy_or": {"binary", readMotion}, // a dual motion sensor: either of its sensors (ShinaSystem DMS-300ZB)
	"humidity":     {"numeric", readHumidity}, "illuminance": {"numeric", readIlluminance},
	"power": {"numeric", readPower}, "energy": {"numeric", readEnergy},
	"battery": {"numeric", readBattery}, "battery_low": {"binary", readBatteryLow},
}

// strong reports whether a reading is a device's function by itself (a
// contact, motion, leak, smoke or gas sensor, a meter); humidity and
// illuminance are one when the device has no other function; tamper and
// battery never are (they ride along with the endpoint).
func (k readingKind) strong() bool {
	return k <= readGas || k == readPower || k == readEnergy || k.motion()
}

// motion reports whether a reading is the motion trait's (one per endpoint).
func (k readingKind) motion() bool {
	return k == readMotion || k == readVibration || k == readSOS || k == readRain || k == readHeat
}

// binary reports whether a reading is detected/clear rather than a number.
func (k readingKind) binary() bool {
	return k <= readTamper || k == readBatteryLow || k.motion()
}

// alone reports whether a reading may make an endpoint of its own.
func (k readingKind) alone() bool {
	return k.strong() || k == readHumidity || k == readIlluminance || k == readMeasure
}

// z2mMeasures are the numeric exposes that are a measured quantity, by
// name, with the quantities their unit selects from (a VOC in ppb is a
// concentration, in µg/m³ a density).
var z2mMeasures = map[string][]string{
	"co2": {model.QuantityCO2}, "pm1": {model.QuantityPM1}, "pm25": {model.QuantityPM25}, "pm10": {model.QuantityPM10},
	"voc": {model.QuantityVOC, model.QuantityVOCDensity}, "formaldehyd": {model.QuantityFormaldehyde},
	"formaldehyde": {model.QuantityFormaldehyde}, "hcho": {model.QuantityFormaldehyde}, "aqi": {model.QuantityAQI},
	"pressure": {model.QuantityPressure}, "soil_moisture": {model.QuantitySoilMoisture}, "flow": {model.QuantityFlow},
	"liquid_level_percent": {model.QuantityLiquidLevel},
	"gas":                  {model.QuantityGasVolume}, // a gas meter's index in m³ (a gas sensor's "gas" is binary)
}

// haMeasureClasses are the Home Assistant sensor device classes that are a
// measured quantity, as z2mMeasures.
var haMeasureClasses = map[string][]string{
	"carbon_dioxide": {model.QuantityCO2}, "pm1": {model.QuantityPM1}, "pm25": {model.QuantityPM25}, "pm10": {model.QuantityPM10},
	"volatile_organic_compounds_parts": {model.QuantityVOC}, "volatile_organic_compounds": {model.QuantityVOCDensity},
	"aqi": {model.QuantityAQI}, "pressure": {model.QuantityPressure}, "atmospheric_pressure": {model.QuantityPressure},
	"moisture": {model.QuantitySoilMoisture}, "volume_flow_rate": {model.QuantityFlow}, "gas": {model.QuantityGasVolume},
}

// measureQuantity picks, among candidates, the quantity whose units
// include unit, and the factor to the quantity's unit; why says why none.
func measureQuantity(name string, candidates []string, unit string) (key string, scale float64, why string) {
	for _, k := range candidates {
		if f, ok := model.Quantities[k].Units[unit]; ok {
			return k, f, ""
		}
	}
	return "", 0, fmt.Sprintf("%s in %q, not a unit of %s", name, unit, model.Quantities[candidates[0]].Name)
}

// addMeasure gives t the read-only range of quantity key (once).
func addMeasure(t *model.Traits, key string) {
	r, ok := model.MeasurementRange(key)
	if ok && t.Range(r.Instance) == nil {
		t.Ranges = append(t.Ranges, r)
	}
}

// setMeasure sets the reading of quantity key in s.
func setMeasure(s *model.State, key string, n float64) {
	if s.Ranges == nil {
		s.Ranges = map[string]float64{}
	}
	s.Ranges[model.Quantities[key].Instance] = n
}

// z2mReading is one reading of a unit.
type z2mReading struct {
	kind     readingKind
	prop     string
	quantity string  // readMeasure: the key of model.Quantities
	on       any     // a binary's value_on (contact: open; others: detected)
	off      any     // a binary's value_off
	anyOn    bool    // an enum: every value but off is on (a window "tilted" is open)
	scale    float64 // numeric: multiply to the trait's unit
	endpnt   string
}

// iasAlarmRE matches zigbee-herdsman-converters' IAS zone alarms of a zone
// with both alarm bits (iasZoneAlarm: <zone type>_alarm_1 and _alarm_2).
var iasAlarmRE = regexp.MustCompile(`^([a-z_]+)_alarm_[12]$`)

// alarmKinds is what a generic IAS alarm (alarm, alarm_1, alarm_2: the zone
// type "generic", which says nothing of the kind) or a Tuya alarm_status
// detects, by the words zigbee2mqtt's definition describes the device with;
// none: no trait says the truth, the device stays unsupported.
var alarmKinds = []struct {
	words []string
	kind  readingKind
}{
	{[]string{"smoke"}, readSmoke},
	{[]string{"gas", "carbon monoxide"}, readGas},
	{[]string{"water leak", "leakage", "flood"}, readLeak},
	{[]string{"door", "window", "opening", "contact"}, readContact},
	{[]string{"motion", "pir", "occupancy"}, readMotion},
	{[]string{"vibration"}, readVibration},
	{[]string{"heat"}, readHeat},
}

// genericAlarm returns the reading kind of a generic IAS alarm on a device
// described as desc (0: unknown).
func genericAlarm(desc string) readingKind {
	desc = strings.ToLower(desc)
	if strings.Contains(desc, "lack") || strings.Contains(desc, "shortage") {
		return 0 // a leak or a lack of water, as the device is set: no trait says both
	}
	for _, a := range alarmKinds {
		for _, w := range a.words {
			if strings.Contains(desc, w) {
				return a.kind
			}
		}
	}
	return 0
}

// z2mEnumReadings are the enum exposes that are a detection: the value that
// is clear, and the one that is detected ("": every other value is, as a
// window's "tilted" is open). An alarm_status (kind 0) detects what the
// device's description says (genericAlarm). Home Assistant's discovery of
// them (a sensor without device class) does not carry the values: the
// name says them.
var z2mEnumReadings = map[string]struct {
	kind    readingKind
	off, on string
}{
	"gas_sensor_state": {readGas, "normal", "alarm"}, "co_state": {readGas, "normal", "alarm"},
	"smoke_state":    {readSmoke, "normal", "alarm"},
	"alarm_status":   {0, "normal", "alarm"},
	"presence_state": {readMotion, "none", ""},                                                 // none, motion, stationary (a presence radar)
	"opening_state":  {readContact, "closed", ""}, "opening_mode": {readContact, "closed", ""}, // open, tilted
}

// parseEnumReading returns the reading of an enum expose of
// z2mEnumReadings; nil when it is not one (or its values are not those).
func parseEnumReading(e *z2mExpose, desc string) *z2mReading {
	r, ok := z2mEnumReadings[e.Name]
	if !ok || e.Type != "enum" || e.Property == "" || e.Access&accessState == 0 {
		return nil
	}
	if len(e.Values) > 0 && (!enumHas(e, r.off) || (r.on != "" && !enumHas(e, r.on))) {
		return nil
	}
	k := r.kind
	if k == 0 {
		if k = genericAlarm(desc); k == 0 {
			return nil
		}
	}
	rd := &z2mReading{kind: k, prop: e.Property, on: r.on, off: r.off, anyOn: r.on == "", scale: 1, endpnt: e.Endpoint}
	if r.on == "" {
		rd.on = nil
	}
	return rd
}

// parseReading returns the reading an expose is, if it is one: its name
// and type match and the unit is one the trait takes. desc is the device's
// description in zigbee2mqtt's definition (what a generic IAS alarm is).
func parseReading(e *z2mExpose, desc string) (*z2mReading, string) {
	if rd := parseEnumReading(e, desc); rd != nil {
		return rd, ""
	}
	if qs, ok := z2mMeasures[e.Name]; ok && e.Type == "numeric" && e.Property != "" && e.Access&accessState != 0 {
		key, scale, why := measureQuantity(e.Name, qs, e.Unit)
		if why != "" {
			return nil, why
		}
		return &z2mReading{kind: readMeasure, quantity: key, prop: e.Property, scale: scale, endpnt: e.Endpoint}, ""
	}
	r, ok := z2mReadings[e.Name]
	if m := iasAlarmRE.FindStringSubmatch(e.Name); !ok && m != nil {
		// water_leak_alarm_1 is water_leak (contact_alarm_1 inverted as contact)
		r, ok = z2mReadings[m[1]]
		ok = ok && r.typ == "binary" && r.kind != readTamper && r.kind != readBatteryLow && e.Type == "binary" && e.Access&accessState != 0
		if ok && r.kind == readContact {
			// iasZoneAlarm inverts a contact zone's alarms: true is closed
			return &z2mReading{kind: readContact, prop: e.Property, on: false, off: true, scale: 1, endpnt: e.Endpoint}, ""
		}
	}
	if !ok && e.Type == "binary" && e.Access&accessSet == 0 && (e.Name == "alarm" || e.Name == "alarm_1" || e.Name == "alarm_2") {
		if k := genericAlarm(desc); k != 0 {
			r, ok = struct {
				typ  string
				kind readingKind
			}{"binary", k}, true
			if k == readContact {
				// an IAS contact switch's alarm is the contact open
				return &z2mReading{kind: k, prop: e.Property, on: e.ValueOn, off: e.ValueOff, scale: 1, endpnt: e.Endpoint}, ""
			}
		}
	}
	if !ok && e.Name == "garage_door_contact" && e.Type == "binary" {
		// true is closed, whatever value_on says (zigbee-herdsman-converters'
		// definitions disagree; their descriptions and converters agree)
		return &z2mReading{kind: readContact, prop: e.Property, on: false, off: true, scale: 1, endpnt: e.Endpoint}, ""
	}
	if !ok && e.Name == "dry_contact" && e.Type == "binary" && e.Access&accessState != 0 {
		// a dry contact input's value_on is contact_closed (NodOn SDC-4-1-00)
		return &z2mReading{kind: readContact, prop: e.Property, on: e.ValueOff, off: e.ValueOn, scale: 1, endpnt: e.Endpoint}, ""
	}
	if !ok || e.Type != r.typ || e.Property == "" || e.Access&accessState == 0 {
		return nil, ""
	}
	rd := &z2mReading{kind: r.kind, prop: e.Property, on: e.ValueOn, off: e.ValueOff, scale: 1, endpnt: e.Endpoint}
	unit := e.Unit
	switch r.kind {
	case readHumidity, readBattery:
		if unit != "%" && unit != "" {
			return nil, fmt.Sprintf("%s in %q, not %%", e.Name, unit)
		}
	case readIlluminance:
		if unit != "lx" && unit != "" {
			return nil, fmt.Sprintf("illuminance in %q, not lx", unit)
		}
	case readPower:
		switch unit {
		case "W", "":
		case "kW":
			rd.scale = 1000
		default:
			return nil, fmt.Sprintf("power in %q, not W", unit)
		}
	case readEnergy:
		switch unit {
		case "kWh", "":
		case "Wh":
			rd.scale = 0.001
		default:
			return nil, fmt.Sprintf("energy in %q, not kWh", unit)
		}
	}
	return rd, ""
}

// enumHas reports whether an enum expose has every one of values.
func enumHas(e *z2mExpose, values ...string) bool {
	for _, v := range values {
		found := false
		for _, x := range e.Values {
			found = found || x == v
		}
		if !found {
			return false
		}
	}
	return true
}

// setReadingTrait gives a unit the trait of a reading.
func setReadingTrait(t *model.Traits, k readingKind) {
	switch k {
	case readContact:
		t.Contact = &model.Contact{}
	case readMotion:
		t.Motion = &model.Motion{}
	case readLeak:
		t.WaterLeak = &model.WaterLeak{}
	case readSmoke:
		t.Smoke = &model.Smoke{}
	case readGas:
		t.Gas = &model.Gas{}
	case readTamper:
		t.Tamper = &model.Tamper{}
	case readVibration:
		t.Motion = &model.Motion{Detects: model.MotionVibration}
	case readSOS:
		t.Motion = &model.Motion{Detects: model.MotionSOS}
	case readRain:
		t.Motion = &model.Motion{Detects: model.MotionRain}
	case readHeat:
		t.Motion = &model.Motion{Detects: model.MotionHeat}
	case readHumidity:
		t.Humidity = &model.Humidity{}
	case readIlluminance:
		t.Illuminance = &model.Illuminance{}
	case readPower:
		t.Power = &model.Power{}
	case readEnergy:
		t.Energy = &model.Energy{}
	case readBattery, readBatteryLow:
		if t.Battery == nil {
			t.Battery = &model.Battery{}
		}
	}
}

// readingName names a reading kind in skip reasons.
func (k readingKind) String() string {
	return [...]string{"", "contact", "motion", "water leak", "smoke", "gas", "tamper", "humidity", "illuminance",
		"power", "energy", "battery", "battery low", "measurement", "vibration", "sos", "rain", "heat"}[k]
}

// parseZ2MCover reads a cover expose; nil when it has no settable state or
// position.
func parseZ2MCover(fs []z2mExpose) *z2mCover {
	c := &z2mCover{}
	if st := findZ2MFeature(fs, "state", "enum"); st != nil && st.Access&accessSet != 0 {
		for _, v := range st.Values {
			switch s, _ := v.(string); s {
			case "OPEN":
				c.open = s
			case "CLOSE":
				c.close = s
			case "STOP":
				c.stop = s
			}
		}
		if c.open != "" && c.close != "" {
			c.state = st.Property
		}
	}
	if p := findZ2MFeature(fs, "position", "numeric"); p != nil && p.Access&accessSet != 0 {
		c.position = p.Property
	}
	if c.state == "" && c.position == "" {
		return nil
	}
	// zigbee-herdsman-converters' tilt is 0 (closed) … 100 (open) % like the
	// position (its converters invert the Window Covering's tilt percentage).
	if t := findZ2MFeature(fs, "tilt", "numeric"); t != nil && t.Access&accessSet != 0 && t.Access&accessState != 0 &&
		(t.ValueMin == nil || *t.ValueMin == 0) && (t.ValueMax == nil || *t.ValueMax == 100) {
		c.tilt = t.Property
	}
	return c
}

// fanSpeedOrder is the order of zigbee2mqtt's fan_mode values that are
// speeds (as its Home Assistant discovery orders them); on, auto and smart
// are not speeds.
var fanSpeedOrder = []string{"low", "medium", "high", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// parseZ2MFan reads a fan expose; nil when nothing in it is settable.
func parseZ2MFan(fs []z2mExpose) *z2mFan {
	f := &z2mFan{}
	if st := findZ2MFeature(fs, "state", "binary"); st != nil && st.Access&accessSet != 0 {
		f.state = &z2mBinary{prop: st.Property, on: st.ValueOn, off: st.ValueOff}
	}
	if m := findZ2MFeature(fs, "mode", "enum"); m != nil && m.Access&accessSet != 0 {
		f.mode = m.Property
		vals := map[string]bool{}
		for _, v := range m.Values {
			s, _ := v.(string)
			vals[s] = true
		}
		for _, s := range fanSpeedOrder {
			if vals[s] {
				f.speeds = append(f.speeds, s)
			}
		}
		f.hasOff = vals["off"]
	}
	if sp := findZ2MFeature(fs, "speed", "numeric"); sp != nil && sp.Access&accessSet != 0 {
		f.speed, f.min, f.max = sp.Property, 1, 254
		if sp.ValueMin != nil {
			f.min = *sp.ValueMin
		}
		if sp.ValueMax != nil && *sp.ValueMax > f.min {
			f.max = *sp.ValueMax
		}
	}
	if f.state == nil && len(f.speeds) == 0 && f.speed == "" {
		return nil
	}
	return f
}

// trait returns the fan trait: named speeds (low, medium, high) are presets
// at their share of the speed range.
func (f *z2mFan) trait() *model.Fan {
	t := &model.Fan{}
	for i, s := range f.speeds {
		if s >= "1" && s <= "9" {
			continue
		}
		t.Presets = append(t.Presets, model.Preset{Value: float64(f.percent(i)), Names: []model.Name{{Text: s, Locale: "en-US"}}})
	}
	return t
}

// percent is the speed of the i-th named speed.
func (f *z2mFan) percent(i int) int {
	return int(math.Round(float64(i+1) * 100 / float64(len(f.speeds))))
}

// parseZ2MSiren reads a warning composite or an alarm binary.
func parseZ2MSiren(e *z2mExpose) *z2mSiren {
	switch {
	case e.Type == "composite" && e.Name == "warning" && e.Access&accessSet != 0 && e.Property != "":
		s := &z2mSiren{warning: e.Property, tone: "emergency"}
		if m := findZ2MFeature(e.Features, "mode", "enum"); m != nil {
			s.tone = ""
			for _, v := range m.Values {
				if v, _ := v.(string); v == "emergency" || (s.tone == "" && v != "stop") {
					s.tone = v
				}
			}
			if s.tone == "" {
				return nil
			}
		}
		s.level = findZ2MFeature(e.Features, "level", "enum") != nil
		s.timed = findZ2MFeature(e.Features, "duration", "numeric") != nil
		return s
	case e.Type == "binary" && (e.Name == "alarm" || e.Name == "siren_on") && e.Access&accessSet != 0 && e.Property != "":
		// siren_on: a siren that only takes the command (SONOFF SNZB-09P)
		return &z2mSiren{alarm: &z2mBinary{prop: e.Property, on: e.ValueOn, off: e.ValueOff}}
	case e.Type == "enum" && (e.Name == "alarm" || e.Name == "alarm_state") && e.Access&accessSet != 0 && e.Property != "" && enumHas(e, "normal"):
		// a light and sound siren's alarm enum (HOBEIAN ZG-229Z; Lincukoo
		// A08-Z10T's alarm_state): "normal" is silent, the others sound; on
		// is sound and light when it has it
		on := ""
		for _, v := range e.Values {
			if s, _ := v.(string); s != "normal" && strings.HasPrefix(s, "alarm") && (on == "" || s == "alarm_sound_light") {
				on = s
			}
		}
		if on == "" {
			return nil
		}
		return &z2mSiren{alarm: &z2mBinary{prop: e.Property, on: on, off: "normal"}, enum: true}
	}
	return nil
}

// parseKinds reads the state of the cover, fan, siren and readings of u
// from a state message.
func (u *z2mUnit) parseKinds(s *model.State, get func(string, unknownFields) (any, bool), bad func(string, any)) {
	if c := u.cover; c != nil {
		if v, ok := get(c.position, 0); ok {
			if n, ok := asNumber(v); ok && n >= 0 && n <= 100 {
				s.CoverPosition = model.Ptr(int(math.Round(n)))
			} else {
				bad(c.position, v)
			}
		} else if v, ok := get(c.state, 0); ok && c.position == "" {
			switch v {
			case c.open:
				s.CoverPosition = model.Ptr(100)
			case c.close:
				s.CoverPosition = model.Ptr(0)
			}
		}
		if v, ok := get(c.tilt, 0); ok {
			if n, ok := asNumber(v); ok && n >= 0 && n <= 100 {
				s.CoverTilt = model.Ptr(int(math.Round(n)))
			} else {
				bad(c.tilt, v)
			}
		}
	}
	if f := u.fan; f != nil {
		if f.state != nil {
			if v, ok := get(f.state.prop, unknownOn); ok {
				switch v {
				case f.state.on:
					s.On = model.Ptr(true)
				case f.state.off:
					s.On = model.Ptr(false)
				default:
					bad(f.state.prop, v)
				}
			}
		}
		if v, ok := get(f.mode, 0); ok {
			str, _ := v.(string)
			if str == "off" {
				s.FanSpeed = model.Ptr(0)
				if f.state == nil {
					s.On = model.Ptr(false)
				}
			}
			for i, sp := range f.speeds {
				if sp == str {
					s.FanSpeed = model.Ptr(f.percent(i))
					if f.state == nil {
						s.On = model.Ptr(true)
					}
				}
			}
		}
		if v, ok := get(f.speed, 0); ok {
			if n, ok := asNumber(v); ok && n >= 0 {
				s.FanSpeed = model.Ptr(clampInt(int(math.Round(n*100/f.max)), 0, 100))
			} else {
				bad(f.speed, v)
			}
		}
	}
	if sr := u.siren; sr != nil && sr.alarm != nil {
		if v, ok := get(sr.alarm.prop, 0); ok {
			str, _ := v.(string)
			switch {
			case v == sr.alarm.on:
				s.Siren = model.Ptr(true)
			case v == sr.alarm.off:
				s.Siren = model.Ptr(false)
			case sr.enum && str != "":
				s.Siren = model.Ptr(true) // another of its alarm tones
			default:
				bad(sr.alarm.prop, v)
			}
		}
	}
	for _, r := range u.readings {
		v, ok := get(r.prop, 0)
		if !ok {
			continue
		}
		if r.kind.binary() {
			var active bool
			switch str, isStr := v.(string); {
			case r.anyOn && isStr && str != "" && v != r.off:
				active = true
			case v == r.on && !r.anyOn:
				active = true
			case v == r.off:
			default:
				bad(r.prop, v)
				continue
			}
			setReading(s, r.kind, active, 0)
			continue
		}
		n, ok := asNumber(v)
		switch {
		case !ok:
			bad(r.prop, v)
		case r.kind == readMeasure:
			setMeasure(s, r.quantity, n*r.scale)
		default:
			setReading(s, r.kind, false, n*r.scale)
		}
	}
}

// kindCommand builds the /set payload of a cover, fan or siren command.
func (u *z2mUnit) kindCommand(c model.Command, p map[string]any) error {
	switch c.Trait {
	case model.TraitCover:
		cv := u.cover
		if cv == nil {
			return notSupported(c)
		}
		if c.CoverStop != nil {
			// zigbee2mqtt's cover state enum: {"state": "STOP"} stops it.
			if cv.stop == "" || cv.state == "" {
				return &model.Error{Kind: model.ErrNotSupported, Message: "this cover cannot stop (its state has no STOP)"}
			}
			p[cv.state] = cv.stop
			return nil
		}
		if c.CoverTilt != nil {
			if cv.tilt == "" {
				return &model.Error{Kind: model.ErrNotSupported, Message: "this cover has no tilt"}
			}
			p[cv.tilt] = *c.CoverTilt
			return nil
		}
		pos := *c.CoverPosition
		switch {
		case cv.position != "":
			p[cv.position] = pos
		case pos == 100:
			p[cv.state] = cv.open
		case pos == 0:
			p[cv.state] = cv.close
		default:
			return &model.Error{Kind: model.ErrInvalidValue, Message: fmt.Sprintf("the cover only opens (100) and closes (0): position %d", pos)}
		}
	case model.TraitFan:
		f := u.fan
		if f == nil {
			return notSupported(c)
		}
		n := *c.FanSpeed
		switch {
		case n == 0 && f.state != nil:
			p[f.state.prop] = f.state.off
		case n == 0 && f.hasOff:
			p[f.mode] = "off"
		case n == 0:
			return &model.Error{Kind: model.ErrInvalidValue, Message: "the fan cannot be set to speed 0"}
		case len(f.speeds) > 0:
			i := clampInt(int(math.Round(float64(n)*float64(len(f.speeds))/100))-1, 0, len(f.speeds)-1) // the nearest speed
			p[f.mode] = f.speeds[i]
		case f.speed != "":
			p[f.speed] = int(math.Max(f.min, math.Min(f.max, math.Round(float64(n)*f.max/100))))
		default:
			return notSupported(c)
		}
	case model.TraitSiren:
		sr := u.siren
		if sr == nil {
			return notSupported(c)
		}
		switch {
		case sr.alarm != nil && *c.Siren:
			p[sr.alarm.prop] = sr.alarm.on
		case sr.alarm != nil:
			p[sr.alarm.prop] = sr.alarm.off
		case *c.Siren:
			// zigbee2mqtt's defaults (its converter and its own Home
			// Assistant siren): an emergency tone at medium level for 10 s.
			w := map[string]any{"mode": sr.tone}
			if sr.level {
				w["level"] = "medium"
			}
			if sr.timed {
				w["duration"] = 10
			}
			p[sr.warning] = w
		default:
			p[sr.warning] = map[string]any{"mode": "stop"}
		}
	default:
		return notSupported(c)
	}
	return nil
}

// fanPower sets a fan's on/off; false when u is not a fan or cannot.
func (u *z2mUnit) fanPower(on bool, p map[string]any) bool {
	f := u.fan
	switch {
	case f == nil:
		return false
	case f.state != nil && on:
		p[f.state.prop] = f.state.on
	case f.state != nil:
		p[f.state.prop] = f.state.off
	case on && len(f.speeds) > 0:
		p[f.mode] = f.speeds[len(f.speeds)-1]
	case !on && f.hasOff:
		p[f.mode] = "off"
	default:
		return false
	}
	return true
}

// hostCategory is the display category of a sensor-only endpoint: named
// after its strongest reading.
func hostCategory(t model.Traits) model.Category {
	switch {
	case t.Contact != nil:
		return model.CategoryContactSensor
	case t.Motion != nil:
		return model.CategoryMotionSensor
	case t.WaterLeak != nil || t.Smoke != nil || t.Gas != nil || t.Power != nil || t.Energy != nil || measuresAlone(t):
		return model.CategoryOther
	case t.TemperatureSensor != nil:
		return model.CategoryTemperatureSensor
	}
	return model.CategoryOther
}

// measuresAlone reports whether t carries a measured quantity that is a
// device's function by itself (CO2, particulates, soil moisture: not the
// pressure a weather sensor reports beside its temperature).
func measuresAlone(t model.Traits) bool {
	for _, r := range t.Ranges {
		if r.NonControllable && r.Quantity != "" && r.Quantity != model.QuantityPressure {
			return true
		}
	}
	return false
}

// isRemote reports whether an expose is a remote's or button's presses
// (zigbee2mqtt's action, or action_<endpoint> on a multi-endpoint remote).
func isRemote(e *z2mExpose) bool {
	return e.Name == "action" && (e.Type == "enum" || e.Type == "text") && e.Access&accessState != 0
}

// isStateSwitch reports whether e is a top-level binary "state" (or
// "state_<endpoint>", or a valve's open/closed: valveProperty) the device
// can set and report.
func isStateSwitch(e *z2mExpose) bool {
	return e.Type == "binary" && !settingProperty(e.Property) &&
		e.Access&accessSet != 0 && e.Access&accessState != 0 && e.Category == ""
}

// binaryStatesAreFunction reports whether the device's top-level binary
// "state" exposes are its function: a water valve's open/close (Sinopé
// VA4200WZ, GIEX QT06), a relay module's outputs (Cigol Connect, BOX
// ERC2202-Z), a breaker's on/off (Tuya TS0601_rcbo) — zigbee2mqtt exposes
// them as binary, not as a switch, and its Home Assistant discovery makes
// them switches. Not beside a climate (the thermostat's own on/off, see
// buildZ2MDevice) nor on a detector (a presence radar's "Function" state, a
// garage door opener's trigger beside its contact).
func binaryStatesAreFunction(d *z2mDeviceJSON) bool {
	for i := range d.Definition.Exposes {
		e := &d.Definition.Exposes[i]
		if e.Type == "climate" && e.Category == "" {
			return false
		}
		if rd, _ := parseReading(e, d.Definition.Description); rd != nil && e.Category == "" {
			switch rd.kind {
			case readContact, readMotion, readLeak, readSmoke, readGas, readVibration, readSOS, readRain, readHeat:
				return false
			}
		}
	}
	return true
}

// meterUnits reports whether a meter's kWh and W readings are its energy and
// power by their unit: a device without an "energy" (or "power") expose and
// without a climate names them by what it meters (energy_a, energy_l1,
// current_summ_delivered, cumulative_heat; power_a, active_power).
func meterUnits(d *z2mDeviceJSON) (energy, power bool) {
	energy, power = true, true
	for i := range d.Definition.Exposes {
		e := &d.Definition.Exposes[i]
		switch {
		case e.Type == "climate":
			return false, false
		case e.Type == "numeric" && e.Name == "energy":
			energy = false
		case e.Type == "numeric" && e.Name == "power":
			power = false
		}
	}
	return energy, power
}

// meterReading is a numeric reading in kWh (energy) or W (power) of a
// meter whose readings meterUnits lets the unit name; nil otherwise.
func meterReading(e *z2mExpose, energy, power bool) *z2mReading {
	if e.Type != "numeric" || e.Property == "" || e.Access&accessState == 0 {
		return nil
	}
	switch {
	case energy && e.Unit == "kWh":
		return &z2mReading{kind: readEnergy, prop: e.Property, scale: 1, endpnt: e.Endpoint}
	case power && e.Unit == "W":
		return &z2mReading{kind: readPower, prop: e.Property, scale: 1, endpnt: e.Endpoint}
	}
	return nil
}
