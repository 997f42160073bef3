package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// typeNames says, for each Go type yaml names in its errors, what a person
// should write instead.
var typeNames = map[string]string{
	"time.Duration": "a duration: a number with a unit, like 30s, 5m or 1h30m",
	"int":           "a whole number",
	"*int":          "a whole number",
	"bool":          "true or false",
	"*bool":         "true or false",
	"string":        "text",
	"[]string":      "a list, like [a, b] or one item per line starting with '- '",
	"float64":       "a number",
}

var yamlTypeError = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")

// typeError rewrites yaml's "cannot unmarshal !!str `x` into time.Duration"
// into an error that names the key and what it accepts.
func typeError(err error, root *yaml.Node) error {
	e, ok := err.(*Error)
	if !ok || e.Line == 0 {
		return err
	}
	m := yamlTypeError.FindStringSubmatch(e.Msg)
	if m == nil {
		return err
	}
	key, val := keyAt(root, e.Line)
	if key == "" {
		return err
	}
	e.Key = key
	want := typeNames[m[3]]
	if want == "" {
		want = strings.TrimPrefix(m[3], "config.")
		if strings.HasPrefix(want, "[]") {
			want = "a list"
		} else if strings.HasPrefix(want, "map[") || !strings.Contains(want, ".") {
			want = "a mapping of keys"
		}
	}
	got := val
	if got == "" {
		got = strings.TrimSuffix(m[2], "...")
	}
	e.Msg = fmt.Sprintf("%s is not valid here: expected %s", strconv.Quote(got), want)
	return e
}

// keyAt returns the dotted path ("router.deadline", "bridges[1].startTimeout")
// of the scalar value on line, and its value.
func keyAt(root *yaml.Node, line int) (string, string) {
	var walk func(n *yaml.Node, path string) (string, string)
	walk = func(n *yaml.Node, path string) (string, string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				if k, v := walk(c, path); k != "" {
					return k, v
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if v.Kind != yaml.MappingNode && v.Kind != yaml.SequenceNode && v.Line == line {
					return p, v.Value
				}
				if (v.Kind == yaml.SequenceNode || v.Kind == yaml.MappingNode) && k.Line == line && v.Line == line {
					return p, ""
				}
				if r, val := walk(v, p); r != "" {
					return r, val
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if c.Kind == yaml.ScalarNode && c.Line == line {
					return p, c.Value
				}
				if r, val := walk(c, p); r != "" {
					return r, val
				}
			}
		}
		return "", ""
	}
	return walk(root, "")
}

// KeyError is an error about key, a dotted path such as
// "bridges[1].config.port", at its line in the file (or its closest parent's).
func (c *Config) KeyError(key, msg string) *Error {
	e := &Error{File: c.Path, Key: key, Msg: msg}
	if c.doc != nil {
		e.Line = lineOf(c.doc, key)
	}
	return e
}

// placeholder matches the values a shipped or documented file asks a person to
// replace ("CHANGE-ME", "change_me", "<your client id>").
var placeholder = regexp.MustCompile(`(?i)change[-_ ]?me|^<[^>]*>$|replace[-_ ]?me`)

// CheckPlaceholders reports the first value that still holds a placeholder such
// as CHANGE-ME, naming its key and line. The hub's own loading accepts them (so
// that `avshub status` works with any file); `avshub config check`, `avshub run`
// and `avshub link` refuse them.
func (c *Config) CheckPlaceholders() error {
	if c.doc == nil {
		return nil
	}
	var found *Error
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if found != nil {
			return
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, x := range n.Content {
				walk(x, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, x := range n.Content {
				walk(x, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.ScalarNode:
			if placeholder.MatchString(n.Value) {
				found = &Error{File: c.Path, Line: n.Line, Key: path,
					Msg: fmt.Sprintf("%q is a placeholder: replace it with your own value", n.Value)}
			}
		}
	}
	walk(c.doc, "")
	if found != nil {
		return found
	}
	return nil
}
