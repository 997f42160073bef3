package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// cover: Position "closed", "open" or "40 % open"; a cover with slats also
// Slats "closed", "open" or "40 % open" ("slats 40 % open" in the compact form).
func init() {
	register(model.TraitCover, fromLines(func(s model.State) []kindLine {
		var out []kindLine
		if w, ok := openWords(s.CoverPosition); ok {
			out = append(out, kindLine{StateLine{"Position", w}, ""})
		}
		if w, ok := openWords(s.CoverTilt); ok {
			out = append(out, kindLine{StateLine{"Slats", w}, "slats " + w})
		}
		return out
	}))
}

// openWords says how far open a 0–100 % position is.
func openWords(v *int) (string, bool) {
	switch {
	case v == nil:
		return "", false
	case *v <= 0:
		return "closed", true
	case *v >= 100:
		return "open", true
	}
	return fmt.Sprintf("%d %% open", *v), true
}
