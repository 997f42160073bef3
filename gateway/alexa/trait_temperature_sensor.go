package alexa

import (
	"math"

	"github.com/avshub/avshub/discovery/model"
)

// temperature_sensor: the non-controllable Temperature.Current RangeController
// (avs), Alexa.TemperatureSensor (smarthome), in the thermostat's or the
// profile's scale.
func init() {
	register(model.TraitTemperatureSensor, traitRendering{
		avs: rendering{
			caps: func(p *profile, t model.Traits) ([]capability, error) {
				if t.TemperatureSensor == nil {
					return nil, nil
				}
				s := p.sensorScale(t)
				lo, hi := FromCelsius(sensorMinC, s), FromCelsius(sensorMaxC, s)
				return []capability{rangeCap(InstanceCurrentTemperature, p.builtinNames("", txtCurrentTemp), rangeConfig{
					SupportedRange: supportedRange{Min: lo, Max: hi, Precision: 0.1},
					UnitOfMeasure:  unitFor(s),
				}, true)}, nil
			},
			props: func(p *profile, t model.Traits, st model.State, prop propFunc) []Property {
				if t.TemperatureSensor == nil || st.Temperature == nil || math.IsNaN(*st.Temperature) {
					return nil
				}
				return []Property{prop(nsRange, InstanceCurrentTemperature, "rangeValue", reportTemp(*st.Temperature, p.sensorScale(t)))}
			},
			decode: func(_ *profile, d *Directive, t model.Traits, _ model.State) (Intent, bool, error) {
				if d.Header.Namespace != nsRange || d.Header.Instance != InstanceCurrentTemperature || t.TemperatureSensor == nil {
					return Intent{}, false, nil
				}
				return Intent{}, true, model.Errorf(model.ErrNotSupported, "%s is read-only", InstanceCurrentTemperature)
			},
		},
		smartHome: rendering{
			caps: func(_ *profile, t model.Traits) ([]capability, error) {
				if t.TemperatureSensor == nil {
					return nil, nil
				}
				return []capability{iface(nsTemperature, "", "temperature")}, nil
			},
			props: func(p *profile, t model.Traits, st model.State, prop propFunc) []Property {
				if t.TemperatureSensor == nil || st.Temperature == nil || math.IsNaN(*st.Temperature) {
					return nil
				}
				sc := p.sensorScale(t)
				return []Property{prop(nsTemperature, "", "temperature", temperatureProp{reportTemp(*st.Temperature, sc), string(sc)})}
			},
			decode: noDecode,
		},
	})
}

// sensorRangeC bounds the current-temperature range of the avs profile.
const (
	sensorMinC = -40.0
	sensorMaxC = 100.0
)

type temperatureProp struct {
	Value float64 `json:"value"`
	Scale string  `json:"scale"`
}
