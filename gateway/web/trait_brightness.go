package web

import (
	"fmt"

	"github.com/avshub/avshub/discovery/model"
)

// brightness: "40%"; Brightness "40 %".
func init() {
	register(model.TraitBrightness, words{
		text: func(s model.State) []string {
			if s.Brightness == nil {
				return nil
			}
			return []string{fmt.Sprintf("%d%%", *s.Brightness)}
		},
		lines: func(t model.Traits, s model.State) []StateLine {
			if t.Brightness == nil || s.Brightness == nil {
				return nil
			}
			return []StateLine{{"Brightness", fmt.Sprintf("%d %%", *s.Brightness)}}
		},
	})
}
