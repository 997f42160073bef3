package mqtt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/avshub/avshub/discovery/colorconv"
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
	Category    string      `json:"category"` // "config" or "diagnostic": not a function
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
	cover    *z2mCover
	fan      *z2mFan
	siren    *z2mSiren
	readings []*z2mReading
	press    *z2mPress // a remote opted into Alexa
	tempProp string
	getProps []string // properties readable with /get
	label    string   // the words beside the device's name of one of several ("valve_1"), "" for its suffix

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
	gamut     *colorconv.Gamut // the lamp's, by its Zigbee model (nil: none known)
}

type z2mLock struct {
	state     z2mBinary
	lockState string
}

type z2mClimate struct {
	power     *z2mBinary // the thermostat's own on/off (a binary "state" beside a system_mode without off): off is its off mode
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

// parseZ2MDevices parses a bridge/devices payload as a stream, one device
// entry at a time (the list of a big installation is tens of MB: no copy of
// it is held besides the payload). Devices that cannot be bridged, and the
// parts of bridged devices that are not imported, come back as skips; a
// device whose entry is malformed is skipped without affecting the others.
//
// abort, when not nil, is asked between entries: a bridge that is stopping
// does not finish parsing a big list.
func parseZ2MDevices(payload []byte, remotes map[string]*remoteOptIn, abort func() bool) ([]*z2mDevice, []Skip, map[string]bool, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		if err == nil {
			err = fmt.Errorf("starts with %v", t)
		}
		return nil, nil, nil, fmt.Errorf("bridge/devices is not a JSON array: %w", err)
	}
	known := map[string]bool{}
	// Most reasons repeat ("no trait for numeric power_apparent" on every
	// meter): one copy of each is kept.
	reasons := map[string]string{}
	intern := func(s string) string {
		if r, ok := reasons[s]; ok {
			return r
		}
		reasons[s] = s
		return s
	}
	var devs []*z2mDevice
	var skips []Skip
	for i := 0; dec.More(); i++ {
		if abort != nil && abort() {
			return nil, nil, nil, errAborted
		}
		var d z2mDeviceJSON
		if err := dec.Decode(&d); err != nil {
			var syn *json.SyntaxError
			if errors.As(err, &syn) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, nil, nil, fmt.Errorf("bridge/devices is not valid JSON: %w", err)
			}
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
		dev, dropped, skip := buildZ2MDevice(&d, remotes)
		for _, p := range dropped {
			skips = append(skips, Skip{Source: "zigbee2mqtt", ID: id, Part: p.part, Reason: intern(p.reason)})
		}
		if skip != "" {
			skips = append(skips, Skip{Source: "zigbee2mqtt", ID: id, Reason: skip})
			continue
		}
		devs = append(devs, dev)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, nil, fmt.Errorf("bridge/devices is not valid JSON: %w", err)
	}
	return devs, skips, known, nil
}

// errAborted: parsing stopped because the bridge is stopping.
var errAborted = errors.New("aborted: the bridge is stopping")

var knownExposeTypes = map[string]bool{"light": true, "switch": true, "lock": true, "climate": true, "fan": true, "cover": true,
	"binary": true, "numeric": true, "enum": true, "text": true, "composite": true, "list": true}

// primarySensors are exposes that are a device's primary function where
// they appear (a motion sensor is a motion sensor, whatever else it
// measures), by name, with what a person calls such a device.
// The ones with a trait are readings (z2mReadings).
var primarySensors = map[string]string{
	"alarm": "alarm sensor", "rain": "rain sensor",
	"air_quality": "air quality sensor",
}

// z2mDrop is one expose of a bridged device that is not imported, and why.
type z2mDrop struct{ part, reason string }

// exposeName names an expose for a skip record.
func exposeName(e *z2mExpose) string {
	n := e.Name
	if n == "" {
		n = e.Property
	}
	if n == "" {
		n = e.Type
	}
	if e.Endpoint != "" {
		n += "_" + e.Endpoint
	}
	return n
}

// settingSwitch reports whether a switch expose is a setting rather than the
// device's function (settingProperty of its state's property).
func settingSwitch(e *z2mExpose) bool {
	f := findZ2MFeature(e.Features, "state", "binary")
	return f != nil && settingProperty(f.Property)
}

// settingProperty reports whether a zigbee2mqtt switch on property prop is a
// setting rather than the device's function: zigbee2mqtt's function
// switches set "state" (or "state_<endpoint>"); window detection, away mode,
// child lock and their like are switches too, on other properties. Both the
// zigbee2mqtt source (exposes) and the Home Assistant source (zigbee2mqtt's
// discovery configs) judge by it. A valve's open/closed is its function
// too where zigbee2mqtt names it otherwise (valveProperty).
func settingProperty(prop string) bool {
	return prop != "state" && !strings.HasPrefix(prop, "state_") && !valveProperty.MatchString(prop)
}

// valveProperty matches a valve's settable open/closed that zigbee2mqtt
// does not call "state": a watering timer's valve_1 and valve_2 (GIEX
// GX03), a gas valve's gas_valve_state (ShinaSystem GCM-300Z). Not
// valve_detection or calibrate_valve (a thermostat's settings).
var valveProperty = regexp.MustCompile(`^(valve(_[0-9]+)?|gas_valve_state)$`)

// theSiren is the index of the expose that is a device's one siren: its
// warning (tones, level, duration) before a settable alarm (a Develco
// siren's manual start sounds the same sounder), else the first; -1 when
// it has none.
func theSiren(es []z2mExpose) int {
	at := -1
	for i := range es {
		e := &es[i]
		if e.Category == "config" || e.Category == "diagnostic" || parseZ2MSiren(e) == nil {
			continue
		}
		if at < 0 || (e.Name == "warning" && es[at].Name != "warning") {
			at = i
		}
	}
	return at
}

// buildZ2MDevice turns one device into its units (endpoints). It returns
// the exposes it does not import with the reasons, and a reason when the
// whole device is skipped. remotes are the remotes opted into Alexa (the
// bridge config's remotes, by friendly name and IEEE address).
func buildZ2MDevice(d *z2mDeviceJSON, remotes map[string]*remoteOptIn) (*z2mDevice, []z2mDrop, string) {
	dev := &z2mDevice{ieee: d.IEEE, name: d.FriendlyName}
	var dropped []z2mDrop
	drop := func(e *z2mExpose, reason string) { dropped = append(dropped, z2mDrop{exposeName(e), reason}) }
	var units []*z2mUnit
	var temp *z2mExpose
	var climate *z2mUnit
	var readings []*z2mReading
	var readingExposes []*z2mExpose
	var power *z2mExpose // a binary "state": a thermostat's on/off
	powerDrop := -1
	unsupported := "" // the primary function the hub has no trait for
	hasFan := false
	var actions []*z2mExpose // a remote's presses
	var actionDrops []int
	siren := theSiren(d.Definition.Exposes)
	stateSwitches := binaryStatesAreFunction(d)
	meterEnergy, meterPower := meterUnits(d)
	for i := range d.Definition.Exposes {
		e := &d.Definition.Exposes[i]
		if !knownExposeTypes[e.Type] {
			drop(e, fmt.Sprintf("unknown expose type %q", e.Type))
			continue
		}
		if isRemote(e) {
			actions = append(actions, e)
			actionDrops = append(actionDrops, len(dropped))
			drop(e, remoteReason)
			continue
		}
		// A battery's level is the endpoint's health (zigbee2mqtt files it
		// under diagnostic): it rides along, never an endpoint of its own.
		rd, why := parseReading(e, d.Definition.Description)
		if rd == nil && why == "" && e.Category == "" {
			rd = meterReading(e, meterEnergy, meterPower)
		}
		if rd != nil && (e.Category == "" || rd.kind == readBattery || rd.kind == readBatteryLow) {
			readings = append(readings, rd)
			readingExposes = append(readingExposes, e)
			continue
		}
		switch e.Category {
		case "config":
			drop(e, "a setting (category config), not a function")
			continue
		case "diagnostic":
			drop(e, "diagnostic (category diagnostic), not a function")
			continue
		}
		if why != "" {
			drop(e, why)
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
			} else {
				drop(e, "light without a settable state")
			}
		case "switch":
			f := findZ2MFeature(e.Features, "state", "binary")
			switch {
			case settingSwitch(e):
				drop(e, fmt.Sprintf("a setting (%s) exposed as a switch, not a function", f.Property))
			case f != nil && f.Access&accessSet != 0:
				u = &z2mUnit{onoff: &z2mBinary{prop: f.Property, on: f.ValueOn, off: f.ValueOff}}
				u.ep.Category = model.CategorySmartPlug
				u.ep.Traits.OnOff = &model.OnOff{}
			default:
				drop(e, "switch without a settable state")
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
			} else {
				drop(e, "lock without a settable state")
			}
		case "climate":
			if climate != nil {
				drop(e, "a further climate expose: one climate device is one thermostat")
				continue
			}
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
				climate = u
			} else {
				drop(e, "climate without a settable setpoint or mode")
			}
		case "fan":
			hasFan = true
			if f := parseZ2MFan(e.Features); f != nil {
				u = &z2mUnit{fan: f}
				u.ep.Category = model.CategoryFan
				if f.state != nil || f.hasOff {
					u.ep.Traits.OnOff = &model.OnOff{}
				}
				if len(f.speeds) > 0 || f.speed != "" {
					u.ep.Traits.Fan = f.trait()
				}
			} else {
				drop(e, "fan without a settable state, mode or speed")
			}
		case "cover":
			if c := parseZ2MCover(e.Features); c != nil {
				u = &z2mUnit{cover: c}
				u.ep.Category = model.CategoryInteriorBlind
				u.ep.Traits.Cover = &model.Cover{Tilt: c.tilt != ""}
				if t := findZ2MFeature(e.Features, "tilt", "numeric"); t != nil && c.tilt == "" {
					drop(t, "a cover's tilt that is not a settable 0–100 %")
				}
			} else {
				drop(e, "cover without a settable state or position")
			}
		case "numeric":
			if e.Name == "temperature" && e.Access&accessState != 0 && (e.Unit == "°C" || e.Unit == "") {
				if temp == nil {
					temp = e
				} else {
					drop(e, "a further temperature: one device is one thermometer")
				}
				continue
			}
			fallthrough
		default:
			if s := parseZ2MSiren(e); s != nil {
				if i != siren {
					drop(e, "a further siren: one device is one siren ("+exposeName(&d.Definition.Exposes[siren])+")")
					continue
				}
				u = &z2mUnit{siren: s}
				u.ep.Category = model.CategorySecurityPanel
				u.ep.Traits.Siren = &model.Siren{}
				break
			}
			if stateSwitches && isStateSwitch(e) {
				u = &z2mUnit{onoff: &z2mBinary{prop: e.Property, on: e.ValueOn, off: e.ValueOff}}
				if valveProperty.MatchString(e.Property) {
					// named by its property ("valve 1"), as zigbee2mqtt's Home Assistant discovery names it
					u.label = e.Property
				}
				u.ep.Category = model.CategorySwitch
				u.ep.Traits.OnOff = &model.OnOff{}
				if e.Access&accessGet != 0 {
					u.getProps = []string{e.Property}
				}
				break
			}
			if e.Type == "binary" && e.Property == "state" && e.Access&accessSet != 0 && power == nil {
				power, powerDrop = e, len(dropped)
			}
			if kind, ok := primarySensors[e.Name]; ok && e.Access&accessState != 0 {
				if unsupported == "" {
					unsupported = kind
				}
				drop(e, "no trait for "+e.Name+" ("+kind+") yet")
			} else {
				drop(e, "no trait for "+e.Type+" "+exposeName(e))
			}
		}
		if u == nil {
			continue
		}
		u.getProps = append(u.getProps, collectGetProps(e)...)
		u.ep.Description = e.Endpoint // overwritten below
		units = append(units, u)
	}
	if c := climate; c != nil && power != nil && c.climate.modes[model.ModeOff] == "" {
		// zigbee2mqtt's "Turn the thermostat ON/OFF" beside a system_mode
		// without off: the thermostat's off mode
		c.climate.power = &z2mBinary{prop: power.Property, on: power.ValueOn, off: power.ValueOff}
		c.climate.modeOrder = append(c.climate.modeOrder, model.ModeOff)
		c.ep.Traits.Thermostat.Modes = c.climate.modeOrder
		dropped = slices.Delete(dropped, powerDrop, powerDrop+1)
		for i := range actionDrops {
			if actionDrops[i] > powerDrop {
				actionDrops[i]--
			}
		}
		if power.Access&accessGet != 0 {
			c.getProps = append(c.getProps, power.Property)
		}
	}
	actuators := len(units)
	strong, alone := false, temp != nil
	for _, r := range readings {
		strong = strong || r.kind.strong() || (r.kind == readMeasure && r.quantity != model.QuantityPressure) // as measuresAlone
		alone = alone || r.kind.alone()
	}
	// A sensor device is one endpoint with every reading; a device whose
	// function has no trait (a vibration or air quality sensor) is not
	// imported as what else it measures.
	// A remote opted into Alexa is a contact or motion sensor its presses
	// trip (with its battery).
	var press *z2mPress
	optIn := remotes[d.FriendlyName]
	if optIn == nil {
		optIn = remotes[strings.ToLower(d.IEEE)]
	}
	if optIn != nil && len(actions) > 0 && actuators == 0 {
		var why string
		if press, why = newPress(optIn, actions); why != "" {
			return nil, dropped, why
		}
	}
	var host *z2mUnit
	if actuators == 0 && (strong || (alone && unsupported == "") || press != nil) {
		host = &z2mUnit{}
		units = append(units, host)
	}
	// home is the unit a reading of endpoint ep joins.
	home := func(ep string) *z2mUnit {
		if ep != "" {
			for _, u := range units {
				if u.ep.Description == ep {
					return u
				}
			}
		}
		switch {
		case host != nil:
			return host
		case actuators == 1:
			return units[0]
		}
		return nil
	}
	for i, r := range readings {
		e := readingExposes[i]
		u := home(r.endpnt)
		switch {
		case u == nil && len(units) == 0:
			drop(e, fmt.Sprintf("not imported alone: a %s reading is not the device's function", r.kind))
			continue
		case u == nil:
			drop(e, fmt.Sprintf("a device-wide %s reading on a device of several endpoints", r.kind))
			continue
		}
		dup := false
		for _, x := range u.readings {
			dup = dup || (x.kind == r.kind && x.quantity == r.quantity) || (x.kind.motion() && r.kind.motion())
		}
		if dup {
			drop(e, fmt.Sprintf("a further %s reading: one endpoint has one", r.kind))
			continue
		}
		u.readings = append(u.readings, r)
		if r.kind == readMeasure {
			addMeasure(&u.ep.Traits, r.quantity)
		} else {
			setReadingTrait(&u.ep.Traits, r.kind)
		}
		if e.Access&accessGet != 0 {
			u.getProps = append(u.getProps, r.prop)
		}
	}
	if temp != nil {
		switch {
		case climate != nil:
			if climate.climate.local == "" {
				climate.tempProp = temp.Property
				climate.ep.Traits.TemperatureSensor = &model.TemperatureSensor{}
				if temp.Access&accessGet != 0 {
					climate.getProps = append(climate.getProps, temp.Property)
				}
			} else {
				drop(temp, "the thermostat reports local_temperature")
			}
		case host != nil && host.ep.Traits.Power == nil && host.ep.Traits.Energy == nil:
			host.tempProp = temp.Property
			host.ep.Traits.TemperatureSensor = &model.TemperatureSensor{}
			if temp.Access&accessGet != 0 {
				host.getProps = append(host.getProps, temp.Property)
			}
		case actuators == 1 && units[0].siren != nil && units[0].ep.Traits.Humidity != nil && !strong:
			// a temperature and humidity sensor with a siren (NEO NAS-AB02B0)
			units[0].tempProp = temp.Property
			units[0].ep.Traits.TemperatureSensor = &model.TemperatureSensor{}
			if temp.Access&accessGet != 0 {
				units[0].getProps = append(units[0].getProps, temp.Property)
			}
		case actuators > 0 || hasFan || host != nil:
			drop(temp, "the device's internal temperature, not a thermometer")
		case unsupported != "":
			drop(temp, "not imported alone: the device is a "+unsupported)
		}
	}
	if press != nil {
		switch t := &host.ep.Traits; {
		case press.contact && t.Contact != nil, !press.contact && t.Motion != nil:
			// its own contact or motion is what it reports (no remote in
			// zigbee-herdsman-converters has one)
			press = nil
		case press.contact:
			t.Contact = &model.Contact{}
		default:
			t.Motion = &model.Motion{}
		}
		if press != nil {
			host.press = press
			keep := dropped[:0]
			for i, x := range dropped {
				if !slices.Contains(actionDrops, i) {
					keep = append(keep, x)
				}
			}
			dropped = keep
			actionDrops = nil
		}
	}
	if host != nil {
		host.ep.Category = hostCategory(host.ep.Traits)
	}
	for _, u := range units {
		t := u.ep.Traits
		if u.siren != nil && (t.Contact != nil || t.Motion != nil || t.Smoke != nil || t.Gas != nil || t.WaterLeak != nil) {
			u.ep.Category = hostCategory(t) // a detector with its own siren
		}
	}
	if len(units) == 0 {
		switch {
		case unsupported != "":
			return nil, dropped, "a " + unsupported + ": no trait for its primary function yet"
		case len(actions) > 0:
			return nil, dropped, remoteReason
		}
		return nil, dropped, "no light, switch, lock, climate, cover, fan, siren or sensor expose"
	}
	for _, i := range actionDrops {
		// A lock's or a switch's action is what happened to it, not a remote.
		dropped[i].reason = "events (action) of a device with another function: not an Alexa endpoint"
		if optIn != nil {
			dropped[i].reason += " (opted in as a remote: only a device whose function is its presses can be)"
		}
	}
	base := d.FriendlyName
	if model.IsAddressName(base) {
		// zigbee2mqtt's default name, the address: named as the Zigbee
		// bridge names its own ("IKEA bulb"); the topic keeps the address.
		// Named by its primary function (z2mPrimary), as the Home
		// Assistant source names it.
		ts := make([]model.Traits, len(units))
		fan := -1
		for i, u := range units {
			ts[i] = u.ep.Traits
			if hasFan && u.fan != nil && u.ep.Description == "" && climate == nil {
				fan = i
			}
		}
		base = z2mDefaultName(d.Definition.Vendor, d.Definition.Description, ts[z2mPrimary(ts, fan)])
	}
	wholeDevice := 0 // units of no endpoint
	for _, u := range units {
		if u.ep.Description == "" {
			wholeDevice++
		}
	}
	var words []string // of the functions of no endpoint, by unit
	if wholeDevice > 1 && (!hasFan || climate != nil) {
		var ts []model.Traits
		for _, u := range units {
			if u.ep.Description == "" {
				ts = append(ts, u.ep.Traits)
			}
		}
		if ws := z2mFunctionNames(ts); ws != nil {
			words = make([]string, len(units))
			j := 0
			for i, u := range units {
				if u.ep.Description == "" {
					words[i] = ws[j]
					j++
				}
			}
		}
	}
	for i, u := range units {
		suffix := u.ep.Description
		u.id = "z2m:" + d.IEEE
		name := base
		fanItself := hasFan && u.fan != nil && suffix == "" && climate == nil // a thermostat's fan is not the device
		if (len(units) > 1 && !fanItself) || (hasFan && u.light != nil) {
			if suffix == "" {
				suffix = strconv.Itoa(i + 1)
			}
			if hasFan && u.light != nil && u.ep.Description == "" {
				suffix = "light" // the fan's light: never named as the fan
			}
			u.id += ":" + suffix
			switch {
			case u.ep.Description == "" && wholeDevice == 1 && !(hasFan && u.light != nil):
				// the device's one function of no endpoint beside its
				// endpoints' is named as the device (its id keeps the number)
			case words != nil && u.ep.Description == "":
				// the primary of its functions of no endpoint keeps the
				// device's name, the others say what they are
				if words[i] != "" {
					name += " " + words[i]
				}
			default:
				name += " " + z2mEndpointWords(firstNonEmpty(u.label, suffix))
			}
		}
		desc := d.Description
		if desc == "" && d.Definition.Description != "" {
			desc = d.Definition.Description
		}
		desc = model.Truncate(desc+" via zigbee2mqtt", model.MaxDescriptionLen)
		u.ep = model.Endpoint{
			DeviceID:     u.id,
			FriendlyName: model.Truncate(z2mPersonName(name), model.MaxFriendlyNameLen),
			Manufacturer: firstNonEmpty(d.Definition.Vendor, d.Manufacturer),
			Model:        firstNonEmpty(d.Definition.Model, d.ModelID),
			Description:  desc,
			Category:     u.ep.Category,
			Connections:  []model.Connection{{Type: model.ConnectionZigbee, MACAddress: ieeeToMAC(d.IEEE)}},
			Traits:       u.ep.Traits,
		}
		if u.light != nil {
			u.light.gamut = colorconv.HueGamut(d.ModelID)
		}
		sort.Strings(u.getProps)
	}
	dev.units = units
	return dev, dropped, ""
}

// z2mPersonName is a zigbee2mqtt name as a person says it, alike from both
// sources: zigbee2mqtt's topic groups ("kitchen/lamp") and a vendor's
// slashes ("Nue / 3A") are spaces, and runs of spaces one.
func z2mPersonName(name string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(name, "/", " ")), " ")
}

// z2mEndpointWords is a zigbee2mqtt endpoint's name as the words after the
// device's name, alike from both sources: as zigbee2mqtt names the
// endpoint (lower case: "left", "l1", "usb"), as the hub's own words after
// a name are ("Hampton Bay fan light"), with its underscores as spaces
// ("bottom_left" is "bottom left"). zigbee2mqtt's Home Assistant discovery
// capitalises it ("Left", "Bottom_left") because Home Assistant shows the
// entity's name alone.
func z2mEndpointWords(ep string) string {
	return strings.ReplaceAll(ep, "_", " ")
}

// z2mFunctionNames names a zigbee2mqtt device's several functions of no
// endpoint (a climate and a switch, a light and a switch), alike from both
// sources: the primary one (model.FunctionRank: a thermostat before a light
// before a switch) keeps the device's name, each other is "<device>
// <its word>" ("Airzone thermostat" and "Airzone thermostat switch"). It
// returns "" for the primary and the word of each other, or nil when the
// primary or the words are not each unique (the caller names them as
// before).
func z2mFunctionNames(traits []model.Traits) []string {
	best, at := 0, -1
	for i, t := range traits {
		r := model.FunctionRank(t)
		switch {
		case at < 0 || r < best:
			best, at = r, i
		case r == best:
			at = -2 // a tie: no one primary
		}
	}
	if at < 0 {
		return nil
	}
	words := make([]string, len(traits))
	seen := map[string]bool{}
	for i, t := range traits {
		if i == at {
			continue
		}
		w := model.FunctionWord(t)
		if w == "" || seen[w] {
			return nil
		}
		seen[w], words[i] = true, w
	}
	return words
}

// z2mPrimary is the index of a device's primary function among its
// endpoints' traits, which names the device when zigbee2mqtt has only its
// address for a name, alike from both sources: its fan (fan >= 0; a ceiling
// fan with its light is "Hampton Bay fan" and "Hampton Bay fan light"),
// else the first of the best model.FunctionRank (a thermostat with a switch is
// a thermostat, not a switch).
func z2mPrimary(ts []model.Traits, fan int) int {
	if fan >= 0 {
		return fan
	}
	at := 0
	for i, t := range ts {
		if model.FunctionRank(t) < model.FunctionRank(ts[at]) {
			at = i
		}
	}
	return at
}

// z2mDefaultName names a zigbee2mqtt device that has only its address for a
// name, from its definition's vendor and description and its primary
// endpoint's traits (both sources name it alike).
func z2mDefaultName(vendor, description string, primary model.Traits) string {
	return model.DefaultName(model.CatalogueBrand(vendor), model.DeviceKind(primary, description, false))
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

// unknownFields is a set of state fields a device reported as null:
// zigbee2mqtt's "unknown" (a lock while its bolt moves, a value it has not
// read yet). They are forgotten, never taken as the device's answer.
type unknownFields uint

const (
	unknownOn unknownFields = 1 << iota
	unknownBrightness
	unknownColorTemperature
	unknownColor
	unknownLock
	unknownMode
	unknownSetpoints
	unknownTemperature
)

// forget clears the unknown fields of s.
func (f unknownFields) forget(s model.State) model.State {
	if f == 0 {
		return s
	}
	s = s.Clone()
	if f&unknownOn != 0 {
		s.On = nil
	}
	if f&unknownBrightness != 0 {
		s.Brightness = nil
	}
	if f&unknownColorTemperature != 0 {
		s.ColorTemperature = nil
	}
	if f&unknownColor != 0 {
		s.Color = nil
	}
	if f&unknownLock != 0 {
		s.Lock = ""
	}
	if s.Thermostat != nil && f&(unknownMode|unknownSetpoints) != 0 {
		t := *s.Thermostat
		if f&unknownMode != 0 {
			t.Mode = ""
		}
		if f&unknownSetpoints != 0 {
			t.Target, t.Lower, t.Upper = nil, nil, nil
		}
		s.Thermostat = &t
	}
	if f&unknownTemperature != 0 {
		s.Temperature = nil
	}
	return s
}

// parseState extracts the unit's state from a zigbee2mqtt state message.
// Properties of the wrong type are reported in problems and ignored; null
// properties (zigbee2mqtt's "unknown") come back in unknown.
func (u *z2mUnit) parseState(m map[string]any) (model.State, unknownFields, []string) {
	var s model.State
	var unknown unknownFields
	var problems []string
	bad := func(prop string, v any) {
		problems = append(problems, fmt.Sprintf("property %q has unexpected value %v", prop, v))
	}
	// get returns a property's value; a null one marks f unknown.
	get := func(prop string, f unknownFields) (any, bool) {
		if prop == "" {
			return nil, false
		}
		v, ok := m[prop]
		if ok && v == nil {
			unknown |= f
			return nil, false
		}
		return v, ok
	}
	if l := u.light; l != nil {
		if v, ok := get(l.state.prop, unknownOn); ok {
			switch {
			case v == l.state.on:
				s.On = model.Ptr(true)
			case v == l.state.off:
				s.On = model.Ptr(false)
			default:
				bad(l.state.prop, v)
			}
		}
		if v, ok := get(l.bright, unknownBrightness); ok {
			if n, ok := asNumber(v); ok && n >= 0 {
				s.Brightness = model.Ptr(clampInt(int(math.Round(n*100/l.brightMax)), 0, 100))
			} else {
				bad(l.bright, v)
			}
		}
		mode, _ := m["color_mode"].(string)
		if mode == "" || mode == "color_temp" {
			if v, ok := get(l.ct, unknownColorTemperature); ok {
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
		}
		if (l.xy || l.hs) && mode != "color_temp" {
			if v, ok := get(l.colorProp, unknownColor); ok {
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
	}
	if b := u.onoff; b != nil {
		if v, ok := get(b.prop, unknownOn); ok {
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
		// A null state means the bolt's position is unknown (zigbee2mqtt
		// publishes it when the lock acknowledges a command, before the
		// bolt has moved); lock_state may then still be the old value.
		v, ok := get(lk.state.prop, unknownLock)
		if ls, lok := get(lk.lockState, unknownLock); lok && unknown&unknownLock == 0 {
			switch ls {
			case "locked":
				s.Lock = model.Locked
			case "unlocked":
				s.Lock = model.Unlocked
			case "not_fully_locked":
				s.Lock = model.Jammed
			default:
				bad(lk.lockState, ls)
			}
		} else if ok && unknown&unknownLock == 0 {
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
		if v, ok := get(c.mode, unknownMode); ok {
			str, _ := v.(string)
			if am, ok := z2mModes[str]; ok {
				ts.Mode, set = am, true
			} else {
				bad(c.mode, v)
			}
		}
		if c.power != nil {
			if v, ok := get(c.power.prop, unknownMode); ok {
				switch {
				case v == c.power.off:
					ts.Mode, set = model.ModeOff, true
				case v != c.power.on:
					bad(c.power.prop, v)
				case c.mode == "":
					ts.Mode, set = c.modeOrder[0], true // on: its one mode
				}
			}
		}
		num := func(prop string, f unknownFields) *float64 {
			v, ok := get(prop, f)
			if !ok {
				return nil
			}
			if n, ok := asNumber(v); ok {
				return &n
			}
			bad(prop, v)
			return nil
		}
		dual := u.ep.Traits.Thermostat.DualSetpoints && ts.Mode == model.ModeAuto
		h, cl := num(c.heat, unknownSetpoints), num(c.cool, unknownSetpoints)
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
		if t := num(c.local, unknownTemperature); t != nil {
			s.Temperature = t
		}
	}
	u.parseKinds(&s, get, bad)
	if v, ok := get(u.tempProp, unknownTemperature); ok {
		if n, ok := asNumber(v); ok {
			s.Temperature = &n
		} else {
			bad(u.tempProp, v)
		}
	}
	return s, unknown, problems
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
		h, s := xyToHS(x, y)
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
		if b == nil && u.fanPower(*c.Power, p) {
			break
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
			x, y := hsToXY(c.Color.Hue, c.Color.Saturation, l.gamut)
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
		switch {
		case t.Mode == model.ModeOff && cl.power != nil:
			p[cl.power.prop] = cl.power.off
		case t.Mode != "" && cl.power != nil:
			p[cl.power.prop] = cl.power.on
		}
		if t.Mode != "" && (cl.power == nil || t.Mode != model.ModeOff) {
			v, ok := cl.modes[t.Mode]
			if !ok {
				if cl.mode != "" || cl.modeOrder[0] != t.Mode {
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
		if err := u.kindCommand(c, p); err != nil {
			return nil, err
		}
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
