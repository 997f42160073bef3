package dashboard

import (
	"crypto/sha256"
	"encoding/hex"
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

// components returns the Home Assistant components of an endpoint, keyed by
// component id (stable: derived from the trait, never from the name).
func (l layout) components(node string, ep model.Endpoint) map[string]map[string]any {
	main := true // the first component is the device's main feature (name null)
	c := &components{
		out: map[string]map[string]any{},
		ep:  ep,
		st:  l.nodeTopic(node, leafState),
		ct:  l.nodeTopic(node, leafSet),
		uid: func(c string) string { return l.objectID(node) + "_" + c },
		name: func(n string) any {
			if main {
				main = false
				return nil
			}
			return n
		},
	}
	for _, h := range traitRegistry().ordered {
		h.components(c)
	}
	return c.out
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
	out := map[string]any{"reachable": e.Reachable}
	if n.cause != "" {
		out["cause"] = string(n.cause)
	}
	if !e.Updated.IsZero() {
		out["updated"] = e.Updated.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	for _, h := range traitRegistry().ordered {
		h.state(out, n)
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
