package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// cover: Position "closed", "open" or "40 % open".
func init() {
	register(model.TraitCover, fromLines(func(s model.State) []kindLine {
		v := s.CoverPosition
		switch {
		case v == nil:
			return nil
		case *v <= 0:
			return []kindLine{{StateLine{"Position", "closed"}, ""}}
		case *v >= 100:
			return []kindLine{{StateLine{"Position", "open"}, ""}}
		}
		return []kindLine{{StateLine{"Position", fmt.Sprintf("%d %% open", *v)}, ""}}
	}))
}
