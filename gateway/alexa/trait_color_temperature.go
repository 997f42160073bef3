package alexa

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// color_temperature: the Light.ColorTemperature RangeController with white
// presets (avs), Alexa.ColorTemperatureController (smarthome).
func init() {
	register(model.TraitColorTemperature, traitRendering{
		avs: rendering{
			caps: func(p *profile, t model.Traits) ([]capability, error) {
				ct := t.ColorTemperature
				if ct == nil {
					return nil, nil
				}
				if err := checkColorTemperature(ct); err != nil {
					return nil, err
				}
				cfg := rangeConfig{
					SupportedRange: supportedRange{Min: float64(ct.MinKelvin), Max: float64(ct.MaxKelvin), Precision: 1},
					UnitOfMeasure:  unitKelvin,
				}
				for _, pr := range []struct {
					k   int
					key textKey
				}{{2700, txtWarmWhite}, {3000, txtSoftWhite}, {4000, txtNeutralWhite}, {6500, txtDaylight}} {
					if pr.k >= ct.MinKelvin && pr.k <= ct.MaxKelvin {
						cfg.Presets = append(cfg.Presets, rangePreset{RangeValue: float64(pr.k), PresetResources: resources{p.builtinNames("", pr.key)}})
					}
				}
				return []capability{rangeCap(InstanceColorTemperature, p.builtinNames("", txtColorTemperature), cfg, false)}, nil
			},
			props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
				if t.ColorTemperature == nil || st.ColorTemperature == nil {
					return nil
				}
				return []Property{prop(nsRange, InstanceColorTemperature, "rangeValue", float64(*st.ColorTemperature))}
			},
			decode: func(_ *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
				ct := t.ColorTemperature
				if d.Header.Namespace != nsRange || d.Header.Instance != InstanceColorTemperature || ct == nil {
					return Intent{}, false, nil
				}
				var cur *float64
				if st.ColorTemperature != nil {
					cur = model.Ptr(float64(*st.ColorTemperature))
				}
				v, err := decodeRange(d, cur, rangeSpec{min: float64(ct.MinKelvin), max: float64(ct.MaxKelvin), precision: 1})
				if err != nil {
					return Intent{}, true, err
				}
				return Intent{Command: model.SetColorTemperature(toInt(v))}, true, nil
			},
		},
		smartHome: rendering{
			caps: func(_ *profile, t model.Traits) ([]capability, error) {
				ct := t.ColorTemperature
				if ct == nil {
					return nil, nil
				}
				if err := checkColorTemperature(ct); err != nil {
					return nil, err
				}
				return []capability{iface(nsColorTemperature, "", "colorTemperatureInKelvin")}, nil
			},
			props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
				if t.ColorTemperature == nil || st.ColorTemperature == nil {
					return nil
				}
				return []Property{prop(nsColorTemperature, "", "colorTemperatureInKelvin", *st.ColorTemperature)}
			},
			decode: func(_ *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
				if d.Header.Namespace != nsColorTemperature || t.ColorTemperature == nil {
					return Intent{}, false, nil
				}
				in, err := decodeColorTemperature(d, t.ColorTemperature, st)
				return in, true, err
			},
		},
	})
}

// checkColorTemperature refuses a range Alexa cannot show.
func checkColorTemperature(ct *model.ColorTemperature) error {
	if ct.MinKelvin <= 0 || ct.MaxKelvin < ct.MinKelvin {
		return fmt.Errorf("colour temperature range %d–%d K is invalid", ct.MinKelvin, ct.MaxKelvin)
	}
	return nil
}

func decodeColorTemperature(d *Directive, ct *model.ColorTemperature, st model.State) (Intent, error) {
	switch d.Header.Name {
	case "SetColorTemperature":
		var pl struct {
			K *float64 `json:"colorTemperatureInKelvin"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return Intent{}, err
		}
		if pl.K == nil {
			return Intent{}, missing(d, "colorTemperatureInKelvin")
		}
		return Intent{Command: model.SetColorTemperature(toInt(*pl.K))}, nil
	case "IncreaseColorTemperature", "DecreaseColorTemperature":
		if st.ColorTemperature == nil {
			return Intent{}, unknownCurrent(d)
		}
		k := stepColorTemperature(*st.ColorTemperature, d.Header.Name == "IncreaseColorTemperature", ct.MinKelvin, ct.MaxKelvin)
		return Intent{Command: model.SetColorTemperature(k)}, nil
	}
	return Intent{}, unsupported(d)
}
