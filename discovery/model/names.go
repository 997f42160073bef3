package model

import "strings"

// brands maps the maker names devices and peers report (a Zigbee Basic
// cluster's manufacturer, zigbee2mqtt's vendor) to the brand a person knows,
// by a lower-case prefix.
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

// knownBrand returns the brand of a known maker name ("" when unknown).
func knownBrand(maker string) string {
	m := strings.ToLower(strings.TrimSpace(maker))
	for _, b := range brands {
		if m != "" && strings.HasPrefix(m, b.prefix) {
			return b.brand
		}
	}
	return ""
}

// Brand returns the brand a person knows for a manufacturer name as a device
// reports it ("IKEA of Sweden": IKEA), or "" when the name is empty or reads
// like an id rather than a name.
func Brand(manufacturer string) string {
	if b := knownBrand(manufacturer); b != "" {
		return b
	}
	f := strings.Fields(manufacturer)
	if len(f) == 0 {
		return ""
	}
	// An unknown maker: its first word, if it reads like a name (not an id).
	if w := f[0]; len(w) >= 2 && len(w) <= 20 && !strings.ContainsAny(w, "_0123456789.") {
		return w
	}
	return ""
}

// CatalogueBrand returns the brand for a vendor as a device catalogue names
// it (zigbee2mqtt's "Hampton Bay", "Philips"): the known brand, else the
// vendor itself when it reads like a name.
func CatalogueBrand(vendor string) string {
	if b := knownBrand(vendor); b != "" {
		return b
	}
	v := strings.Join(strings.Fields(vendor), " ")
	if len(v) < 2 || len(v) > 24 || strings.Contains(v, "_") || IsAddressName(v) {
		return ""
	}
	return v
}

// IsAddressName reports whether a name is a Zigbee IEEE address as
// zigbee2mqtt gives it to a new device ("0x000d6ffffe2b9c41"): never a name
// for Alexa or a person.
func IsAddressName(name string) bool {
	hex, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(name)), "0x")
	return ok && len(hex) == 16 && strings.Trim(hex, "0123456789abcdef") == ""
}

// functions are the functions a device is named by, in order: the first a
// device has is its primary function, the one a person names it by.
var functions = [...]struct {
	has  func(Traits) bool
	word string // what a person calls the function
}{
	{func(t Traits) bool { return t.Lock != nil }, "lock"},
	{func(t Traits) bool { return t.Thermostat != nil }, "thermostat"},
	{func(t Traits) bool { return t.Brightness != nil || t.Color != nil || t.ColorTemperature != nil }, "light"},
	{func(t Traits) bool { return t.Cover != nil }, "blind"},
	{func(t Traits) bool { return t.Fan != nil }, "fan"},
	{func(t Traits) bool { return t.Siren != nil }, "siren"},
	{func(t Traits) bool { return t.OnOff != nil }, "switch"},
}

// DeviceKind says what a device is, in the words a person uses ("bulb",
// "radiator valve", "door sensor"), from its traits, the words of its model
// or description (a plug, a light strip, a TRV) and whether it only heats.
func DeviceKind(t Traits, words string, heatOnly bool) string {
	w := strings.ToLower(words)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(w, s) {
				return true
			}
		}
		return false
	}
	switch FunctionWord(t) {
	case "":
	case "thermostat":
		if heatOnly || has("trv", "radiator") {
			return "radiator valve"
		}
		return "thermostat"
	case "light":
		if has("strip") {
			return "light strip"
		}
		return "bulb"
	case "switch":
		if has("plug", "outlet", "socket") {
			return "plug"
		}
		return "switch"
	default:
		return FunctionWord(t)
	}
	switch {
	case (t.Contact != nil || t.Motion != nil) && has("remote", "button", "dimmer"):
		return "remote" // a remote opted into Alexa as a contact or motion stand-in
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

// FunctionRank orders a device's functions (its endpoints' traits) as
// DeviceKind names a device by them: lock, thermostat, light, cover, fan,
// siren, switch, then anything else (FunctionRanks). The lowest is the
// device's primary function, the one a person names the device by.
func FunctionRank(t Traits) int {
	for i, f := range functions {
		if f.has(t) {
			return i
		}
	}
	return len(functions)
}

// FunctionRanks is the number of functions FunctionRank orders; a function
// it does not order ranks FunctionRanks.
const FunctionRanks = len(functions)

// FunctionWord is what a person calls a function of a device beside its
// primary one ("Airzone thermostat switch", "OWON thermostat fan"), "" for
// a function FunctionRank does not order.
func FunctionWord(t Traits) string {
	if i := FunctionRank(t); i < len(functions) {
		return functions[i].word
	}
	return ""
}

// DefaultName is the name a device gets before a person names it: who made
// it and what it is ("IKEA bulb", "Yale lock"), or only what it is ("Bulb")
// when the brand is unknown; never a model id or an address. The hub numbers
// two devices with the same name ("IKEA bulb 2").
func DefaultName(brand, kind string) string {
	if brand != "" {
		return brand + " " + kind
	}
	return strings.ToUpper(kind[:1]) + kind[1:]
}
