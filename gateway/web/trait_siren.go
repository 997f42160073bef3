package web

import "github.com/avshub/avshub/discovery/model"

// siren: Siren "sounding!" or "off" ("siren sounding!", "siren off").
func init() {
	register(model.TraitSiren, fromLines(func(s model.State) []kindLine {
		if s.Siren == nil {
			return nil
		}
		return []kindLine{{StateLine{"Siren", map[bool]string{true: "sounding!", false: "off"}[*s.Siren]},
			map[bool]string{true: "siren sounding!", false: "siren off"}[*s.Siren]}}
	}))
}
