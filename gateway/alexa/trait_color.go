package alexa

import (
	"math"

	"github.com/avshub/avshub/discovery/model"
)

// color: the Light.Color ModeController of named colours (avs),
// Alexa.ColorController (smarthome).
func init() {
	register(model.TraitColor, traitRendering{
		avs: rendering{
			caps: func(p *profile, t model.Traits) ([]capability, error) {
				if t.Color == nil {
					return nil, nil
				}
				cfg := modeConfig{}
				for _, c := range namedColors {
					cfg.SupportedModes = append(cfg.SupportedModes, modeValue{Value: c.value, ModeResources: resources{p.builtinNames("", c.key)}})
				}
				return []capability{modeCap(InstanceColor, p.builtinNames("", txtColor), cfg, false)}, nil
			},
			props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
				if t.Color == nil || st.Color == nil {
					return nil
				}
				return []Property{prop(nsMode, InstanceColor, "mode", nearestColor(*st.Color).value)}
			},
			decode: func(_ *profile, d *Directive, t model.Traits, st model.State) (Intent, bool, error) {
				if d.Header.Namespace != nsMode || d.Header.Instance != InstanceColor || t.Color == nil {
					return Intent{}, false, nil
				}
				v, err := decodeMode(d, "", nil, false)
				if err != nil {
					return Intent{}, true, err
				}
				c, ok := colorByValue(v)
				if !ok {
					return Intent{}, true, model.Errorf(model.ErrInvalidValue, "%s has no colour %q", InstanceColor, v)
				}
				bri := 1.0
				if st.Color != nil && st.Color.Brightness > 0 {
					bri = st.Color.Brightness
				}
				return Intent{Command: model.SetColor(model.HSB{Hue: c.hue, Saturation: c.sat, Brightness: bri})}, true, nil
			},
		},
		smartHome: rendering{
			caps: func(_ *profile, t model.Traits) ([]capability, error) {
				if t.Color == nil {
					return nil, nil
				}
				return []capability{iface(nsColor, "", "color")}, nil
			},
			props: func(_ *profile, t model.Traits, st model.State, prop propFunc) []Property {
				if t.Color == nil || st.Color == nil {
					return nil
				}
				c := st.Color
				return []Property{prop(nsColor, "", "color", colorProp{
					Hue: clamp(nanTo0(c.Hue), 0, 360), Saturation: clamp(nanTo0(c.Saturation), 0, 1), Brightness: clamp(nanTo0(c.Brightness), 0, 1)})}
			},
			decode: func(_ *profile, d *Directive, t model.Traits, _ model.State) (Intent, bool, error) {
				if d.Header.Namespace != nsColor || t.Color == nil || d.Header.Name != "SetColor" {
					return Intent{}, false, nil
				}
				in, err := decodeColor(d)
				return in, true, err
			},
		},
	})
}

type colorProp struct {
	Hue        float64 `json:"hue"`
	Saturation float64 `json:"saturation"`
	Brightness float64 `json:"brightness"`
}

func nanTo0(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

func decodeColor(d *Directive) (Intent, error) {
	var pl struct {
		Color *struct {
			Hue        *float64 `json:"hue"`
			Saturation *float64 `json:"saturation"`
			Brightness *float64 `json:"brightness"`
		} `json:"color"`
	}
	if err := decodePayload(d, &pl); err != nil {
		return Intent{}, err
	}
	c := pl.Color
	if c == nil || c.Hue == nil || c.Saturation == nil || c.Brightness == nil {
		return Intent{}, missing(d, "color with hue, saturation and brightness")
	}
	return Intent{Command: model.SetColor(model.HSB{Hue: *c.Hue, Saturation: *c.Saturation, Brightness: *c.Brightness})}, nil
}
