package alexa

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// fan: the Fan.Speed RangeController with the fan's presets (or high, medium
// and low) in both profiles; its power is the on_off trait's.
func init() {
	register(model.TraitFan, both(rendering{
		caps: func(p *profile, t model.Traits) ([]capability, error) {
			f := t.Fan
			if f == nil {
				return nil, nil
			}
			cfg := rangeConfig{SupportedRange: supportedRange{Min: 0, Max: 100, Precision: 1}, UnitOfMeasure: unitPercent}
			for _, pr := range f.Presets {
				if pr.Value >= 0 && pr.Value <= 100 {
					cfg.Presets = append(cfg.Presets, rangePreset{RangeValue: pr.Value,
						PresetResources: resources{p.genericNames(pr.Names, fmt.Sprint(pr.Value))}})
				}
			}
			if len(cfg.Presets) == 0 {
				cfg.Presets = []rangePreset{
					{RangeValue: 100, PresetResources: resources{append(assets(assetValueMaximum, assetValueHigh), p.builtinNames("", txtHigh)...)}},
					{RangeValue: 66, PresetResources: resources{append(assets(assetValueMedium), p.builtinNames("", txtMedium)...)}},
					{RangeValue: 33, PresetResources: resources{append(assets(assetValueMinimum, assetValueLow), p.builtinNames("", txtLow)...)}},
				}
			}
			return []capability{rangeCap(InstanceFanSpeed, p.builtinNames(assetSettingFanSpeed, txtFanSpeed), cfg, false)}, nil
		},
		props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
			if t.Fan == nil || st.FanSpeed == nil {
				return nil
			}
			return []Property{prop(nsRange, InstanceFanSpeed, "rangeValue", clamp(float64(*st.FanSpeed), 0, 100))}
		},
		decode: func(_ *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
			if d.Header.Namespace != nsRange || d.Header.Instance != InstanceFanSpeed || t.Fan == nil {
				return Intent{}, false, nil
			}
			v, err := decodePercent(d, st.FanSpeed)
			if err != nil {
				return Intent{}, true, err
			}
			return Intent{Command: model.SetFanSpeed(v)}, true, nil
		},
	}))
}
