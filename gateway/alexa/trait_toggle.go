package alexa

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// toggle: the generic ToggleControllers, the same in both profiles.
func init() {
	register(model.TraitToggle, both(rendering{
		caps: func(p *profile, t model.Traits) ([]capability, error) {
			var caps []capability
			for _, tg := range t.Toggles {
				if tg.Instance == "" {
					return nil, fmt.Errorf("toggle without an instance name")
				}
			}
			for _, tg := range t.Toggles {
				caps = append(caps, p.toggleCap(tg.Instance, p.genericNames(tg.Names, tg.Instance), tg.NonControllable))
			}
			return caps, nil
		},
		props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
			var out []Property
			for _, tg := range t.Toggles {
				if v, ok := st.Toggles[tg.Instance]; ok {
					out = append(out, prop(nsToggle, tg.Instance, "toggleState", onOff(v)))
				}
			}
			return out
		},
		decode: func(_ *profile, d *Directive, t model.Traits, _ model.State) (Intent, bool, error) {
			inst := d.Header.Instance
			if d.Header.Namespace != nsToggle || t.Toggle(inst) == nil {
				return Intent{}, false, nil
			}
			on, err := decodeTurn(d)
			if err != nil {
				return Intent{}, true, err
			}
			return Intent{Command: model.SetToggle(inst, on)}, true, nil
		},
	}))
}
