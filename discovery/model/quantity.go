package model

import "sort"

// Quantity is a measured quantity a read-only Range carries (Range.Quantity):
// a reading with no trait of its own (CO2, particulates, soil moisture,
// pressure, …). The hub renders a range of a known quantity from this table:
// its Alexa names, its unit on the page and its Home Assistant sensor.
type Quantity struct {
	// Instance is the Alexa RangeController instance: part of what Alexa
	// stores, never renamed.
	Instance string
	// Name is what a person calls the reading, in English ("CO2").
	Name string
	// Unit is the unit as a person writes it ("ppm"); "" for an index.
	Unit string
	// AlexaUnit is Alexa's unit of measure, "" where Alexa documents none.
	AlexaUnit string
	// HAClass is the Home Assistant sensor device_class, "" where it has none.
	HAClass string
	// Total marks a meter's index (it only grows: Home Assistant's
	// state_class total_increasing), not a measurement.
	Total bool
	// Min, Max and Precision bound a plausible reading.
	Min, Max, Precision float64
	// Units are the units a bridge may receive the reading in, each with
	// the factor to Unit ("kPa": 10 for a pressure in hPa).
	Units map[string]float64
}

// Quantity keys (Range.Quantity).
const (
	QuantityCO2          = "co2"
	QuantityPM1          = "pm1"
	QuantityPM25         = "pm25"
	QuantityPM10         = "pm10"
	QuantityVOC          = "voc"
	QuantityVOCDensity   = "voc_density"
	QuantityFormaldehyde = "formaldehyde"
	QuantityAQI          = "aqi"
	QuantityPressure     = "pressure"
	QuantitySoilMoisture = "soil_moisture"
	QuantityFlow         = "flow"
	QuantityLiquidLevel  = "liquid_level"
	QuantityGasVolume    = "gas_volume"
)

// Quantities are the known quantities by key.
var Quantities = map[string]Quantity{
	QuantityCO2: {Instance: "CO2.Current", Name: "CO2", Unit: "ppm", HAClass: "carbon_dioxide",
		Max: 40000, Precision: 1, Units: map[string]float64{"ppm": 1}},
	QuantityPM1: {Instance: "PM1.Current", Name: "PM1", Unit: "µg/m³", HAClass: "pm1",
		Max: 10000, Precision: 1, Units: map[string]float64{"µg/m³": 1}},
	QuantityPM25: {Instance: "PM25.Current", Name: "PM2.5", Unit: "µg/m³", HAClass: "pm25",
		Max: 10000, Precision: 1, Units: map[string]float64{"µg/m³": 1}},
	QuantityPM10: {Instance: "PM10.Current", Name: "PM10", Unit: "µg/m³", HAClass: "pm10",
		Max: 10000, Precision: 1, Units: map[string]float64{"µg/m³": 1}},
	QuantityVOC: {Instance: "VOC.Current", Name: "VOC", Unit: "ppb", HAClass: "volatile_organic_compounds_parts",
		Max: 100000, Precision: 1, Units: map[string]float64{"ppb": 1, "ppm": 1000}},
	QuantityVOCDensity: {Instance: "VOC.Density", Name: "VOC", Unit: "µg/m³", HAClass: "volatile_organic_compounds",
		Max: 100000, Precision: 1, Units: map[string]float64{"µg/m³": 1, "mg/m³": 1000}},
	QuantityFormaldehyde: {Instance: "Formaldehyde.Current", Name: "Formaldehyde", Unit: "µg/m³",
		Max: 100000, Precision: 1, Units: map[string]float64{"µg/m³": 1, "mg/m³": 1000}},
	QuantityAQI: {Instance: "AirQuality.Index", Name: "Air quality index", HAClass: "aqi",
		Max: 1000, Precision: 1, Units: map[string]float64{"": 1, "index": 1}},
	QuantityPressure: {Instance: "Pressure.Current", Name: "Pressure", Unit: "hPa", HAClass: "pressure",
		Max: 100000, Precision: 0.1, Units: map[string]float64{"hPa": 1, "mbar": 1, "kPa": 10, "bar": 1000, "Pa": 0.01}},
	QuantitySoilMoisture: {Instance: "SoilMoisture.Current", Name: "Soil moisture", Unit: "%", AlexaUnit: "Alexa.Unit.Percent", HAClass: "moisture",
		Max: 100, Precision: 1, Units: map[string]float64{"%": 1}},
	QuantityFlow: {Instance: "Flow.Current", Name: "Flow", Unit: "m³/h", HAClass: "volume_flow_rate",
		Max: 100000, Precision: 0.001, Units: map[string]float64{"m³/h": 1, "L/min": 0.06, "L/h": 0.001}},
	// a tank's or a well's fill level (a water level sensor)
	QuantityLiquidLevel: {Instance: "LiquidLevel.Current", Name: "Liquid level", Unit: "%", AlexaUnit: "Alexa.Unit.Percent",
		Max: 100, Precision: 1, Units: map[string]float64{"%": 1}},
	// a gas meter's index: the gas delivered so far
	QuantityGasVolume: {Instance: "Gas.Volume", Name: "Gas meter", Unit: "m³", HAClass: "gas", Total: true,
		Max: 1e7, Precision: 0.001, Units: map[string]float64{"m³": 1, "ft³": 0.0283168}},
}

// QuantityKeys returns the keys of Quantities, sorted.
func QuantityKeys() []string {
	keys := make([]string, 0, len(Quantities))
	for k := range Quantities {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MeasurementRange returns the non-controllable range of quantity key (its
// instance, English name, bounds and Alexa unit); ok is false for an
// unknown key.
func MeasurementRange(key string) (r Range, ok bool) {
	q, ok := Quantities[key]
	if !ok {
		return Range{}, false
	}
	return Range{Instance: q.Instance, Names: []Name{{Text: q.Name, Locale: "en-US"}}, Min: q.Min, Max: q.Max,
		Precision: q.Precision, Unit: q.AlexaUnit, NonControllable: true, Quantity: key}, true
}

// QuantityOf returns the quantity a range measures; ok is false for a
// generic range.
func QuantityOf(r Range) (Quantity, bool) {
	q, ok := Quantities[r.Quantity]
	return q, ok && r.Quantity != ""
}

// What a Motion trait detects besides motion (Motion.Detects): Alexa has
// no vibration, emergency-button, rain or heat interface, and a
// detected/clear event that can start a routine is what such a sensor is
// for.
const (
	// MotionVibration is a vibration sensor's "vibration detected".
	MotionVibration = "vibration"
	// MotionSOS is an emergency button's "SOS pressed".
	MotionSOS = "sos"
	// MotionRain is a rain sensor's "rain detected".
	MotionRain = "rain"
	// MotionHeat is a heat alarm's "heat detected" (a fixed or
	// rate-of-rise temperature alarm, not a thermometer).
	MotionHeat = "heat"
)

// GetDetects returns what m detects; "" (motion) for a nil m.
func (m *Motion) GetDetects() string {
	if m == nil {
		return ""
	}
	return m.Detects
}
