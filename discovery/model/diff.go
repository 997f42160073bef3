package model

func eqP[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func diffMap[V comparable](prev, next map[string]V) map[string]V {
	var d map[string]V
	for k, v := range next {
		if pv, ok := prev[k]; !ok || pv != v {
			if d == nil {
				d = map[string]V{}
			}
			d[k] = v
		}
	}
	return d
}
