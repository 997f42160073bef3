package mqtt

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/avshub/avshub/discovery/model"
)

// maxPending bounds the messages kept for topics that may belong to devices
// not yet listed in bridge/devices.
const maxPending = 2000

// z2mSource is the zigbee2mqtt convention: pure logic, fed messages under the
// base topic by the bridge.
type z2mSource struct {
	base string
	bad  *onceLog

	devices      map[string]*z2mDevice // by ieee address
	names        []*z2mDevice          // by friendly name length, longest first
	skips        []Skip
	known        map[string]bool // every ieee address in bridge/devices, lower case
	devicesSeen  bool
	bridgeOnline *bool
	avail        map[string]bool // by friendly name; absent = unknown
	states       map[string]model.State
	links        map[string]*model.Link // by ieee: linkquality and last_seen of the last state message
	gotState     map[string]bool        // by ieee: a state message arrived since the last reconnect
	requested    map[string]bool        // by ieee: /get sent since the last reconnect
	pending      map[string][]byte
	pendingOrder []string

	// Commands zigbee2mqtt reported as failed, by ieee address, numbered
	// from failSeq so a command sees only failures after it was sent.
	failSeq  uint64
	failures map[string][]z2mFailure

	// abort, when set, says the bridge is stopping (a big device list is
	// not parsed to its end).
	abort func() bool

	// remotes are the remotes opted into Alexa (the bridge config's);
	// releases, by unit id, when a pressed one returns to clear; now is
	// the clock.
	remotes  map[string]*remoteOptIn
	releases map[string]time.Time
	now      func() time.Time
	// retained is set while a retained message is handled: its action is
	// an old press (zigbee2mqtt's retain option), not one to report.
	retained bool
}

// z2mFailure is one "Publish 'set' … failed" zigbee2mqtt logged for a device.
type z2mFailure struct {
	seq  uint64
	prop string
	err  string
}

// maxFailures bounds the failures kept per device.
const maxFailures = 8

// publishFailedRE matches zigbee2mqtt's log line for a command its
// converter or the device refused (lib/extension/publish.ts); 2.14.1 puts
// the logger's namespace first on bridge/logging ("z2m: Publish 'set' …",
// as recorded in z2msim's testdata).
var publishFailedRE = regexp.MustCompile(`^(?:[a-z0-9:_-]+: )?Publish 'set' '([^']+)' to '(.+)' failed: '(.*)'$`)

// onLogging records a failed command from a bridge/logging message and
// returns the units of the device it was for.
func (z *z2mSource) onLogging(payload []byte) []string {
	var l struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	}
	if json.Unmarshal(payload, &l) != nil || l.Level != "error" {
		return nil
	}
	m := publishFailedRE.FindStringSubmatch(l.Message)
	if m == nil {
		return nil
	}
	var d *z2mDevice
	for _, x := range z.names {
		if x.name == m[2] {
			d = x
			break
		}
	}
	if d == nil {
		return nil
	}
	z.failSeq++
	fs := append(z.failures[d.ieee], z2mFailure{seq: z.failSeq, prop: m[1], err: m[3]})
	if len(fs) > maxFailures {
		fs = fs[len(fs)-maxFailures:]
	}
	z.failures[d.ieee] = fs
	var ids []string
	for _, u := range d.units {
		ids = append(ids, u.id)
	}
	return ids
}

// failure returns the first failure of one of props logged for the device
// after seq, as the error to answer the command with.
func (z *z2mSource) failure(ieee string, after uint64, props []string) *model.Error {
	for _, f := range z.failures[ieee] {
		if f.seq <= after || !slices.Contains(props, f.prop) {
			continue
		}
		kind := model.ErrHardwareFault
		for _, s := range []string{"Timeout", "timeout", "MAC_NO_ACK", "NO_ACK", "NWK_NO_ROUTE", "MAC_TRANSACTION_EXPIRED", "Delivery failed", "no network route"} {
			if strings.Contains(f.err, s) {
				kind = model.ErrUnreachable
				break
			}
		}
		return &model.Error{Kind: kind, Message: fmt.Sprintf("zigbee2mqtt could not set %s: %s", f.prop, f.err)}
	}
	return nil
}

func newZ2MSource(base string, bad *onceLog) *z2mSource {
	return &z2mSource{base: base, bad: bad, devices: map[string]*z2mDevice{}, avail: map[string]bool{},
		states: map[string]model.State{}, links: map[string]*model.Link{}, gotState: map[string]bool{}, requested: map[string]bool{}, pending: map[string][]byte{},
		failures: map[string][]z2mFailure{}, releases: map[string]time.Time{}, now: time.Now}
}

// reconnected forgets what must be re-read after a new broker session.
func (z *z2mSource) reconnected() {
	z.gotState = map[string]bool{}
	z.requested = map[string]bool{}
}

// handle processes one message under the base topic and returns the ids of
// units whose state it updated.
func (z *z2mSource) handle(topic string, payload []byte) []string {
	rest, ok := strings.CutPrefix(topic, z.base+"/")
	if !ok {
		return nil
	}
	switch rest {
	case "bridge/state":
		online, known := parseOnline(payload)
		if !known {
			z.bridgeOnline = nil
			if len(payload) > 0 {
				z.bad.warn("zigbee2mqtt bridge/state", "unrecognised payload "+quoteShort(payload))
			}
			return nil
		}
		z.bridgeOnline = &online
		return nil
	case "bridge/devices":
		z.setDevices(payload)
		return nil
	case "bridge/logging":
		return z.onLogging(payload)
	}
	if strings.HasPrefix(rest, "bridge/") {
		return nil
	}
	d, suffix := z.match(rest)
	if d == nil {
		if !z.devicesSeen {
			z.keepPending(topic, payload)
		}
		return nil
	}
	switch {
	case suffix == "":
		if len(payload) == 0 {
			return nil // a cleared retained state
		}
		var m map[string]any
		if err := json.Unmarshal(payload, &m); err != nil || m == nil {
			z.bad.warn("zigbee2mqtt "+d.name, "state is not a JSON object: "+quoteShort(payload))
			return nil
		}
		return z.applyState(d, m)
	case suffix == "/availability":
		online, known := parseOnline(payload)
		if !known {
			delete(z.avail, d.name)
			if len(payload) > 0 {
				z.bad.warn("zigbee2mqtt "+d.name+" availability", "unrecognised payload "+quoteShort(payload))
			}
			return nil
		}
		z.avail[d.name] = online
		return nil
	case suffix == "/set" || suffix == "/get" || strings.HasPrefix(suffix, "/set/") || strings.HasPrefix(suffix, "/get/"):
		return nil
	case strings.Count(suffix, "/") == 1:
		// advanced.output: attribute — one topic per property, raw values.
		var v any
		if err := json.Unmarshal(payload, &v); err != nil {
			v = string(payload)
		}
		return z.applyState(d, map[string]any{suffix[1:]: v})
	}
	return nil
}

func (z *z2mSource) applyState(d *z2mDevice, m map[string]any) []string {
	z.gotState[d.ieee] = true
	if l, ok := parseLink(m, z.links[d.ieee]); ok {
		z.links[d.ieee] = l
	}
	var ids []string
	for _, u := range d.units {
		s, unknown, problems := u.parseState(m)
		if len(problems) > 0 {
			z.bad.warn("zigbee2mqtt "+d.name, strings.Join(problems, "; "))
		}
		if u.press != nil && !z.retained && u.press.pressed(m) {
			s = s.Merge(u.press.state(true))
			z.releases[u.id] = z.now().Add(u.press.hold)
		}
		z.states[u.id] = unknown.forget(z.states[u.id]).Merge(s)
		ids = append(ids, u.id)
	}
	return ids
}

// releasePresses returns the remotes opted into Alexa whose hold after a
// press is over at now to closed or clear, and their ids.
func (z *z2mSource) releasePresses(now time.Time) []string {
	var ids []string
	for id, at := range z.releases {
		if at.After(now) {
			continue
		}
		delete(z.releases, id)
		for _, d := range z.devices {
			for _, u := range d.units {
				if u.id == id && u.press != nil {
					z.states[id] = z.states[id].Merge(u.press.state(false))
					ids = append(ids, id)
				}
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// nextRelease is when the next pressed remote returns to clear (ok false:
// none is pressed).
func (z *z2mSource) nextRelease() (at time.Time, ok bool) {
	for _, t := range z.releases {
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	return at, ok
}

func (z *z2mSource) setDevices(payload []byte) {
	devs, skips, known, err := parseZ2MDevices(payload, z.remotes, z.abort)
	if errors.Is(err, errAborted) {
		return
	}
	if err != nil {
		z.bad.warn("zigbee2mqtt bridge/devices", err.Error())
		return
	}
	z.bad.clear("zigbee2mqtt bridge/devices")
	for _, s := range skips {
		if s.Reason != "coordinator" {
			z.bad.logSkipped(s)
		}
	}
	z.skips = skips
	z.known = known
	z.devicesSeen = true
	old := z.devices
	z.devices = map[string]*z2mDevice{}
	z.names = z.names[:0]
	live := map[string]bool{}
	for _, d := range devs {
		if prev, ok := old[d.ieee]; ok && prev.name != d.name {
			// Renamed: availability follows the new name's topic.
			delete(z.avail, prev.name)
		}
		z.devices[d.ieee] = d
		z.names = append(z.names, d)
		for _, u := range d.units {
			live[u.id] = true
			if _, ok := z.states[u.id]; !ok && u.press != nil {
				z.states[u.id] = u.press.state(false) // not pressed since the bridge started
			}
		}
	}
	sort.Slice(z.names, func(i, j int) bool { return len(z.names[i].name) > len(z.names[j].name) })
	for id := range z.states {
		if !live[id] {
			delete(z.states, id)
		}
	}
	for id := range z.releases {
		if !live[id] {
			delete(z.releases, id)
		}
	}
	for ieee := range z.links {
		if z.devices[ieee] == nil {
			delete(z.links, ieee)
		}
	}
	pend, order := z.pending, z.pendingOrder
	z.pending, z.pendingOrder = map[string][]byte{}, nil
	for _, t := range order {
		z.handle(t, pend[t])
	}
}

func (z *z2mSource) keepPending(topic string, payload []byte) {
	if _, ok := z.pending[topic]; !ok {
		if len(z.pendingOrder) >= maxPending {
			return
		}
		z.pendingOrder = append(z.pendingOrder, topic)
	}
	z.pending[topic] = payload
}

// match resolves a topic tail to a device by the longest friendly name that
// is the whole tail or a prefix followed by "/".
func (z *z2mSource) match(rest string) (*z2mDevice, string) {
	for _, d := range z.names {
		if rest == d.name || (strings.HasPrefix(rest, d.name) && rest[len(d.name)] == '/') {
			return d, rest[len(d.name):]
		}
	}
	return nil, ""
}

func (z *z2mSource) reachable(d *z2mDevice) bool {
	if z.bridgeOnline != nil && !*z.bridgeOnline {
		return false
	}
	if on, ok := z.avail[d.name]; ok {
		return on
	}
	return true
}

// units returns every bridged endpoint with its state and reachability.
func (z *z2mSource) units() []*unit {
	var out []*unit
	for _, d := range z.devices {
		for _, u := range d.units {
			d, u := d, u
			out = append(out, &unit{
				dev: model.Device{Endpoint: u.ep, State: z.states[u.id].Clone(), Reachable: z.reachable(d), Link: z.links[d.ieee].Clone()},
				command: func(c model.Command, cur model.State) ([]outMsg, error) {
					p, err := u.command(c, cur)
					if err != nil {
						return nil, err
					}
					b, _ := json.Marshal(p)
					props := make([]string, 0, len(p))
					for k := range p {
						props = append(props, k)
					}
					sort.Strings(props)
					return []outMsg{{topic: z.base + "/" + d.name + "/set", payload: b, props: props}}, nil
				},
				failSeq: func() uint64 { return z.failSeq },
				failure: func(after uint64, props []string) *model.Error { return z.failure(d.ieee, after, props) },
			})
			if u.siren != nil && u.siren.warning != "" && u.light == nil && u.onoff == nil && u.cover == nil && u.fan == nil && u.lock == nil && u.climate == nil {
				// zigbee2mqtt reports no state for a warning: the siren
				// sounds as last commanded.
				out[len(out)-1].assume = func(s model.State) { z.states[u.id] = z.states[u.id].Merge(model.State{Siren: s.Siren}) }
			}
		}
	}
	return out
}

// knows reports whether ieee is a device in zigbee2mqtt's list (bridged or not).
func (z *z2mSource) knows(ieee string) bool { return z.known[strings.ToLower(ieee)] }

// getRequests returns /get messages, at most max, for reachable devices that
// have sent no state since the last reconnect (state is not retained by
// default), in name order, and whether more are due.
func (z *z2mSource) getRequests(max int) (msgs []outMsg, more bool) {
	var due []*z2mDevice
	for _, d := range z.devices {
		if z.gotState[d.ieee] || z.requested[d.ieee] || !z.reachable(d) {
			continue
		}
		due = append(due, d)
	}
	sort.Slice(due, func(i, j int) bool { return due[i].name < due[j].name })
	for _, d := range due {
		req := map[string]any{}
		for _, u := range d.units {
			for _, p := range u.getProps {
				req[p] = ""
			}
		}
		if len(req) == 0 {
			continue
		}
		if len(msgs) == max {
			return msgs, true
		}
		z.requested[d.ieee] = true
		b, _ := json.Marshal(req)
		msgs = append(msgs, outMsg{topic: z.base + "/" + d.name + "/get", payload: b})
	}
	return msgs, false
}

// parseLink reads zigbee2mqtt's linkquality (0–255) and last_seen (ISO 8601
// text or epoch milliseconds, as advanced.last_seen says; absent when
// "disable") from a state message, over the device's previous link. ok is
// false when the message has neither.
func parseLink(m map[string]any, prev *model.Link) (*model.Link, bool) {
	l := prev.Clone()
	if l == nil {
		l = &model.Link{}
	}
	ok := false
	if v, isNum := m["linkquality"].(float64); isNum && v >= 0 && v <= 255 {
		q := model.LinkQualityPercent(int(v))
		l.Quality, ok = &q, true
	}
	switch v := m["last_seen"].(type) {
	case float64:
		if v > 0 {
			l.LastSeen, ok = time.UnixMilli(int64(v)), true
		}
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			l.LastSeen, ok = t, true
		}
	}
	return l, ok
}

// parseOnline reads an availability payload: JSON {"state":"online"} or the
// legacy plain online/offline.
func parseOnline(payload []byte) (online, known bool) {
	s := strings.TrimSpace(string(payload))
	if strings.HasPrefix(s, "{") {
		var v struct {
			State string `json:"state"`
		}
		if json.Unmarshal(payload, &v) != nil {
			return false, false
		}
		s = v.State
	}
	switch strings.ToLower(s) {
	case "online":
		return true, true
	case "offline":
		return false, true
	}
	return false, false
}

// quoteShort quotes a payload for a log line, cut to 64 characters.
func quoteShort(b []byte) string {
	const n = 64
	s := string(b)
	if t := model.Truncate(s, n); len(t) < len(s) {
		return strconvQuote(t) + "…"
	}
	return strconvQuote(s)
}
