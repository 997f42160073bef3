package alexa

import "github.com/avshub/avshub/discovery/model"

// brightness: the Light.Brightness RangeController (avs),
// Alexa.BrightnessController (smarthome).
func init() {
	register(model.TraitBrightness, traitRendering{
		avs: rendering{
			caps: func(p *profile, t model.Traits) ([]capability, error) {
				if t.Brightness == nil {
					return nil, nil
				}
				return []capability{rangeCap(InstanceBrightness, p.builtinNames("", txtBrightness), rangeConfig{
					SupportedRange: supportedRange{Min: 0, Max: 100, Precision: 1},
					UnitOfMeasure:  unitPercent,
					Presets: []rangePreset{
						{RangeValue: 100, PresetResources: resources{p.builtinNames(assetValueMaximum)}},
						{RangeValue: 1, PresetResources: resources{p.builtinNames(assetValueMinimum)}},
					},
				}, false)}, nil
			},
			props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
				if t.Brightness == nil || st.Brightness == nil {
					return nil
				}
				return []Property{prop(nsRange, InstanceBrightness, "rangeValue", float64(*st.Brightness))}
			},
			decode: func(_ *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
				if d.Header.Namespace != nsRange || d.Header.Instance != InstanceBrightness || t.Brightness == nil {
					return Intent{}, false, nil
				}
				v, err := decodeRange(d, currentBrightness(st), rangeSpec{min: 0, max: 100, precision: 1})
				if err != nil {
					return Intent{}, true, err
				}
				return Intent{Command: model.SetBrightness(toInt(v))}, true, nil
			},
		},
		smartHome: rendering{
			caps: func(_ *profile, t model.Traits) ([]capability, error) {
				if t.Brightness == nil {
					return nil, nil
				}
				return []capability{iface(nsBrightness, "", "brightness")}, nil
			},
			props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
				if t.Brightness == nil || st.Brightness == nil {
					return nil
				}
				return []Property{prop(nsBrightness, "", "brightness", int(clamp(float64(*st.Brightness), 0, 100)))}
			},
			decode: func(_ *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
				if d.Header.Namespace != nsBrightness || t.Brightness == nil {
					return Intent{}, false, nil
				}
				in, err := decodeBrightness(d, st)
				return in, true, err
			},
		},
	})
}

func decodeBrightness(d *Directive, st model.State) (Intent, error) {
	switch d.Header.Name {
	case "SetBrightness":
		var pl struct {
			Brightness *float64 `json:"brightness"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return Intent{}, err
		}
		if pl.Brightness == nil {
			return Intent{}, missing(d, "brightness")
		}
		return Intent{Command: model.SetBrightness(toInt(*pl.Brightness))}, nil
	case "AdjustBrightness":
		var pl struct {
			Delta *float64 `json:"brightnessDelta"`
		}
		if err := decodePayload(d, &pl); err != nil {
			return Intent{}, err
		}
		if pl.Delta == nil {
			return Intent{}, missing(d, "brightnessDelta")
		}
		cur := currentBrightness(st)
		if cur == nil {
			return Intent{}, unknownCurrent(d)
		}
		v := adjustRange(*cur, *pl.Delta, false, rangeSpec{min: 0, max: 100, precision: 1})
		return Intent{Command: model.SetBrightness(toInt(v))}, nil
	}
	return Intent{}, unsupported(d)
}

// currentBrightness is the level a relative brightness change starts from: 0
// for a light that is off (so "brighten" from off gives a dim light, as
// Amazon's BrightnessController test plan expects), else the known level.
func currentBrightness(st model.State) *float64 {
	if st.On != nil && !*st.On {
		return model.Ptr(0.0)
	}
	if st.Brightness == nil {
		return nil
	}
	return model.Ptr(float64(*st.Brightness))
}
