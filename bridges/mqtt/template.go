package mqtt

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// template is the subset of Home Assistant's Jinja templates the bridge
// evaluates: literal text around {{ expr }} and {% if cond %} … {% elif
// cond %} … {% else %} … {% endif %} blocks (nested as deep as wanted).
// expr is a literal (string, number, true, false, none) or a variable —
// value, value_json and, in a command template, the command's variables
// (tone, volume_level, duration) — followed by .key, ['key'], ["key"] or
// [n] lookups and the filters float, int, round, lower, upper, trim,
// string and default. cond combines exprs with ==, !=, <, <=, >, >=, in,
// not in, is [not] defined, is [not] none, and, or, not and parentheses. zigbee2mqtt's
// own discovery uses these forms for its covers, sirens and boolean
// switches. Its thermostats' mode templates also use {% set name = expr
// %} at the top level (not inside an if block), dict literals of string
// keys and literal values, list literals, a lookup by an expression
// (values[value]), a mapping's .keys() and the inline "x if cond else y":
// those are evaluated too. Anything else (loops, other statements, other
// methods and filters, arithmetic) is rejected when the template is
// parsed, so an entity that needs it is reported unsupported instead of
// guessed.
type template struct {
	src   string
	parts []tmplPart
}

// tmplPart is literal text, an output {{ expr }}, an if block, or a {%
// set %} (set names the variable expr binds for the parts after it).
type tmplPart struct {
	lit  string
	expr *tmplExpr
	cond *tmplIf
	set  string
}

// tmplIf is an if block: the first branch whose condition holds renders,
// else the else parts.
type tmplIf struct {
	branches []tmplBranch
	els      []tmplPart
}

type tmplBranch struct {
	cond *tmplCond
	body []tmplPart
}

type tmplExpr struct {
	root    string // a variable: "value", "value_json", a command variable or a {% set %} one; "" for a literal
	lit     any    // the literal's value (root ""): also a dict (map[string]any) or a list ([]any)
	path    []any  // string keys, int indexes, *tmplExpr keys (values[value]) and tmplKeys
	filters []tmplFilter
	// an inline "then if ifc else els" (the other fields unused)
	ifc       *tmplCond
	then, els *tmplExpr
}

// tmplKeys is a mapping's .keys() in a path: the list of its keys.
type tmplKeys struct{}

type tmplFilter struct {
	name string
	arg  any // number or string, or nil
}

// tmplCond is a condition node: an operator over its operands, or one
// expression (op "").
type tmplCond struct {
	op   string // "", "or", "and", "not", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "defined", "not defined", "none", "not none"
	x    *tmplExpr
	args []*tmplCond
}

// commandVariables are the variables a command template may use besides
// value: those Home Assistant's siren passes (undefined unless the command
// sets them; the bridge's siren on/off sets none).
var commandVariables = map[string]bool{"tone": true, "volume_level": true, "duration": true}

// errUndefined is returned when value_json lacks the looked-up key: Home
// Assistant then keeps the old state, and so does the bridge.
var errUndefined = errors.New("template value is undefined")

// parseTemplate parses src; an empty src is the identity template.
func parseTemplate(src string) (*template, error) {
	t := &template{src: src}
	if strings.Contains(src, "{#") {
		return nil, fmt.Errorf("template %q uses Jinja comments, which the bridge does not evaluate", src)
	}
	p := &tmplParser{src: src, rest: src, vars: map[string]bool{}}
	parts, end, err := p.parts()
	if err == nil && end != "" {
		err = fmt.Errorf("{%% %s %%} without {%% if %%}", end)
	}
	if err != nil {
		return nil, fmt.Errorf("template %q: %w", src, err)
	}
	t.parts = parts
	return t, nil
}

// tmplParser splits a template into parts.
type tmplParser struct {
	src, rest string
	vars      map[string]bool // the names {% set %} has bound so far
	depth     int             // if blocks the parser is in
}

// parts reads parts up to the end of the template or a {% elif %}, {% else
// %} or {% endif %} statement, which it returns (the whole statement for
// elif) without reading what follows it.
func (p *tmplParser) parts() ([]tmplPart, string, error) {
	var out []tmplPart
	for p.rest != "" {
		i := strings.Index(p.rest, "{{")
		j := strings.Index(p.rest, "{%")
		if i < 0 && j < 0 {
			out = append(out, tmplPart{lit: p.rest})
			p.rest = ""
			break
		}
		if i < 0 || (j >= 0 && j < i) {
			i = j
		}
		if i > 0 {
			out = append(out, tmplPart{lit: p.rest[:i]})
			p.rest = p.rest[i:]
		}
		if strings.HasPrefix(p.rest, "{{") {
			k := strings.Index(p.rest[2:], "}}") + 2 // after the {{ ("{{}" is unclosed)
			if k < 2 {
				return nil, "", fmt.Errorf("unclosed {{")
			}
			e, err := parseExpr(strings.TrimSpace(p.rest[2:k]), p.vars)
			if err != nil {
				return nil, "", err
			}
			out = append(out, tmplPart{expr: e})
			p.rest = p.rest[k+2:]
			continue
		}
		k := strings.Index(p.rest[2:], "%}") + 2 // after the {% ("{%}" is unclosed)
		if k < 2 {
			return nil, "", fmt.Errorf("unclosed {%%")
		}
		stmt := strings.TrimSpace(p.rest[2:k])
		if strings.HasPrefix(stmt, "-") || strings.HasSuffix(stmt, "-") {
			return nil, "", fmt.Errorf("template statement {%% %s %%}: whitespace control is not evaluated", stmt)
		}
		p.rest = p.rest[k+2:]
		word, arg, _ := strings.Cut(stmt, " ")
		switch word {
		case "if":
			blk, err := p.ifBlock(arg)
			if err != nil {
				return nil, "", err
			}
			out = append(out, tmplPart{cond: blk})
		case "elif", "else", "endif":
			return out, stmt, nil
		case "set":
			name, rhs, ok := strings.Cut(arg, "=")
			name = strings.TrimSpace(name)
			if !ok || !tmplIdent(name) || strings.HasPrefix(rhs, "=") {
				return nil, "", fmt.Errorf("template statement {%% %s %%}: only {%% set name = expression %%} is evaluated", stmt)
			}
			if p.depth > 0 {
				return nil, "", fmt.Errorf("template statement {%% %s %%}: a set inside an if block is not evaluated", stmt)
			}
			e, err := parseExpr(strings.TrimSpace(rhs), p.vars)
			if err != nil {
				return nil, "", err
			}
			p.vars[name] = true
			out = append(out, tmplPart{expr: e, set: name})
		default:
			return nil, "", fmt.Errorf("template statement {%% %s %%} is not evaluated (only if, elif, else, endif, set)", stmt)
		}
	}
	return out, "", nil
}

// ifBlock reads an if block after its {% if cond %}.
func (p *tmplParser) ifBlock(cond string) (*tmplIf, error) {
	blk := &tmplIf{}
	p.depth++
	defer func() { p.depth-- }()
	for {
		c, err := parseCond(cond, p.vars)
		if err != nil {
			return nil, err
		}
		body, end, err := p.parts()
		if err != nil {
			return nil, err
		}
		blk.branches = append(blk.branches, tmplBranch{cond: c, body: body})
		word, arg, _ := strings.Cut(end, " ")
		switch word {
		case "elif":
			cond = arg
			continue
		case "else":
			els, end, err := p.parts()
			if err != nil {
				return nil, err
			}
			if end != "endif" {
				return nil, fmt.Errorf("{%% else %%} not closed by {%% endif %%}")
			}
			blk.els = els
			return blk, nil
		case "endif":
			return blk, nil
		}
		return nil, fmt.Errorf("{%% if %%} without {%% endif %%}")
	}
}

// tmplIdent reports whether s is a variable's name.
func tmplIdent(s string) bool {
	toks, err := tmplTokens(s)
	return err == nil && len(toks) == 1 && toks[0].kind == 'i' && !tmplKeywords[s]
}

// tmplKeywords are the words that are not variables.
var tmplKeywords = map[string]bool{"true": true, "True": true, "false": true, "False": true, "none": true, "None": true,
	"and": true, "or": true, "not": true, "in": true, "is": true, "if": true, "else": true, "value_json": true}

// parseExpr parses the inside of {{ }} (or a {% set %}'s value): one
// expression with its filters, or an inline "x if cond else y". vars are
// the names bound by {% set %} before it.
func parseExpr(s string, vars map[string]bool) (*tmplExpr, error) {
	toks, err := tmplTokens(s)
	if err != nil {
		return nil, err
	}
	cp := &condParser{toks: toks, vars: vars}
	e, err := cp.expr()
	if err != nil {
		return nil, err
	}
	if cp.is("if") {
		cp.i++
		c, err := cp.or()
		if err != nil {
			return nil, err
		}
		if !cp.is("else") {
			return nil, fmt.Errorf("inline if without else in %q", s)
		}
		cp.i++
		y, err := cp.expr()
		if err != nil {
			return nil, err
		}
		e = &tmplExpr{ifc: c, then: e, els: y}
	}
	if !cp.done() {
		return nil, fmt.Errorf("unsupported expression %q", s)
	}
	return e, nil
}

// parseCond parses the condition of an if or elif.
func parseCond(s string, vars map[string]bool) (*tmplCond, error) {
	toks, err := tmplTokens(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("if without a condition")
	}
	cp := &condParser{toks: toks, vars: vars}
	c, err := cp.or()
	if err != nil {
		return nil, err
	}
	if !cp.done() {
		return nil, fmt.Errorf("unsupported condition %q", s)
	}
	return c, nil
}

// tmplToken is a token of an expression: kind 'i' identifier, 's' string,
// 'n' number, 'o' operator or punctuation.
type tmplToken struct {
	kind byte
	text string
	num  float64
}

func tmplTokens(s string) ([]tmplToken, error) {
	var out []tmplToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unclosed string in %q", s)
			}
			if strings.Contains(s[i+1:i+1+j], `\`) {
				return nil, fmt.Errorf("escapes in strings are not evaluated: %q", s)
			}
			out = append(out, tmplToken{kind: 's', text: s[i+1 : i+1+j]})
			i += j + 2
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			n, err := strconv.ParseFloat(s[i:j], 64)
			if err != nil {
				return nil, fmt.Errorf("bad number %q", s[i:j])
			}
			out = append(out, tmplToken{kind: 'n', text: s[i:j], num: n})
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, tmplToken{kind: 'i', text: s[i:j]})
			i = j
		default:
			op := string(c)
			if i+1 < len(s) && strings.Contains("=!<>", op) && s[i+1] == '=' {
				op += "="
			}
			switch op {
			case "==", "!=", "<=", ">=", "<", ">", "|", "(", ")", "[", "]", ".", ",", "{", "}", ":":
			default:
				return nil, fmt.Errorf("unsupported operator %q in %q", op, s)
			}
			out = append(out, tmplToken{kind: 'o', text: op})
			i += len(op)
		}
	}
	return out, nil
}

// condParser is a recursive-descent parser over tokens.
type condParser struct {
	toks []tmplToken
	i    int
	vars map[string]bool // names bound by {% set %}
}

func (p *condParser) done() bool { return p.i >= len(p.toks) }

func (p *condParser) peek() tmplToken {
	if p.done() {
		return tmplToken{}
	}
	return p.toks[p.i]
}

// is reports whether the next token is text (an operator or a keyword).
func (p *condParser) is(text string) bool {
	t := p.peek()
	return (t.kind == 'o' || t.kind == 'i') && t.text == text
}

func (p *condParser) or() (*tmplCond, error) {
	return p.chain("or", p.and)
}

func (p *condParser) and() (*tmplCond, error) {
	return p.chain("and", p.not)
}

func (p *condParser) chain(op string, next func() (*tmplCond, error)) (*tmplCond, error) {
	c, err := next()
	if err != nil {
		return nil, err
	}
	for p.is(op) {
		p.i++
		d, err := next()
		if err != nil {
			return nil, err
		}
		c = &tmplCond{op: op, args: []*tmplCond{c, d}}
	}
	return c, nil
}

func (p *condParser) not() (*tmplCond, error) {
	if p.is("not") {
		p.i++
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return &tmplCond{op: "not", args: []*tmplCond{c}}, nil
	}
	return p.cmp()
}

func (p *condParser) cmp() (*tmplCond, error) {
	var left *tmplCond
	if p.is("(") {
		p.i++
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.is(")") {
			return nil, fmt.Errorf("unclosed (")
		}
		p.i++
		left = c
	} else {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		left = &tmplCond{x: x}
	}
	t := p.peek()
	switch {
	case t.kind == 'o' && (t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" || t.text == ">" || t.text == ">="),
		t.kind == 'i' && t.text == "in":
		p.i++
		return p.operand(t.text, left)
	case t.kind == 'i' && t.text == "not" && p.i+1 < len(p.toks) && p.toks[p.i+1].text == "in":
		p.i += 2
		return p.operand("not in", left)
	case t.kind == 'i' && t.text == "is":
		p.i++
		not := p.is("not")
		if not {
			p.i++
		}
		var op string
		switch {
		case p.is("defined"):
			op = "defined"
		case p.is("none") || p.is("None"):
			op = "none"
		default:
			return nil, fmt.Errorf("only the tests 'is defined' and 'is none' are evaluated")
		}
		if not {
			op = "not " + op
		}
		p.i++
		return &tmplCond{op: op, args: []*tmplCond{left}}, nil
	}
	return left, nil
}

func (p *condParser) operand(op string, left *tmplCond) (*tmplCond, error) {
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	return &tmplCond{op: op, args: []*tmplCond{left, {x: x}}}, nil
}

// expr reads a literal or a variable with its lookups and filters.
func (p *condParser) expr() (*tmplExpr, error) {
	t := p.peek()
	e := &tmplExpr{}
	switch t.kind {
	case 's':
		e.lit = t.text
	case 'n':
		e.lit = t.num
	case 'i':
		switch t.text {
		case "true", "True":
			e.lit = true
		case "false", "False":
			e.lit = false
		case "none", "None":
			e.lit = nil
		case "value", "position", "tilt_position":
			// A cover's set_position_template has the position as position
			// (and value), its tilt_command_template the tilt as
			// tilt_position (and value): the command's value.
			e.root = "value"
		case "value_json":
			e.root = "value_json"
		default:
			if !commandVariables[t.text] && !p.vars[t.text] {
				return nil, fmt.Errorf("unsupported expression %q (only value, value_json, command variables and names set before are evaluated)", t.text)
			}
			e.root = t.text
		}
	case 'o':
		switch t.text {
		case "{", "[":
			lit, err := p.literal()
			if err != nil {
				return nil, err
			}
			e.lit = lit
			return e, nil
		}
		return nil, fmt.Errorf("unsupported expression at %q", t.text)
	default:
		return nil, fmt.Errorf("unsupported expression at %q", t.text)
	}
	p.i++
	for e.root != "" && !p.done() {
		switch {
		case p.is("."):
			p.i++
			k := p.peek()
			if k.kind != 'i' {
				return nil, fmt.Errorf("unsupported lookup .%s", k.text)
			}
			p.i++
			if p.is("(") {
				if k.text != "keys" || p.i+1 >= len(p.toks) || p.toks[p.i+1].text != ")" {
					return nil, fmt.Errorf("method calls (.%s()) are not evaluated (but .keys())", k.text)
				}
				p.i += 2
				e.path = append(e.path, tmplKeys{})
				continue
			}
			e.path = append(e.path, k.text)
		case p.is("["):
			p.i++
			k := p.peek()
			switch {
			case k.kind == 's':
				e.path = append(e.path, k.text)
			case k.kind == 'n' && k.num == math.Trunc(k.num) && k.num >= 0:
				e.path = append(e.path, int(k.num))
			case k.kind == 'i':
				// a key that is an expression (values[value])
				x, err := p.expr()
				if err != nil {
					return nil, err
				}
				e.path = append(e.path, x)
				p.i-- // the common p.i++ below steps over the key
			default:
				return nil, fmt.Errorf("unsupported index %q", k.text)
			}
			p.i++
			if !p.is("]") {
				return nil, fmt.Errorf("unclosed [")
			}
			p.i++
		default:
			goto filters
		}
	}
filters:
	for p.is("|") {
		p.i++
		n := p.peek()
		if n.kind != 'i' {
			return nil, fmt.Errorf("unsupported filter %q", n.text)
		}
		p.i++
		tf := tmplFilter{name: n.text}
		hasArg := false
		if p.is("(") {
			p.i++
			if !p.is(")") {
				a := p.peek()
				switch a.kind {
				case 's':
					tf.arg = a.text
				case 'n':
					tf.arg = a.num
				default:
					return nil, fmt.Errorf("unsupported filter argument %q", a.text)
				}
				p.i++
				hasArg = true
			}
			if !p.is(")") {
				return nil, fmt.Errorf("unsupported filter %q", n.text)
			}
			p.i++
		}
		switch tf.name {
		case "float", "int", "round", "default":
		case "lower", "upper", "trim", "string":
			if hasArg {
				return nil, fmt.Errorf("unsupported filter %q", tf.name)
			}
		default:
			return nil, fmt.Errorf("unsupported filter %q", tf.name)
		}
		e.filters = append(e.filters, tf)
	}
	return e, nil
}

// literal reads a dict literal of string keys and literal values ({'auto':
// 'schedule', …}) or a list literal of literals (['off', 'heat']), from its
// opening { or [ to its closing one.
func (p *condParser) literal() (any, error) {
	open := p.peek().text
	p.i++
	closing := "}"
	if open == "[" {
		closing = "]"
	}
	dict, list := map[string]any{}, []any{}
	scalar := func() (any, error) {
		t := p.peek()
		p.i++
		switch {
		case t.kind == 's':
			return t.text, nil
		case t.kind == 'n':
			return t.num, nil
		case t.kind == 'i' && (t.text == "true" || t.text == "True"):
			return true, nil
		case t.kind == 'i' && (t.text == "false" || t.text == "False"):
			return false, nil
		case t.kind == 'i' && (t.text == "none" || t.text == "None"):
			return nil, nil
		}
		return nil, fmt.Errorf("unsupported literal %q in a %s…%s literal (only strings, numbers, booleans and none)", t.text, open, closing)
	}
	for !p.is(closing) {
		if p.done() {
			return nil, fmt.Errorf("unclosed %s", open)
		}
		if open == "{" {
			k := p.peek()
			if k.kind != 's' {
				return nil, fmt.Errorf("unsupported dict key %q (only strings)", k.text)
			}
			p.i++
			if !p.is(":") {
				return nil, fmt.Errorf("dict key %q without a colon", k.text)
			}
			p.i++
			v, err := scalar()
			if err != nil {
				return nil, err
			}
			dict[k.text] = v
		} else {
			v, err := scalar()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		if p.is(",") {
			p.i++
		} else if !p.is(closing) {
			return nil, fmt.Errorf("unclosed %s", open)
		}
	}
	p.i++
	if open == "{" {
		return dict, nil
	}
	return list, nil
}

// property is the top-level key of value_json the template reads when it
// reads exactly one, plainly ({{ value_json.key }}, {{ value_json["key"] }}
// with filters, or zigbee2mqtt's {% if value_json["key"] %}true{% else
// %}false{% endif %}), "" for any other template.
func (t *template) property() string {
	if t == nil {
		return ""
	}
	key, ok := "", true
	var visit func(ps []tmplPart)
	expr := func(x *tmplExpr) {
		if x == nil || x.root != "value_json" {
			return
		}
		k, isKey := "", len(x.path) == 1
		if isKey {
			k, isKey = x.path[0].(string)
		}
		if !isKey || (key != "" && key != k) {
			ok = false
			return
		}
		key = k
	}
	var cond func(c *tmplCond)
	cond = func(c *tmplCond) {
		expr(c.x)
		for _, a := range c.args {
			cond(a)
		}
	}
	visit = func(ps []tmplPart) {
		for _, p := range ps {
			expr(p.expr)
			if p.cond != nil {
				for _, b := range p.cond.branches {
					cond(b.cond)
					visit(b.body)
				}
				visit(p.cond.els)
			}
		}
	}
	visit(t.parts)
	if !ok {
		return ""
	}
	return key
}

// tmplEnv resolves a template variable: its value, or false when it is
// undefined.
type tmplEnv func(root string) (any, bool, error)

// render evaluates the template for one payload. A nil template renders the
// payload itself.
func (t *template) render(payload []byte) (string, error) {
	if t == nil || len(t.parts) == 0 {
		return string(payload), nil
	}
	var doc any
	parsed := false
	env := func(root string) (any, bool, error) {
		switch root {
		case "value":
			return string(payload), true, nil
		case "value_json":
			if !parsed {
				if err := json.Unmarshal(payload, &doc); err != nil {
					return nil, false, fmt.Errorf("value_json: payload is not JSON: %w", err)
				}
				parsed = true
			}
			return doc, true, nil
		}
		return nil, false, nil
	}
	var b strings.Builder
	if err := renderParts(&b, t.parts, env); err != nil {
		return "", err
	}
	return b.String(), nil
}

// renderValue evaluates a command template with value bound to v (the
// command variables undefined).
func (t *template) renderValue(v string) (string, error) {
	if t == nil || len(t.parts) == 0 {
		return v, nil
	}
	env := func(root string) (any, bool, error) {
		switch root {
		case "value":
			return v, true, nil
		case "value_json":
			return nil, false, fmt.Errorf("command template %q uses %s", t.src, root)
		}
		return nil, false, nil
	}
	var b strings.Builder
	if err := renderParts(&b, t.parts, env); err != nil {
		return "", err
	}
	return b.String(), nil
}

func renderParts(b *strings.Builder, parts []tmplPart, env tmplEnv) error {
	for _, p := range parts {
		switch {
		case p.set != "":
			v, undefined, err := p.expr.value(env)
			if err != nil {
				return err
			}
			outer, name := env, p.set
			env = func(root string) (any, bool, error) {
				if root == name {
					return v, !undefined, nil
				}
				return outer(root)
			}
		case p.expr != nil:
			v, undefined, err := p.expr.value(env)
			if err != nil {
				return err
			}
			if undefined {
				return errUndefined
			}
			b.WriteString(stringify(v))
		case p.cond != nil:
			body := p.cond.els
			for _, br := range p.cond.branches {
				v, undefined, err := br.cond.eval(env)
				if err != nil {
					return err
				}
				if !undefined && truthy(v) {
					body = br.body
					break
				}
			}
			if err := renderParts(b, body, env); err != nil {
				return err
			}
		default:
			b.WriteString(p.lit)
		}
	}
	return nil
}

// eval evaluates a condition node: its value, or undefined.
func (c *tmplCond) eval(env tmplEnv) (any, bool, error) {
	switch c.op {
	case "":
		return c.x.value(env)
	case "not":
		v, u, err := c.args[0].eval(env)
		return !(!u && truthy(v)), false, err
	case "and", "or":
		v, u, err := c.args[0].eval(env)
		if err != nil {
			return nil, false, err
		}
		first := !u && truthy(v)
		if (c.op == "and" && !first) || (c.op == "or" && first) {
			return v, u, nil // Jinja's and/or return the deciding operand
		}
		return c.args[1].eval(env)
	case "defined", "not defined":
		_, u, err := c.args[0].eval(env)
		return u == (c.op == "not defined"), false, err
	case "none", "not none":
		// Jinja's undefined is not none
		v, u, err := c.args[0].eval(env)
		return (!u && v == nil) == (c.op == "none"), false, err
	}
	a, ua, err := c.args[0].eval(env)
	if err != nil {
		return nil, false, err
	}
	b, ub, err := c.args[1].eval(env)
	if err != nil {
		return nil, false, err
	}
	if ua || ub {
		return nil, false, errUndefined
	}
	switch c.op {
	case "==":
		return tmplEqual(a, b), false, nil
	case "!=":
		return !tmplEqual(a, b), false, nil
	case "in", "not in":
		in := false
		switch y := b.(type) {
		case map[string]any:
			if k, ok := a.(string); ok {
				_, in = y[k]
			}
		case []any:
			for _, e := range y {
				in = in || tmplEqual(a, e)
			}
		case string:
			k, ok := a.(string)
			if !ok {
				return nil, false, fmt.Errorf("'in <string>' requires a string, not %v", a)
			}
			in = strings.Contains(y, k)
		default:
			return nil, false, fmt.Errorf("%v is not a container", b)
		}
		return in == (c.op == "in"), false, nil
	}
	// <, <=, >, >=: numbers with numbers, strings with strings.
	cmp := 0
	if x, ok := tmplNumber(a); ok {
		y, ok := tmplNumber(b)
		if !ok {
			return nil, false, fmt.Errorf("cannot compare %v with %v", a, b)
		}
		cmp = compare(x, y)
	} else if x, ok := a.(string); ok {
		y, ok := b.(string)
		if !ok {
			return nil, false, fmt.Errorf("cannot compare %v with %v", a, b)
		}
		cmp = strings.Compare(x, y)
	} else {
		return nil, false, fmt.Errorf("cannot compare %v with %v", a, b)
	}
	switch c.op {
	case "<":
		return cmp < 0, false, nil
	case "<=":
		return cmp <= 0, false, nil
	case ">":
		return cmp > 0, false, nil
	}
	return cmp >= 0, false, nil
}

func compare(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// tmplNumber is a JSON number or a boolean (Python's bool is an int).
func tmplNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case bool:
		if n {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// tmplEqual is Python's ==: numbers (and booleans) by value, strings by
// text, none with none; lists and mappings by their JSON.
func tmplEqual(a, b any) bool {
	if x, ok := tmplNumber(a); ok {
		y, ok := tmplNumber(b)
		return ok && x == y
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// truthy is Python's truth value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// value evaluates an expression: its value, or undefined.
func (e *tmplExpr) value(env tmplEnv) (any, bool, error) {
	if e.ifc != nil {
		c, undefined, err := e.ifc.eval(env)
		if err != nil {
			return nil, false, err
		}
		if !undefined && truthy(c) {
			return e.then.value(env)
		}
		return e.els.value(env)
	}
	v := e.lit
	undefined := false
	if e.root != "" {
		var ok bool
		var err error
		v, ok, err = env(e.root)
		if err != nil {
			return nil, false, err
		}
		undefined = !ok
	}
lookup:
	for _, k := range e.path {
		if undefined {
			break
		}
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
		case *tmplExpr:
			key, u, err := k.value(env)
			if err != nil {
				return nil, false, err
			}
			m, ok := v.(map[string]any)
			s, isStr := key.(string)
			if ok && isStr && !u {
				v, ok = m[s]
			}
			if !ok || !isStr || u {
				undefined = true
				break lookup
			}
		case tmplKeys:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false, fmt.Errorf("%v has no .keys()", v)
			}
			keys := make([]any, 0, len(m))
			for key := range m {
				keys = append(keys, key)
			}
			v = keys
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
					return nil, false, fmt.Errorf("%v is not a number", v)
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
	return v, undefined, nil
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
