package mqtt

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/avshub/avshub/discovery/model"
)

// avshubOrigin is the origin name of the entities avshub publishes for
// dashboards (CONTRACTS.md); the bridge never imports them back.
const avshubOrigin = "avshub"

// haSource is Home Assistant MQTT discovery: pure logic, fed messages by the
// bridge (config topics under the prefix, and the entities' own topics).
type haSource struct {
	prefix string
	bad    *onceLog
	log    *slog.Logger

	entities map[string]*haEntity
	skips    map[string]Skip
	states   map[string]model.State // by entity key
	index    map[string][]haRef     // topic → entities listening to it
	owner    map[string]string      // entity key → device id of its endpoint (set by units)
	loose    map[string]Skip        // entities no endpoint takes (set by units)
	// noTrait notes zigbee2mqtt's entities that are their device's primary
	// function but not imported (an alarm, rain or air quality sensor, an
	// energy reading without a class): entity key → device key and kind.
	noTrait map[string][2]string
	// dup reports entities that another source (zigbee2mqtt) already bridges.
	dup func(e *haEntity) bool
}

type haRef struct {
	key   string
	avail int // index into the entity's availability entries, or -1 for a state topic
	sub   haSub
}

func newHASource(prefix string, bad *onceLog, log *slog.Logger) *haSource {
	return &haSource{prefix: prefix, bad: bad, log: log, entities: map[string]*haEntity{}, skips: map[string]Skip{},
		states: map[string]model.State{}, index: map[string][]haRef{}, noTrait: map[string][2]string{}, dup: func(*haEntity) bool { return false }}
}

// handle processes one message. It reports whether the entity set changed and
// which entities' state it updated.
func (h *haSource) handle(topic string, payload []byte) (changed bool, updated []string) {
	if rest, ok := strings.CutPrefix(topic, h.prefix+"/"); ok && strings.HasSuffix(rest, "/config") {
		return h.handleConfig(topic, strings.TrimSuffix(rest, "/config"), payload), nil
	}
	for _, ref := range h.index[topic] {
		e := h.entities[ref.key]
		if e == nil {
			continue
		}
		if ref.avail >= 0 {
			h.handleAvailability(e, ref.avail, payload)
			continue
		}
		s, err := e.onMessage(ref.sub, payload)
		if err != nil {
			h.bad.warn("homeassistant "+e.key, fmt.Sprintf("message on %s: %v", topic, err))
			continue
		}
		h.states[e.key] = h.states[e.key].Merge(s)
		updated = append(updated, e.key)
	}
	return false, updated
}

func (h *haSource) handleAvailability(e *haEntity, i int, payload []byte) {
	a := &e.avail.entries[i]
	v, err := a.tpl.render(payload)
	if err != nil && err != errUndefined {
		h.bad.warn("homeassistant "+e.key, fmt.Sprintf("availability on %s: %v", a.topic, err))
		return
	}
	switch strings.TrimSpace(v) {
	case a.on:
		a.state = 1
	case a.off:
		a.state = -1
	default:
		return // HA ignores payloads that are neither
	}
	e.avail.seq++
	a.sequence = e.avail.seq
}

func (h *haSource) handleConfig(topic, id string, payload []byte) bool {
	segs := strings.Split(id, "/")
	if len(segs) < 2 || len(segs) > 3 {
		return false
	}
	component := segs[0]
	base := strings.Join(segs, "/")
	if len(payload) == 0 {
		return h.removeUnder(base, component == "device")
	}
	m, err := decodeObject(payload)
	if err != nil {
		h.bad.warn("homeassistant "+topic, err.Error())
		return false
	}
	h.bad.clear("homeassistant " + topic)
	cfg := expandConfig(m)
	if v, _ := cfg["migrate_discovery"].(bool); v {
		return false // the publisher is moving this entity to device discovery
	}
	if o, ok := cfg["origin"].(map[string]any); ok && strings.EqualFold(fmt.Sprint(o["name"]), avshubOrigin) {
		changed := h.removeUnder(base, component == "device")
		h.skips[base] = Skip{Source: "homeassistant", ID: topic, Reason: "published by avshub itself"}
		return changed
	}
	if component != "device" {
		h.put(base, component, cfg)
		return true
	}
	comps, ok := cfg["components"].(map[string]any)
	if !ok {
		h.bad.warn("homeassistant "+topic, "device discovery without components")
		return h.removeUnder(base, true)
	}
	shared := map[string]any{}
	for k, v := range cfg {
		if k != "components" {
			shared[k] = v
		}
	}
	keep := map[string]bool{}
	for cid, c := range comps {
		cm, ok := c.(map[string]any)
		key := base + "/" + cid
		if !ok {
			h.bad.warn("homeassistant "+key, "component is not an object")
			continue
		}
		platform, _ := cm["platform"].(string)
		if platform == "" || len(cm) == 1 {
			continue // only "p": the component is being removed
		}
		merged := make(map[string]any, len(shared)+len(cm))
		for k, v := range shared {
			merged[k] = v
		}
		for k, v := range cm {
			merged[k] = v
		}
		if tb, ok := merged["~"].(string); ok {
			expandTilde(merged, tb)
		}
		keep[key] = true
		h.put(key, platform, merged)
	}
	for k := range h.entities {
		if strings.HasPrefix(k, base+"/") && !keep[k] {
			h.drop(k)
		}
	}
	for k := range h.skips {
		if strings.HasPrefix(k, base+"/") && !keep[k] {
			delete(h.skips, k)
			delete(h.noTrait, k)
		}
	}
	return true
}

func (h *haSource) put(key, platform string, cfg map[string]any) {
	delete(h.noTrait, key)
	e, err := parseHAEntity(key, platform, cfg)
	if err != nil {
		if kind := z2mPrimaryWithoutTrait(e, platform, cfg); kind != "" {
			h.noTrait[key] = [2]string{e.device.key, kind}
		}
		if _, had := h.entities[key]; had {
			h.drop(key)
		}
		sk := Skip{Source: "homeassistant", ID: key, Reason: err.Error()}
		if e != nil && e.device.name != "" {
			sk.ID, sk.Part = e.device.name, key
		}
		h.skips[key] = sk
		var ni *notImported
		if errors.As(err, &ni) || strings.HasPrefix(err.Error(), "platform ") || strings.HasPrefix(err.Error(), "sensor with device_class") || strings.HasPrefix(err.Error(), "binary_sensor with device_class") {
			h.bad.logSkipped(sk)
		} else {
			h.bad.warn("homeassistant "+key, "entity unsupported: "+err.Error())
		}
		return
	}
	delete(h.skips, key)
	if old, ok := h.entities[key]; ok {
		// Keep what availability said about topics that are still configured.
		for i := range e.avail.entries {
			for _, oe := range old.avail.entries {
				if oe.topic == e.avail.entries[i].topic {
					e.avail.entries[i].state, e.avail.entries[i].sequence = oe.state, oe.sequence
				}
			}
		}
		e.avail.seq = old.avail.seq
		h.unindex(old)
	}
	h.entities[key] = e
	h.indexEntity(e)
}

func (h *haSource) removeUnder(base string, prefix bool) bool {
	changed := false
	for k := range h.entities {
		if k == base || (prefix && strings.HasPrefix(k, base+"/")) {
			h.drop(k)
			changed = true
		}
	}
	for k := range h.skips {
		if k == base || (prefix && strings.HasPrefix(k, base+"/")) {
			delete(h.skips, k)
			delete(h.noTrait, k)
		}
	}
	return changed
}

func (h *haSource) drop(key string) {
	if e, ok := h.entities[key]; ok {
		h.unindex(e)
	}
	delete(h.entities, key)
	delete(h.states, key)
}

// indexEntity adds e's state and availability topics to the index. The index
// is kept per entity as entities come and go: rebuilding it over every entity
// on each discovery message made registering n entities cost O(n²).
func (h *haSource) indexEntity(e *haEntity) {
	for _, s := range e.subs {
		h.index[s.topic] = append(h.index[s.topic], haRef{key: e.key, avail: -1, sub: s})
	}
	for i, a := range e.avail.entries {
		h.index[a.topic] = append(h.index[a.topic], haRef{key: e.key, avail: i})
	}
}

// unindex removes e's references from the index (a topic nobody else
// listens to goes away).
func (h *haSource) unindex(e *haEntity) {
	topics := make([]string, 0, len(e.subs)+len(e.avail.entries))
	for _, s := range e.subs {
		topics = append(topics, s.topic)
	}
	for _, a := range e.avail.entries {
		topics = append(topics, a.topic)
	}
	for _, t := range topics {
		old, ok := h.index[t]
		if !ok {
			continue // a second sub on the same topic: already done
		}
		refs := make([]haRef, 0, len(old))
		for _, r := range old {
			if r.key != e.key {
				refs = append(refs, r)
			}
		}
		if len(refs) == 0 {
			delete(h.index, t)
		} else {
			h.index[t] = refs
		}
	}
}

// topics returns every topic the entities listen to.
func (h *haSource) topics() []string {
	out := make([]string, 0, len(h.index))
	for t := range h.index {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// units groups the entities into endpoints the way a person would: every
// light, lock, switch, climate, cover, fan and siren is its own endpoint; a
// device's temperature sensor joins its one climate; a device's readings
// (contact, motion, leak, smoke, gas, tamper, humidity, illuminance, power,
// energy, battery) join its one actuator, or make one sensor endpoint with
// its first temperature when it has none (or several); further
// temperatures stand alone.
func (h *haSource) units() []*unit {
	groups := map[string][]*haEntity{}
	var order []string
	for _, e := range h.entities {
		if h.dup(e) {
			continue
		}
		g := e.device.key
		if g == "" {
			g = "entity:" + e.key
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], e)
	}
	sort.Strings(order)
	var out []*unit
	h.owner = map[string]string{}
	h.loose = map[string]Skip{}
	for _, g := range order {
		es := groups[g]
		sort.Slice(es, func(i, j int) bool { return es[i].key < es[j].key })
		var actuators, temps, readings, climates []*haEntity
		alone := false // a reading that is a function by itself
		for _, e := range es {
			if e.cover != nil && e.cover.tiltWhy != "" {
				h.loose[e.key+" tilt"] = Skip{Source: "homeassistant", ID: e.device.name, Part: e.key + " tilt",
					Reason: "the cover is bridged without its tilt: " + e.cover.tiltWhy}
			}
			switch {
			case e.sensor != nil && e.sensor.kind == 0:
				temps = append(temps, e)
			case e.sensor != nil || e.binary != nil:
				readings = append(readings, e)
				alone = alone || e.readingKind().alone()
			default:
				actuators = append(actuators, e)
				if e.climate != nil {
					climates = append(climates, e)
				}
			}
		}
		// One zigbee2mqtt climate device is one thermostat, as the
		// zigbee2mqtt source judges: a further climate is not imported, nor
		// the thermostat's on/off that zigbee2mqtt publishes as a switch
		// from a binary "state" expose (object id switch_state; a switch
		// expose's is switch).
		if len(climates) > 0 {
			keptA, keptC := actuators[:0], climates[:0:0]
			for _, a := range actuators {
				switch {
				case a.fromZigbee2MQTT() && a.climate != nil && len(keptC) > 0:
					h.loose[a.key] = Skip{Source: "homeassistant", ID: a.device.name, Part: a.key,
						Reason: "a further climate: one climate device is one thermostat"}
					continue
				case a.fromZigbee2MQTT() && a.switchProperty() == "state" && strings.HasSuffix(a.key, "/switch_state"):
					h.loose[a.key] = Skip{Source: "homeassistant", ID: a.device.name, Part: a.key,
						Reason: "a thermostat's on/off (zigbee2mqtt's binary state) beside its climate: one device is one thermostat"}
					continue
				case a.climate != nil:
					keptC = append(keptC, a)
				}
				keptA = append(keptA, a)
			}
			actuators, climates = keptA, keptC
		}
		// A zigbee2mqtt thermostat's open-window detection ("window",
		// "window_open") and its valve's state ("valve_state"), which
		// zigbee2mqtt discovers as binary_sensors of device class window or
		// opening, are not a contact sensor: the zigbee2mqtt source takes
		// only a "contact" beside a climate.
		if len(climates) > 0 {
			kept := readings[:0]
			for _, r := range readings {
				if p := r.valueProperty(); r.fromZigbee2MQTT() && r.readingKind() == readContact && p != "contact" && !strings.HasPrefix(p, "contact_") {
					h.loose[r.key] = Skip{Source: "homeassistant", ID: r.device.name, Part: r.key,
						Reason: fmt.Sprintf("a thermostat's %q, not a contact sensor", p)}
					continue
				}
				kept = append(kept, r)
			}
			readings = kept
		}
		// One zigbee2mqtt device is one siren, as the zigbee2mqtt source
		// judges: a siren's "alarm" switch (manual start) beside its
		// warning (zigbee2mqtt's siren entity, with tones) is the same
		// sounder.
		actuators = h.oneSiren(actuators)
		// One endpoint has one reading of a kind, as the zigbee2mqtt
		// source judges: an IAS zone's second alarm bit (contact_alarm_2)
		// beside its first is not a second contact.
		// zigbee2mqtt's readings of a device of several actuators join the
		// endpoint they are of (power_l1 the switch of l1), one of each
		// kind, and a device-wide one none, as the zigbee2mqtt source
		// judges: a meter is not an endpoint beside the outlets.
		ofActuator := map[*haEntity][]*haEntity{}
		if len(actuators) > 1 {
			kept := readings[:0]
			for _, r := range readings {
				if !r.fromZigbee2MQTT() {
					kept = append(kept, r)
					continue
				}
				if a := z2mReadingOwner(actuators, r); a != nil {
					ofActuator[a] = append(ofActuator[a], r)
					continue
				}
				h.loose[r.key] = Skip{Source: "homeassistant", ID: r.device.name, Part: r.key,
					Reason: fmt.Sprintf("a device-wide %s reading on a device of several endpoints", r.readingKind())}
			}
			readings = kept
			for a, rs := range ofActuator {
				ofActuator[a] = h.oneOfEachReading(rs)
			}
		}
		readings = h.oneOfEachReading(readings)
		// zigbee2mqtt's thermometer is its "temperature" expose
		// (temperature_<endpoint> on a device of several), as the
		// zigbee2mqtt source judges: outside a climate, a valve's
		// local_temperature, a dew point or a wind chill is not one.
		if len(climates) != 1 {
			kept := temps[:0]
			for _, s := range temps {
				if p := s.valueProperty(); s.fromZigbee2MQTT() && p != "temperature" && !strings.HasPrefix(p, "temperature_") {
					h.loose[s.key] = Skip{Source: "homeassistant", ID: s.device.name, Part: s.key,
						Reason: fmt.Sprintf("zigbee2mqtt's %q is not the device's temperature", p)}
					continue
				}
				kept = append(kept, s)
			}
			temps = kept
		}
		// A zigbee2mqtt sensor device's temperature joins its readings,
		// as the zigbee2mqtt source judges, unless the device is a meter
		// (the temperature is the meter's own) or its function is one
		// without a trait and no reading is (an alarm sensor is not
		// imported as the thermometer it also is).
		if len(actuators) == 0 {
			meter, strong := false, false
			for _, r := range readings {
				k := r.readingKind()
				meter = meter || k == readPower || k == readEnergy
				strong = strong || k.strong() || (k == readMeasure && r.sensor.quantity != model.QuantityPressure)
			}
			why := ""
			switch {
			case meter:
				why = "the meter's internal temperature, not a thermometer"
			case !strong:
				if kind := h.primaryWithoutTrait(g); kind != "" {
					why = "not imported alone: the device is a " + kind
				}
			}
			if why != "" {
				kept := temps[:0]
				for _, s := range temps {
					if s.fromZigbee2MQTT() {
						h.loose[s.key] = Skip{Source: "homeassistant", ID: s.device.name, Part: s.key, Reason: why}
						continue
					}
					kept = append(kept, s)
				}
				temps = kept
			}
		}
		// zigbee2mqtt's temperature of a plug, a bulb or a valve (a device
		// with an actuator and no one thermostat to carry it) is the
		// device's internal temperature, as the zigbee2mqtt source judges.
		if len(actuators) > 0 && len(climates) != 1 {
			kept := temps[:0]
			for _, s := range temps {
				if s.fromZigbee2MQTT() {
					h.loose[s.key] = Skip{Source: "homeassistant", ID: s.device.name, Part: s.key,
						Reason: "the device's internal temperature, not a thermometer"}
					continue
				}
				kept = append(kept, s)
			}
			temps = kept
		}
		// zigbee2mqtt's binary "state" (object id switch_state) on a
		// detector (a presence radar's "Function") is a setting, not the
		// device's function: the detector is.
		if len(actuators) > 0 {
			detector := false
			for _, r := range readings {
				k := r.readingKind()
				detector = detector || (k.strong() && k != readPower && k != readEnergy)
			}
			if detector {
				kept := actuators[:0]
				for _, a := range actuators {
					if a.fromZigbee2MQTT() && a.sw != nil && strings.HasSuffix(a.key, "/switch_state") {
						h.loose[a.key] = Skip{Source: "homeassistant", ID: a.device.name, Part: a.key,
							Reason: "a detector's binary state (zigbee2mqtt's switch_state) is a setting, not its function"}
						continue
					}
					kept = append(kept, a)
				}
				actuators = kept
			}
		}
		// The readings' endpoint: the device's one actuator, else its one climate.
		var home *haEntity
		switch {
		case len(actuators) == 1:
			home = actuators[0]
		case len(climates) == 1:
			home = climates[0]
		}
		var members [][]*haEntity
		for _, a := range actuators {
			m := []*haEntity{a}
			if len(climates) == 1 && a == climates[0] {
				m = append(m, temps...)
			}
			if a == home {
				m = append(m, readings...)
			}
			m = append(m, ofActuator[a]...)
			members = append(members, m)
		}
		if len(climates) != 1 {
			thermometer := false // a temperature is an endpoint already
			switch {
			case home != nil || len(readings) == 0:
			case len(actuators) == 0 && len(temps) > 0:
				// One sensor endpoint: the first temperature and the readings.
				members = append(members, append([]*haEntity{temps[0]}, readings...))
				temps, thermometer = temps[1:], true
			case alone:
				members = append(members, readings)
			default:
				for _, r := range readings {
					h.loose[r.key] = Skip{Source: "homeassistant", ID: r.device.name, Part: r.key,
						Reason: fmt.Sprintf("not imported alone: a %s reading is not the device's function", r.readingKind())}
				}
			}
			for _, s := range temps {
				if thermometer && s.fromZigbee2MQTT() {
					// as the zigbee2mqtt source: one device is one thermometer
					h.loose[s.key] = Skip{Source: "homeassistant", ID: s.device.name, Part: s.key,
						Reason: "a further temperature: one device is one thermometer"}
					continue
				}
				members = append(members, []*haEntity{s})
				thermometer = true
			}
		}
		names := map[string]int{}
		var group []*unit
		for _, m := range members {
			u := h.unit(m)
			for _, e := range m {
				h.owner[e.key] = u.dev.Endpoint.DeviceID
			}
			names[strings.ToLower(u.dev.Endpoint.FriendlyName)]++
			group = append(group, u)
		}
		// A zigbee2mqtt device's one fan is its primary function: it keeps
		// the device's name and its light is "<device> light", as the
		// zigbee2mqtt source names them ("turn on the fan" is the fan).
		fans, climate := 0, false
		for _, m := range members {
			if m[0].fan != nil && m[0].fromZigbee2MQTT() {
				fans++
			}
			climate = climate || m[0].climate != nil
		}
		if climate {
			fans = 0 // a thermostat's fan is not the device (an air conditioner's)
		}
		// zigbee2mqtt's several functions of no endpoint of a device
		// without a fan, all named as the device: named as the zigbee2mqtt
		// source names them (z2mFunctionNames).
		if fans == 0 {
			same := map[string][]int{}
			for i, u := range group {
				if n := strings.ToLower(u.dev.Endpoint.FriendlyName); names[n] > 1 && members[i][0].fromZigbee2MQTT() {
					same[n] = append(same[n], i)
				}
			}
			for n, is := range same {
				var ts []model.Traits
				for _, i := range is {
					ts = append(ts, group[i].dev.Endpoint.Traits)
				}
				ws := z2mFunctionNames(ts)
				if ws == nil {
					continue
				}
				for j, i := range is {
					if ws[j] != "" {
						group[i].dev.Endpoint.FriendlyName = model.Truncate(group[i].dev.Endpoint.FriendlyName+" "+ws[j], model.MaxFriendlyNameLen)
					}
				}
				delete(names, n)
			}
		}
		for i, u := range group {
			if fans == 1 && members[i][0].fan != nil && members[i][0].fromZigbee2MQTT() {
				continue
			}
			if names[strings.ToLower(u.dev.Endpoint.FriendlyName)] > 1 {
				u.dev.Endpoint.FriendlyName = model.Truncate(u.dev.Endpoint.FriendlyName+" "+members[i][0].platform, model.MaxFriendlyNameLen)
			}
		}
		if len(group) == 1 && members[0][0].z2mEndpoint() != "" {
			// zigbee2mqtt's one actuator of a device, on an endpoint: named
			// as the device, as the zigbee2mqtt source names it.
			group[0].dev.Endpoint.FriendlyName = model.Truncate(z2mPersonName(members[0][0].device.name), model.MaxFriendlyNameLen)
		}
		if len(group) > 0 && model.IsAddressName(members[0][0].device.name) {
			dev := members[0][0].device
			// zigbee2mqtt's default name, the address: named from the
			// device's primary endpoint as the zigbee2mqtt source names it.
			ts := make([]model.Traits, len(group))
			fan := -1
			for i, u := range group {
				ts[i] = u.dev.Endpoint.Traits
				if fans == 1 && members[i][0].fan != nil {
					fan = i
				}
			}
			base := z2mDefaultName(dev.manufacturer, dev.model, ts[z2mPrimary(ts, fan)])
			for _, u := range group {
				if rest, ok := strings.CutPrefix(u.dev.Endpoint.FriendlyName, strings.TrimSpace(dev.name)); ok {
					u.dev.Endpoint.FriendlyName = model.Truncate(z2mPersonName(base+rest), model.MaxFriendlyNameLen)
				}
			}
		}
		out = append(out, group...)
	}
	return out
}

// oneSiren keeps one of a zigbee2mqtt device's sirens: its siren entity
// (zigbee2mqtt's warning) before a siren it publishes as a switch (a
// settable "alarm"), else the first; the others are loose.
func (h *haSource) oneSiren(actuators []*haEntity) []*haEntity {
	var keep *haEntity
	for _, a := range actuators {
		if a.siren != nil && a.fromZigbee2MQTT() && (keep == nil || a.platform == "siren" && keep.platform != "siren") {
			keep = a
		}
	}
	if keep == nil {
		return actuators
	}
	kept := actuators[:0]
	for _, a := range actuators {
		if a.siren != nil && a.fromZigbee2MQTT() && a != keep {
			h.loose[a.key] = Skip{Source: "homeassistant", ID: a.device.name, Part: a.key,
				Reason: "a further siren: one device is one siren (" + keep.key + ")"}
			continue
		}
		kept = append(kept, a)
	}
	return kept
}

// oneOfEachReading keeps the first reading of each kind (one motion-like
// reading: the motion trait is one); the others are loose.
func (h *haSource) oneOfEachReading(readings []*haEntity) []*haEntity {
	kept := readings[:0]
	for _, r := range readings {
		k, q := r.readingKind(), ""
		if r.sensor != nil {
			q = r.sensor.quantity
		}
		dup := false
		for _, x := range kept {
			xq := ""
			if x.sensor != nil {
				xq = x.sensor.quantity
			}
			dup = dup || (x.readingKind() == k && xq == q) || (x.readingKind().motion() && k.motion())
		}
		if dup {
			h.loose[r.key] = Skip{Source: "homeassistant", ID: r.device.name, Part: r.key,
				Reason: fmt.Sprintf("a further %s reading: one endpoint has one", k)}
			continue
		}
		kept = append(kept, r)
	}
	return kept
}

func (h *haSource) unit(members []*haEntity) *unit {
	p := members[0]
	id := p.uniqueID
	if id == "" {
		id = p.key
	}
	traits, cat := p.traits()
	var state model.State
	for _, m := range members[1:] {
		state = state.Merge(h.states[m.key])
		if k := m.readingKind(); k != 0 {
			m.setReadingTrait(&traits)
		} else {
			traits.TemperatureSensor = &model.TemperatureSensor{}
		}
	}
	state = p.z2mTarget(state.Merge(h.states[p.key]))
	sensorHost := p.sensor != nil || p.binary != nil
	if sensorHost {
		cat = hostCategory(traits)
	}
	name := p.device.name
	if p.named && p.name != "" && !(sensorHost && len(members) > 1 && name != "") {
		own := p.name
		if ep := p.z2mEndpoint(); ep != "" && own == capitalize(ep) {
			own = z2mEndpointWords(ep) // as the zigbee2mqtt source names an endpoint
		}
		if v := p.switchProperty(); p.fromZigbee2MQTT() && valveProperty.MatchString(v) {
			own = z2mEndpointWords(v) // "valve 1", as the zigbee2mqtt source names a valve
		}
		if name != "" {
			name += " " + own
		} else {
			name = own
		}
	}
	if p.fromZigbee2MQTT() {
		name = z2mPersonName(name)
	}
	if strings.TrimSpace(name) == "" {
		name = id
	}
	desc := p.platform + " via MQTT discovery"
	if p.origin != "" {
		desc += " (" + p.origin + ")"
	}
	ep := model.Endpoint{DeviceID: "ha:" + id, FriendlyName: model.Truncate(strings.TrimSpace(name), model.MaxFriendlyNameLen),
		Manufacturer: p.device.manufacturer, Model: p.device.model, Description: model.Truncate(desc, model.MaxDescriptionLen),
		Category: cat, Traits: traits}
	for _, c := range p.device.conns {
		switch strings.ToLower(c[0]) {
		case "mac":
			ep.Connections = append(ep.Connections, model.Connection{Type: model.ConnectionTCPIP, MACAddress: strings.ToLower(c[1])})
		case "zigbee":
			ep.Connections = append(ep.Connections, model.Connection{Type: model.ConnectionZigbee, MACAddress: ieeeToMAC(c[1])})
		}
	}
	u := &unit{
		dev:     model.Device{Endpoint: ep, State: state, Reachable: p.avail.available()},
		command: p.command,
	}
	if len(p.subs) == 0 {
		u.assume = func(s model.State) { h.states[p.key] = h.states[p.key].Merge(s) }
	}
	return u
}

// z2mEndpoint is the zigbee2mqtt endpoint of one of its actuators ("l1" of
// the switch it discovers as switch_l1), "" for another entity or an
// actuator of the whole device. zigbee2mqtt names the discovery object of
// an endpoint's light, switch, lock, cover or climate <platform>_<endpoint>
// and its entity capitalize(<endpoint>).
func (e *haEntity) z2mEndpoint() string {
	if !e.fromZigbee2MQTT() || e.sensor != nil || e.binary != nil || !e.named {
		return ""
	}
	object := e.key[strings.LastIndexByte(e.key, '/')+1:]
	ep, ok := strings.CutPrefix(object, e.platform+"_")
	if !ok || !strings.EqualFold(e.name, ep) {
		return ""
	}
	return ep
}

// z2mReadingOwner is the actuator of actuators whose zigbee2mqtt endpoint
// ends r's property (power_l1 is of l1; the longest wins, so
// power_bottom_left is of bottom_left, not left), nil when none.
func z2mReadingOwner(actuators []*haEntity, r *haEntity) *haEntity {
	p := r.valueProperty()
	var owner *haEntity
	best := ""
	for _, a := range actuators {
		if ep := a.z2mEndpoint(); ep != "" && len(ep) > len(best) && strings.HasSuffix(p, "_"+ep) {
			owner, best = a, ep
		}
	}
	return owner
}

// capitalize is zigbee2mqtt's: the first letter in upper case.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// readingKind is the kind of a reading entity, 0 for another.
func (e *haEntity) readingKind() readingKind {
	switch {
	case e.binary != nil:
		return e.binary.kind
	case e.sensor != nil:
		return e.sensor.kind
	}
	return 0
}

// primaryWithoutTrait is the kind of a zigbee2mqtt entity of device group g
// that is the device's primary function but not imported, "" when none.
func (h *haSource) primaryWithoutTrait(g string) string {
	kind := ""
	for _, n := range h.noTrait {
		if "id:"+n[0] == g || n[0] == g {
			if kind == "" || n[1] < kind {
				kind = n[1]
			}
		}
	}
	return kind
}

// z2mPrimaryWithoutTrait says what a zigbee2mqtt sensor entity that is not
// imported is when it is its device's primary function (as the zigbee2mqtt
// source's primarySensors, and an energy or power reading zigbee2mqtt
// publishes without a device class), "" otherwise.
func z2mPrimaryWithoutTrait(e *haEntity, platform string, cfg map[string]any) string {
	if e == nil || !e.fromZigbee2MQTT() || e.device.key == "" || (platform != "sensor" && platform != "binary_sensor") {
		return ""
	}
	if c, _ := cfg["entity_category"].(string); c != "" {
		return ""
	}
	src, _ := cfg["value_template"].(string)
	tpl, err := parseTemplate(src)
	if err != nil {
		return ""
	}
	p := tpl.property()
	if kind, ok := primarySensors[p]; ok {
		return kind
	}
	switch p {
	case "energy":
		return "meter (energy without a unit)"
	case "power":
		return "meter (power without a unit)"
	}
	return ""
}
