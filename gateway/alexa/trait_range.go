package alexa

import (
	"fmt"
	"math"

	"github.com/avshub/avshub/discovery/model"
)

// range: the generic RangeControllers, the same in both profiles. A
// non-controllable range of a known quantity (model.Quantities: CO2,
// particulates, soil moisture, …) is a sensor's reading: its friendly names
// are built in for every configured locale, its value is kept within the
// quantity's bounds, and its directives are refused.
func init() {
	register(model.TraitRange, both(rendering{
		caps: func(p *profile, t model.Traits) ([]capability, error) {
			if err := checkRanges(t.Ranges); err != nil {
				return nil, err
			}
			var caps []capability
			for _, r := range t.Ranges {
				cfg := rangeConfig{
					SupportedRange: supportedRange{Min: r.Min, Max: r.Max, Precision: precisionOr1(r.Precision)},
					UnitOfMeasure:  r.Unit,
				}
				for _, pr := range r.Presets {
					cfg.Presets = append(cfg.Presets, rangePreset{RangeValue: pr.Value,
						PresetResources: resources{p.genericNames(pr.Names, fmt.Sprint(pr.Value))}})
				}
				names := p.genericNames(r.Names, r.Instance)
				if k, ok := quantityText[r.Quantity]; ok && r.NonControllable {
					names = p.builtinNames("", k)
				}
				caps = append(caps, rangeCap(r.Instance, names, cfg, r.NonControllable))
			}
			return caps, nil
		},
		props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
			var out []Property
			for _, r := range t.Ranges {
				if v, ok := st.Ranges[r.Instance]; ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
					out = append(out, prop(nsRange, r.Instance, "rangeValue", v))
				}
			}
			return out
		},
		decode: func(_ *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
			inst := d.Header.Instance
			r := t.Range(inst)
			if d.Header.Namespace != nsRange || r == nil {
				return Intent{}, false, nil
			}
			if r.NonControllable {
				return Intent{}, true, model.Errorf(model.ErrNotSupported, "%s is read-only", inst)
			}
			cur, ok := st.Ranges[inst]
			var curP *float64
			if ok {
				curP = &cur
			}
			v, err := decodeRange(d, curP, rangeSpec{min: r.Min, max: r.Max, precision: precisionOr1(r.Precision)})
			if err != nil {
				return Intent{}, true, err
			}
			return Intent{Command: model.SetRange(inst, v)}, true, nil
		},
	}))
}

// checkRanges refuses ranges Alexa would reject: an empty instance, a
// minimum above the maximum, a preset outside the range.
func checkRanges(ranges []model.Range) error {
	for _, r := range ranges {
		switch {
		case r.Instance == "":
			return fmt.Errorf("range without an instance name")
		case !(r.Min <= r.Max):
			return fmt.Errorf("range %s: minimum %g is above maximum %g", r.Instance, r.Min, r.Max)
		}
		for _, pr := range r.Presets {
			if pr.Value < r.Min || pr.Value > r.Max {
				return fmt.Errorf("range %s: preset %g is outside %g–%g", r.Instance, pr.Value, r.Min, r.Max)
			}
		}
	}
	return nil
}
