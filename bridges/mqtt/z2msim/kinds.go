package z2msim

import (
	_ "embed" // the recording of the newer kinds
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// The newer kinds (Options.Kinds): a blind, a blind with slats, door, leak,
// motion, smoke and CO sensors, a siren, a metering plug, a fan and a
// button, carried as the real zigbee2mqtt 2.14.1 described znp-sim's
// products of those kinds (KindsRecordingFile: their bridge/devices entries
// and first states, embedded as recorded). What they do on a /set follows
// the same recording (TestReplayRealKinds holds z2m-sim to it):
//
//   - A cover's position or tilt: the target at once (the converter's own
//     publication), then the device's reports as it travels, every 10 %
//     (Options.TravelStep apart for the lift, half that for the slats),
//     the last one at the target. OPEN and CLOSE: nothing at once, then
//     the travel. STOP: the position it stopped at, at once. The state is
//     OPEN while the position is above 0.
//   - A plug with metering: its state, with the power and current its load
//     draws (60 W) while it is on, 0 when off, at once.
//   - A fan: fan_mode and fan_state follow each other (off is OFF), at once.
//   - A siren's warning: nothing is ever published (zigbee2mqtt has no state
//     for it); Device.Warning shows the mode it sounds.
//   - An IAS zone's alarm changed by hand (water_leak, smoke,
//     carbon_monoxide): the other status bits it exposes become known
//     (false), as the zone's status change notification carries them all.
//   - A button pressed by hand (Set "action"): its state with the action,
//     then <device>/action; the action is not kept in the state.

//go:embed testdata/real-kinds.json
var kindsRecording []byte

// DefaultTravelStep is the time a simulated blind takes for 10 % of its
// lift, as the recorded FYRTUR reported its travel (408 ms); slats turn
// twice as fast.
const DefaultTravelStep = 408 * time.Millisecond

// plugLoad is the power the load on a simulated plug draws (a lamp), as on
// znp-sim's plug.
const plugLoad = 60.0

// KindNames are the friendly names z2m-sim gives the recorded products of
// each kind.
var KindNames = map[string]string{
	KindCover:     "Living Room Blind",
	KindTiltCover: "Patio Blind",
	KindContact:   "Back Door Sensor",
	KindWaterLeak: "Kitchen Leak Sensor",
	KindOccupancy: "Hallway Motion",
	KindSmoke:     "Hallway Smoke Alarm",
	KindCO:        "Boiler Room CO Alarm",
	KindSiren:     "Hallway Siren",
	KindPlug:      "Desk Plug",
	KindFan:       "Bedroom Fan",
	KindButton:    "Desk Button",
}

// KindsRecorded returns the recording of the newer kinds z2m-sim carries.
func KindsRecorded() (KindsRecording, error) {
	return parseKindsRecording(kindsRecording, "(embedded) "+KindsRecordingFile)
}

// kindDevices builds the newer kinds' devices from the recording.
func kindDevices() ([]*device, error) {
	rec, err := KindsRecorded()
	if err != nil {
		return nil, err
	}
	var out []*device
	for _, rd := range rec.Devices {
		name, ok := KindNames[rd.Kind]
		if !ok {
			return nil, fmt.Errorf("z2msim: recorded device of unknown kind %q", rd.Kind)
		}
		var entry, state map[string]any
		if err := json.Unmarshal(rd.Entry, &entry); err != nil {
			return nil, fmt.Errorf("z2msim: recorded %s: %w", rd.Kind, err)
		}
		if err := json.Unmarshal(rd.State, &state); err != nil {
			return nil, fmt.Errorf("z2msim: recorded %s state: %w", rd.Kind, err)
		}
		entry = normalize(entry).(map[string]any)
		def, _ := entry["definition"].(map[string]any)
		exposes, _ := def["exposes"].([]any)
		if def == nil || len(exposes) == 0 {
			return nil, fmt.Errorf("z2msim: recorded %s has no definition", rd.Kind)
		}
		str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
		nwk, _ := toFloat(entry["network_address"])
		delete(state, "linkquality") // stateMessage's own
		out = append(out, &device{
			IEEE: str(entry, "ieee_address"), Name: name, Type: str(entry, "type"), NetworkAddr: int(nwk),
			Model: str(def, "model"), ModelID: str(entry, "model_id"), Vendor: str(def, "vendor"), Manufacturer: str(entry, "manufacturer"),
			Description: str(def, "description"), PowerSource: str(entry, "power_source"),
			Exposes: exposes, State: state, Online: true, Supported: true, entry: entry, kind: rd.Kind,
		})
	}
	return out, nil
}

// normalize turns decoded JSON exposes into the builders' shapes: access an
// int, an enum's values []string.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch k {
			case "access":
				if n, ok := toFloat(e); ok {
					x[k] = int(n)
					continue
				}
			case "values":
				if l, ok := e.([]any); ok {
					ss := make([]string, 0, len(l))
					for _, s := range l {
						if s, ok := s.(string); ok {
							ss = append(ss, s)
						}
					}
					if len(ss) == len(l) {
						x[k] = ss
						continue
					}
				}
			}
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	}
	return v
}

// travel is a cover moving: its property (position, tilt) from one value
// towards another, every step 10 %.
type travel struct {
	gen      int // numbers the movements: a newer one ends this one
	prop     string
	from, to float64
	start    time.Time
	step     time.Duration
}

// at is where the cover is after elapsed.
func (t *travel) at(elapsed time.Duration) float64 {
	moved := math.Floor(float64(elapsed)/float64(t.step)*10*10) / 10 // to a tenth of a percent
	if t.to < t.from {
		return math.Max(t.to, t.from-moved)
	}
	return math.Min(t.to, t.from+moved)
}

// coverSet takes a cover's keys out of m (its position, tilt and state
// commands) and returns what they start: the travel and whether zigbee2mqtt
// publishes the target at once. The caller holds s.mu.
func (s *Sim) coverSet(d *device, m map[string]any) (mv *travel, now bool) {
	if d.kind != KindCover && d.kind != KindTiltCover {
		return nil, false
	}
	step := s.opts.TravelStep
	cur := func(prop string) float64 { f, _ := toFloat(d.State[prop]); return f }
	start := func(prop string, to float64, step time.Duration) *travel {
		d.moves++
		return &travel{gen: d.moves, prop: prop, from: cur(prop), to: to, start: time.Now(), step: step}
	}
	if v, ok := m["state"]; ok {
		delete(m, "state")
		switch v {
		case "OPEN":
			mv = start("position", 100, step)
		case "CLOSE":
			mv = start("position", 0, step)
		case "STOP":
			if t := d.travel; t != nil && t.gen == d.moves {
				d.State[t.prop] = math.Round(t.at(time.Since(t.start)))
			}
			d.moves++
			d.travel = nil
			coverState(d)
			return nil, true
		default:
			s.log.Info("z2m-sim: value not allowed", "device", d.Name, "key", "state", "value", v)
		}
	}
	for _, prop := range []string{"position", "tilt"} {
		v, ok := m[prop]
		if !ok {
			continue
		}
		delete(m, prop)
		n, ok := toFloat(v)
		if f := findFeature(d.Exposes, prop); !ok || f == nil {
			s.log.Info("z2m-sim: invalid value", "device", d.Name, "key", prop, "value", v)
			continue
		}
		n = math.Max(0, math.Min(100, math.Round(n)))
		st := step
		if prop == "tilt" {
			st /= 2
		}
		mv = start(prop, n, st)
		// The converter publishes the target as soon as the device accepts.
		d.State[prop] = n
		coverState(d)
		now = true
	}
	if mv != nil {
		d.travel = mv
	}
	return mv, now
}

// coverState is zigbee2mqtt's state of a cover: OPEN above 0 %.
func coverState(d *device) {
	if p, ok := toFloat(d.State["position"]); ok {
		if p > 0 {
			d.State["state"] = "OPEN"
		} else {
			d.State["state"] = "CLOSE"
		}
	}
}

// travelReports schedules the reports of a cover's travel, every 10 %
// from where it was to the target, each as an answer to the /set c.
func (s *Sim) travelReports(c cause, d *device, mv *travel) {
	n := int(math.Ceil(math.Abs(mv.to-mv.from) / 10))
	for i := 1; i <= n; i++ {
		delay := time.Duration(i) * mv.step
		s.answerAfter(d, delay, func() {
			s.mu.Lock()
			if d.moves != mv.gen {
				s.mu.Unlock()
				return
			}
			v := mv.to
			if i < n {
				v = mv.from + float64(i)*10*math.Copysign(1, mv.to-mv.from)
			}
			d.State[mv.prop] = v
			coverState(d)
			if i == n {
				d.travel = nil
			}
			st := copyState(d.State)
			s.mu.Unlock()
			s.answerState(cause{c.set, delay}, d, st)
		})
	}
}

// kindEffects applies what a newer kind's device does beside the keys it
// was set (a plug's load, a fan's mode and state, a siren's warning). The
// caller holds s.mu.
func kindEffects(d *device, m map[string]any) {
	switch d.kind {
	case KindCover, KindTiltCover:
		coverState(d)
	case KindWaterLeak, KindSmoke, KindCO:
		// An IAS zone's status change notification carries every status
		// bit: zigbee2mqtt then knows the other bits it exposes.
		if _, ok := m[d.kind]; !ok {
			return
		}
		for _, bit := range []string{"battery_low", "tamper", "test"} {
			if findFeature(d.Exposes, bit) != nil && d.State[bit] == nil {
				d.State[bit] = false
			}
		}
	case KindPlug:
		if _, ok := m["state"]; !ok {
			return
		}
		w := 0.0
		if d.State["state"] == "ON" {
			w = plugLoad
		}
		d.State["power"] = w
		if v, ok := toFloat(d.State["voltage"]); ok && v > 0 {
			d.State["current"] = math.Round(w/v*100) / 100
		}
	case KindFan:
		if mode, ok := m["fan_mode"].(string); ok && d.State["fan_mode"] == mode {
			d.State["fan_state"] = map[bool]string{true: "OFF", false: "ON"}[mode == "off"]
		}
		if st, ok := m["fan_state"].(string); ok && d.State["fan_state"] == st {
			d.State["fan_mode"] = map[bool]string{true: "on", false: "off"}[st == "ON"]
		}
	}
}

// sirenSet takes a siren's warning out of m and keeps the mode it sounds
// (zigbee2mqtt publishes nothing for it). The caller holds s.mu.
func sirenSet(d *device, m map[string]any) {
	w, ok := m["warning"].(map[string]any)
	if !ok || d.kind != KindSiren {
		return
	}
	delete(m, "warning")
	if mode, _ := w["mode"].(string); mode != "" {
		d.warning = mode
		if mode == "stop" {
			d.warning = ""
		}
	}
}
