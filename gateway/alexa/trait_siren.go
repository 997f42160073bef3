package alexa

import "github.com/avshub/avshub/discovery/model"

// siren: the Siren.Alarm ToggleController in both profiles.
func init() {
	register(model.TraitSiren, both(rendering{
		caps: func(p *profile, t model.Traits) ([]capability, error) {
			if t.Siren == nil {
				return nil, nil
			}
			return []capability{p.toggleCap(InstanceSiren, p.builtinNames("", txtSiren), false)}, nil
		},
		props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
			if t.Siren == nil || st.Siren == nil {
				return nil
			}
			return []Property{prop(nsToggle, InstanceSiren, "toggleState", onOff(*st.Siren))}
		},
		decode: func(_ *profile, d *Directive, t model.Traits, _ model.State) (Intent, bool, error) {
			if d.Header.Namespace != nsToggle || d.Header.Instance != InstanceSiren || t.Siren == nil {
				return Intent{}, false, nil
			}
			on, err := decodeTurn(d)
			if err != nil {
				return Intent{}, true, err
			}
			return Intent{Command: model.SetSiren(on)}, true, nil
		},
	}))
}
