package web

import (
	"fmt"
	"strings"

	"github.com/avshub/avshub/discovery/model"
)

// thermostat: the mode and setpoints ("heat, target 21.0 °C").
func init() {
	register(model.TraitThermostat, words{
		text: func(s model.State) []string {
			th := s.Thermostat
			if th == nil {
				return nil
			}
			var p []string
			if th.Mode != "" {
				p = append(p, strings.ToLower(string(th.Mode)))
			}
			if th.Target != nil {
				p = append(p, fmt.Sprintf("target %.1f °C", *th.Target))
			}
			if th.Lower != nil && th.Upper != nil {
				p = append(p, fmt.Sprintf("%.1f–%.1f °C", *th.Lower, *th.Upper))
			}
			return p
		},
		lines: func(t model.Traits, s model.State) []StateLine {
			th := s.Thermostat
			if t.Thermostat == nil || th == nil {
				return nil
			}
			var out []StateLine
			if th.Mode != "" {
				out = append(out, StateLine{"Mode", strings.ToLower(string(th.Mode))})
			}
			if th.Target != nil {
				out = append(out, StateLine{"Target", fmt.Sprintf("%.1f °C", *th.Target)})
			}
			if th.Lower != nil && th.Upper != nil {
				out = append(out, StateLine{"Keep between", fmt.Sprintf("%.1f and %.1f °C", *th.Lower, *th.Upper)})
			}
			return out
		},
	})
}
