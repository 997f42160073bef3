package mqtt

import (
	"encoding/json"
	"fmt"
	"strings"
)

// expandConfig expands Home Assistant's abbreviated keys recursively (root,
// device, origin, availability entries, components) and the "~" base topic in
// every key ending in _topic (and availability entries' topic).
func expandConfig(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if full, ok := haAbbreviations[k]; ok {
			k = full
		}
		switch k {
		case "device":
			if d, ok := v.(map[string]any); ok {
				v = expandKeys(d, haDeviceAbbreviations)
			}
		case "origin":
			if o, ok := v.(map[string]any); ok {
				v = expandKeys(o, haOriginAbbreviations)
			}
		case "availability":
			if list, ok := v.([]any); ok {
				exp := make([]any, 0, len(list))
				for _, e := range list {
					if em, ok := e.(map[string]any); ok {
						e = expandKeys(em, haAbbreviations)
					}
					exp = append(exp, e)
				}
				v = exp
			}
		case "components":
			if cs, ok := v.(map[string]any); ok {
				exp := make(map[string]any, len(cs))
				for id, c := range cs {
					if cm, ok := c.(map[string]any); ok {
						c = expandConfig(cm)
					}
					exp[id] = c
				}
				v = exp
			}
		}
		out[k] = v
	}
	if base, ok := out["~"].(string); ok {
		expandTilde(out, base)
	}
	return out
}

func expandKeys(m map[string]any, table map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if full, ok := table[k]; ok {
			k = full
		}
		out[k] = v
	}
	return out
}

func expandTilde(m map[string]any, base string) {
	sub := func(s string) string {
		if strings.HasPrefix(s, "~") {
			return base + s[1:]
		}
		if strings.HasSuffix(s, "~") {
			return s[:len(s)-1] + base
		}
		return s
	}
	for k, v := range m {
		if s, ok := v.(string); ok && strings.HasSuffix(k, "_topic") {
			m[k] = sub(s)
		}
	}
	if list, ok := m["availability"].([]any); ok {
		for _, e := range list {
			if em, ok := e.(map[string]any); ok {
				if t, ok := em["topic"].(string); ok {
					em["topic"] = sub(t)
				}
			}
		}
	}
}

// cfgReader reads typed values from an expanded config, collecting type errors.
type cfgReader struct {
	m    map[string]any
	errs []string
}

func (r *cfgReader) has(k string) bool { _, ok := r.m[k]; return ok }

func (r *cfgReader) str(k, def string) string {
	v, ok := r.m[k]
	if !ok || v == nil {
		return def
	}
	switch x := v.(type) {
	case string:
		return x
	case float64, bool:
		return stringify(x)
	}
	r.errs = append(r.errs, fmt.Sprintf("%s must be a string", k))
	return def
}

// num reads a number leniently: zigbee2mqtt sends min_temp as a string.
func (r *cfgReader) num(k string, def float64) float64 {
	v, ok := r.m[k]
	if !ok || v == nil {
		return def
	}
	if n, ok := asNumber(v); ok {
		if _, isBool := v.(bool); !isBool {
			return n
		}
	}
	r.errs = append(r.errs, fmt.Sprintf("%s must be a number", k))
	return def
}

func (r *cfgReader) boolean(k string, def bool) bool {
	v, ok := r.m[k]
	if !ok || v == nil {
		return def
	}
	if b, ok := v.(bool); ok {
		return b
	}
	r.errs = append(r.errs, fmt.Sprintf("%s must be a boolean", k))
	return def
}

func (r *cfgReader) strs(k string) []string {
	v, ok := r.m[k]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		r.errs = append(r.errs, fmt.Sprintf("%s must be a list", k))
		return nil
	}
	var out []string
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			r.errs = append(r.errs, fmt.Sprintf("%s must be a list of strings", k))
			return nil
		}
		out = append(out, s)
	}
	return out
}

// tmpl parses the template at k; a bad or too complex one is an error the
// caller reports as the entity's unsupported reason.
func (r *cfgReader) tmpl(k string) (*template, error) {
	s := r.str(k, "")
	if s == "" {
		return nil, nil
	}
	t, err := parseTemplate(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k, err)
	}
	return t, nil
}

// topic reads a topic and checks it is publishable/subscribable as one topic.
func (r *cfgReader) topic(k string) string {
	t := r.str(k, "")
	if t != "" && strings.ContainsAny(t, "+#\x00") {
		r.errs = append(r.errs, fmt.Sprintf("%s %q contains a wildcard", k, t))
		return ""
	}
	return t
}

func decodeObject(payload []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("payload is not a JSON object")
	}
	return m, nil
}
