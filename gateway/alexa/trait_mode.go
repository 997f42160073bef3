package alexa

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// mode: the generic ModeControllers, the same in both profiles.
func init() {
	register(model.TraitMode, both(rendering{
		caps: func(p *profile, t model.Traits) ([]capability, error) {
			if err := checkModes(t.Modes); err != nil {
				return nil, err
			}
			var caps []capability
			for _, m := range t.Modes {
				cfg := modeConfig{Ordered: m.Ordered}
				for _, v := range m.Values {
					cfg.SupportedModes = append(cfg.SupportedModes, modeValue{Value: v.Value,
						ModeResources: resources{p.genericNames(v.Names, v.Value)}})
				}
				caps = append(caps, modeCap(m.Instance, p.genericNames(m.Names, m.Instance), cfg, m.NonControllable))
			}
			return caps, nil
		},
		props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
			var out []Property
			for _, m := range t.Modes {
				if v, ok := st.Modes[m.Instance]; ok && v != "" {
					out = append(out, prop(nsMode, m.Instance, "mode", v))
				}
			}
			return out
		},
		decode: func(_ *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
			inst := d.Header.Instance
			m := t.Mode(inst)
			if d.Header.Namespace != nsMode || m == nil {
				return Intent{}, false, nil
			}
			values := make([]string, len(m.Values))
			for i, v := range m.Values {
				values[i] = v.Value
			}
			v, err := decodeMode(d, st.Modes[inst], values, m.Ordered)
			if err != nil {
				return Intent{}, true, err
			}
			return Intent{Command: model.SetMode(inst, v)}, true, nil
		},
	}))
}

// checkModes refuses modes Alexa would reject: without an instance or
// values, or with a value empty or twice.
func checkModes(modes []model.Mode) error {
	for _, m := range modes {
		if m.Instance == "" || len(m.Values) == 0 {
			return fmt.Errorf("mode %q needs an instance name and at least one value", m.Instance)
		}
		seen := map[string]bool{}
		for _, v := range m.Values {
			if v.Value == "" || seen[v.Value] {
				return fmt.Errorf("mode %s: value %q is empty or repeated", m.Instance, v.Value)
			}
			seen[v.Value] = true
		}
	}
	return nil
}
