package alexa

import "github.com/avshub/avshub/discovery/model"

// on_off: Alexa.PowerController in both profiles.
func init() {
	register(model.TraitOnOff, both(rendering{
		caps: func(_ *profile, t model.Traits) ([]capability, error) {
			if t.OnOff == nil {
				return nil, nil
			}
			return []capability{iface(nsPower, "", "powerState")}, nil
		},
		props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
			if t.OnOff == nil || st.On == nil {
				return nil
			}
			return []Property{prop(nsPower, "", "powerState", onOff(*st.On))}
		},
		decode: func(_ *profile, d *Directive, t model.Traits, _ model.State) (Intent, bool, error) {
			if d.Header.Namespace != nsPower || t.OnOff == nil {
				return Intent{}, false, nil
			}
			on, err := decodeTurn(d)
			if err != nil {
				return Intent{}, true, err
			}
			return Intent{Command: model.SetPower(on)}, true, nil
		},
	}))
}
