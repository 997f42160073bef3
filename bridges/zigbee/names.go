package zigbee

import (
	"strings"

	"github.com/avshub/avshub/discovery/model"
)

// brands maps the manufacturer names devices report (Basic cluster) to the
// brand a person knows, by a lower-case prefix.
var brands = []struct{ prefix, brand string }{
	{"ikea", "IKEA"},
	{"signify", "Philips Hue"},
	{"philips", "Philips Hue"},
	{"lumi", "Aqara"},
	{"xiaomi", "Xiaomi"},
	{"aqara", "Aqara"},
	{"yale", "Yale"},
	{"assa abloy", "Yale"},
	{"danfoss", "Danfoss"},
	{"innr", "Innr"},
	{"ledvance", "Ledvance"},
	{"osram", "Osram"},
	{"sonoff", "SONOFF"},
	{"ewelink", "SONOFF"},
	{"heiman", "Heiman"},
	{"tuya", "Tuya"},
	{"_tz", "Tuya"},
	{"eurotronic", "Eurotronic"},
	{"bosch", "Bosch"},
	{"gledopto", "Gledopto"},
	{"müller licht", "Müller Licht"},
	{"schlage", "Schlage"},
	{"kwikset", "Kwikset"},
}

// brand returns the brand for a reported manufacturer name ("" when unknown).
func brand(manufacturer string) string {
	m := strings.ToLower(strings.TrimSpace(manufacturer))
	if m == "" {
		return ""
	}
	for _, b := range brands {
		if strings.HasPrefix(m, b.prefix) {
			return b.brand
		}
	}
	// An unknown maker: its first word, if it reads like a name (not an id).
	w := strings.Fields(manufacturer)[0]
	if len(w) < 2 || len(w) > 20 || strings.ContainsAny(w, "_0123456789.") {
		return ""
	}
	return w
}

// kind says what the device is, in the words a person uses.
func (r *record) kind(t model.Traits) string {
	mdl := strings.ToLower(r.Model)
	switch {
	case t.Lock != nil:
		return "lock"
	case t.Thermostat != nil:
		if r.heatOnly() || strings.Contains(mdl, "trv") || strings.Contains(mdl, "radiator") {
			return "radiator valve"
		}
		return "thermostat"
	case t.Brightness != nil || t.Color != nil || t.ColorTemperature != nil:
		if strings.Contains(mdl, "strip") || strings.Contains(mdl, "lightstrip") {
			return "light strip"
		}
		return "bulb"
	case t.Cover != nil:
		return "blind"
	case t.Fan != nil:
		return "fan"
	case t.Siren != nil:
		return "siren"
	case t.OnOff != nil:
		if strings.Contains(mdl, "plug") || strings.Contains(mdl, "outlet") || strings.Contains(mdl, "socket") {
			return "plug"
		}
		return "switch"
	case t.Contact != nil:
		return "door sensor"
	case t.Motion != nil:
		return "motion sensor"
	case t.WaterLeak != nil:
		return "leak sensor"
	case t.Smoke != nil:
		return "smoke alarm"
	case t.Gas != nil:
		return "gas alarm"
	case t.TemperatureSensor != nil:
		return "temperature sensor"
	case t.Humidity != nil:
		return "humidity sensor"
	case t.Illuminance != nil:
		return "light sensor"
	case t.Power != nil || t.Energy != nil:
		return "meter"
	}
	return "device"
}

// heatOnly reports whether the device is a heating-only thermostat (a
// radiator valve).
func (r *record) heatOnly() bool { return heatOnlyModels[r.Model] }

// defaultName is the name a device gets before a person names it: who made it
// and what it is ("IKEA bulb", "Yale lock", "Danfoss radiator valve"), never a
// model id or an address. Two devices with the same default name are numbered
// by the hub ("IKEA bulb 2").
func (r *record) defaultName(t model.Traits) string {
	k := r.kind(t)
	if b := brand(r.Manufacturer); b != "" {
		return b + " " + k
	}
	return strings.ToUpper(k[:1]) + k[1:]
}
