package web

import (
	"strings"

	"github.com/avshub/avshub/discovery/model"
)

// lock: "locked", "unlocked", "jammed".
func init() {
	register(model.TraitLock, words{
		text: func(s model.State) []string {
			if s.Lock == "" {
				return nil
			}
			return []string{strings.ToLower(string(s.Lock))}
		},
		lines: func(t model.Traits, s model.State) []StateLine {
			if t.Lock == nil || s.Lock == "" {
				return nil
			}
			return []StateLine{{"Lock", strings.ToLower(string(s.Lock))}}
		},
	})
}
