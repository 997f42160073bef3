package web

import (
	"fmt"
	"strconv"

	"github.com/avshub/avshub/discovery/model"
)

// range: "<instance> 42" per range (by instance); on the page by name with
// the unit. A reading of a known quantity is "850 ppm" ("CO2 850 ppm" in
// the compact words).
func init() {
	register(model.TraitRange, words{
		text: func(s model.State) []string {
			var p []string
			for _, k := range sortedKeys(s.Ranges) {
				if q, ok := quantityByInstance[k]; ok {
					p = append(p, q.Name+" "+quantityWords(q, s.Ranges[k]))
					continue
				}
				p = append(p, fmt.Sprintf("%s %g", k, s.Ranges[k]))
			}
			return p
		},
		lines: func(t model.Traits, s model.State) []StateLine {
			var out []StateLine
			for _, x := range t.Ranges {
				v, ok := s.Ranges[x.Instance]
				switch q, known := model.QuantityOf(x); {
				case !ok:
				case known:
					out = append(out, StateLine{q.Name, quantityWords(q, v)})
				default:
					out = append(out, StateLine{instanceName(x.Instance, x.Names), fmt.Sprintf("%g%s", v, unitSuffix(x.Unit))})
				}
			}
			return out
		},
	})
}

// quantityByInstance finds a known quantity by its range instance (the
// compact words see the state alone).
var quantityByInstance = func() map[string]model.Quantity {
	m := map[string]model.Quantity{}
	for _, q := range model.Quantities {
		m[q.Instance] = q
	}
	return m
}()

// quantityWords is a reading with its unit, rounded to the quantity's
// precision: "850 ppm", "1013.2 hPa", "42 %".
func quantityWords(q model.Quantity, v float64) string {
	digits := 0
	for p := q.Precision; p > 0 && p < 1 && digits < 3; p *= 10 {
		digits++
	}
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if q.Unit == "" {
		return s
	}
	return s + " " + q.Unit
}
