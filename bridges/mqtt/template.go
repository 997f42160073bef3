package mqtt

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// template is the subset of Home Assistant's Jinja value templates the bridge
// evaluates: literal text around {{ expr }} where expr is value or value_json
// followed by .key, ['key'], ["key"] or [n] lookups and the filters float,
// int, round, lower, upper, trim, string and default. Anything else is rejected
// when the template is parsed, so an entity that needs it is reported
// unsupported instead of guessed.
type template struct {
	src   string
	parts []tmplPart
}

type tmplPart struct {
	lit  string
	expr *tmplExpr
}

type tmplExpr struct {
	root    string // "value" or "value_json"
	path    []any  // string keys and int indexes
	filters []tmplFilter
}

type tmplFilter struct {
	name string
	arg  any // number or string, or nil
}

// errUndefined is returned when value_json lacks the looked-up key: Home
// Assistant then keeps the old state, and so does the bridge.
var errUndefined = errors.New("template value is undefined")

// parseTemplate parses src; an empty src is the identity template.
func parseTemplate(src string) (*template, error) {
	t := &template{src: src}
	if strings.Contains(src, "{%") || strings.Contains(src, "{#") {
		return nil, fmt.Errorf("template %q uses Jinja statements, which the bridge does not evaluate", src)
	}
	rest := src
	for rest != "" {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.parts = append(t.parts, tmplPart{lit: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{lit: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("template %q: unclosed {{", src)
		}
		e, err := parseExpr(strings.TrimSpace(rest[i+2 : i+j]))
		if err != nil {
			return nil, fmt.Errorf("template %q: %w", src, err)
		}
		t.parts = append(t.parts, tmplPart{expr: e})
		rest = rest[i+j+2:]
	}
	return t, nil
}

func parseExpr(s string) (*tmplExpr, error) {
	segs := splitPipes(s)
	head := strings.TrimSpace(segs[0])
	e := &tmplExpr{}
	switch {
	case head == "value", head == "position":
		// A cover's set_position_template has the position as position
		// (and value), the only command variable besides value.
		e.root = "value"
	case strings.HasPrefix(head, "value_json"):
		e.root = "value_json"
		p := head[len("value_json"):]
		for p != "" {
			switch p[0] {
			case '.':
				k := p[1:]
				n := strings.IndexAny(k, ".[")
				if n < 0 {
					n = len(k)
				}
				key := k[:n]
				if !isIdent(key) {
					return nil, fmt.Errorf("unsupported lookup %q", head)
				}
				e.path = append(e.path, key)
				p = k[n:]
			case '[':
				n := strings.IndexByte(p, ']')
				if n < 0 {
					return nil, fmt.Errorf("unclosed [ in %q", head)
				}
				in := strings.TrimSpace(p[1:n])
				if len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0] {
					e.path = append(e.path, in[1:len(in)-1])
				} else if idx, err := strconv.Atoi(in); err == nil {
					e.path = append(e.path, idx)
				} else {
					return nil, fmt.Errorf("unsupported index %q", in)
				}
				p = p[n+1:]
			default:
				return nil, fmt.Errorf("unsupported expression %q", head)
			}
		}
	default:
		return nil, fmt.Errorf("unsupported expression %q (only value and value_json lookups are evaluated)", head)
	}
	for _, f := range segs[1:] {
		f = strings.TrimSpace(f)
		name, arg := f, ""
		if i := strings.IndexByte(f, '('); i >= 0 {
			if !strings.HasSuffix(f, ")") {
				return nil, fmt.Errorf("unsupported filter %q", f)
			}
			name, arg = strings.TrimSpace(f[:i]), strings.TrimSpace(f[i+1:len(f)-1])
		}
		tf := tmplFilter{name: name}
		switch name {
		case "float", "int", "round", "default":
			if arg != "" {
				if len(arg) >= 2 && (arg[0] == '\'' || arg[0] == '"') && arg[len(arg)-1] == arg[0] {
					tf.arg = arg[1 : len(arg)-1]
				} else if v, err := strconv.ParseFloat(arg, 64); err == nil {
					tf.arg = v
				} else {
					return nil, fmt.Errorf("unsupported filter argument %q", f)
				}
			}
		case "lower", "upper", "trim", "string":
			if arg != "" {
				return nil, fmt.Errorf("unsupported filter %q", f)
			}
		default:
			return nil, fmt.Errorf("unsupported filter %q", name)
		}
		e.filters = append(e.filters, tf)
	}
	return e, nil
}

func splitPipes(s string) []string {
	var out []string
	quote := byte(0)
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '|':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// property is the top-level key of value_json the template renders
// ({{ value_json.key }} or {{ value_json["key"] }}, filters allowed), "" for
// any other template.
func (t *template) property() string {
	if t == nil || len(t.parts) != 1 || t.parts[0].expr == nil {
		return ""
	}
	x := t.parts[0].expr
	if x.root != "value_json" || len(x.path) != 1 {
		return ""
	}
	k, _ := x.path[0].(string)
	return k
}

// render evaluates the template for one payload. A nil template renders the
// payload itself.
func (t *template) render(payload []byte) (string, error) {
	if t == nil || len(t.parts) == 0 {
		return string(payload), nil
	}
	var b strings.Builder
	var doc any
	parsed := false
	for _, p := range t.parts {
		if p.expr == nil {
			b.WriteString(p.lit)
			continue
		}
		var v any = string(payload)
		if p.expr.root == "value_json" {
			if !parsed {
				if err := json.Unmarshal(payload, &doc); err != nil {
					return "", fmt.Errorf("value_json: payload is not JSON: %w", err)
				}
				parsed = true
			}
			v = doc
		}
		out, err := p.expr.eval(v)
		if err != nil {
			return "", err
		}
		b.WriteString(out)
	}
	return b.String(), nil
}

// renderValue evaluates a command template with value bound to v.
func (t *template) renderValue(v string) (string, error) {
	if t == nil || len(t.parts) == 0 {
		return v, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.expr == nil {
			b.WriteString(p.lit)
			continue
		}
		if p.expr.root != "value" {
			return "", fmt.Errorf("command template %q uses %s", t.src, p.expr.root)
		}
		out, err := p.expr.eval(v)
		if err != nil {
			return "", err
		}
		b.WriteString(out)
	}
	return b.String(), nil
}

func (e *tmplExpr) eval(v any) (string, error) {
	undefined := false
lookup:
	for _, k := range e.path {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if ok {
				v, ok = m[k]
			}
			if !ok {
				undefined = true
				break lookup
			}
		case int:
			a, ok := v.([]any)
			if !ok || k < 0 || k >= len(a) {
				undefined = true
				break lookup
			}
			v = a[k]
		}
	}
	for _, f := range e.filters {
		if undefined && f.name != "default" {
			continue
		}
		switch f.name {
		case "default":
			if undefined {
				v, undefined = f.arg, false
			}
		case "float", "int", "round":
			n, ok := asNumber(v)
			if !ok {
				if f.arg == nil || f.name == "round" {
					return "", fmt.Errorf("%v is not a number", v)
				}
				n, _ = asNumber(f.arg)
			}
			switch f.name {
			case "int":
				v = math.Trunc(n)
			case "round":
				p := 0.0
				if a, ok := f.arg.(float64); ok {
					p = a
				}
				s := math.Pow(10, p)
				v = math.Round(n*s) / s
			default:
				v = n
			}
		case "lower":
			v = strings.ToLower(stringify(v))
		case "upper":
			v = strings.ToUpper(stringify(v))
		case "trim":
			v = strings.TrimSpace(stringify(v))
		case "string":
			v = stringify(v)
		}
	}
	if undefined {
		return "", errUndefined
	}
	return stringify(v), nil
}

func asNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	case bool:
		if n {
			return 1, true
		}
		return 0, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

func stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "True"
		}
		return "False"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
