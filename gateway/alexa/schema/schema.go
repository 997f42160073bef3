// Package schema validates the Smart Home events avshub sends to Alexa against
// Amazon's official message schema (draft-04), embedded from
// alexa/alexa-smarthome@a75702aa (validation_schemas, strict copy with the one
// upstream trailing comma removed; Amazon Software License 1.0, see
// alexa-smarthome/LICENSE.txt and NOTICE.txt).
//
// The schema covers what a Smart Home skill sends: Alexa.Response, StateReport,
// ErrorResponse (Alexa and the interface namespaces), ChangeReport,
// DeferredResponse, a few proactive events, Discover.Response and
// AddOrUpdateReport. It does not cover AVS-only events (System.*,
// Alexa.ApiGateway.*), Alexa.Discovery.DeleteReport or any directive: Covered
// tells callers which events to skip.
//
// Validate picks the schema branch by header namespace and name, so an error
// names the failing JSON pointer inside that one message type instead of
// listing every branch of the schema's top-level oneOf.
package schema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed alexa-smarthome/alexa_smart_home_message_schema.strict.json
var schemaJSON []byte

const schemaURL = "https://avshub.invalid/alexa_smart_home_message_schema.json"

// ErrNotCovered is returned (wrapped) by Validate for an event whose namespace
// and name the official schema does not describe.
var ErrNotCovered = errors.New("schema: event not covered by the Alexa Smart Home schema")

// key is an event's header namespace and name.
type key struct{ namespace, name string }

type compiled struct {
	branches map[key][]*jsonschema.Schema
}

var load = sync.OnceValues(compile)

// compile compiles one schema per leaf branch of the top-level oneOf tree.
func compile() (*compiled, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, fmt.Errorf("schema: parse embedded schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("schema: add embedded schema: %w", err)
	}
	out := &compiled{branches: map[key][]*jsonschema.Schema{}}
	var walk func(node any, ptr string) error
	walk = func(node any, ptr string) error {
		obj, _ := node.(map[string]any)
		if obj == nil {
			return fmt.Errorf("schema: %s is not an object", ptr)
		}
		if _, hasProps := obj["properties"]; !hasProps {
			subs, _ := obj["oneOf"].([]any)
			for i, s := range subs {
				if err := walk(s, fmt.Sprintf("%s/oneOf/%d", ptr, i)); err != nil {
					return err
				}
			}
			return nil
		}
		nss, names := headerEnums(obj)
		if len(nss) == 0 || len(names) == 0 {
			return fmt.Errorf("schema: branch %s has no header namespace/name enum", ptr)
		}
		sch, err := c.Compile(schemaURL + "#" + ptr)
		if err != nil {
			return fmt.Errorf("schema: compile %s: %w", ptr, err)
		}
		for _, ns := range nss {
			for _, n := range names {
				k := key{ns, n}
				out.branches[k] = append(out.branches[k], sch)
			}
		}
		return nil
	}
	if err := walk(doc, ""); err != nil {
		return nil, err
	}
	return out, nil
}

// headerEnums returns the namespace and name enums of a branch's event header.
func headerEnums(branch map[string]any) (namespaces, names []string) {
	get := func(m any, k string) map[string]any {
		mm, _ := m.(map[string]any)
		r, _ := mm[k].(map[string]any)
		return r
	}
	h := get(get(get(get(branch, "properties"), "event"), "properties"), "header")
	hp := get(h, "properties")
	strs := func(m map[string]any) []string {
		var r []string
		e, _ := m["enum"].([]any)
		for _, v := range e {
			if s, ok := v.(string); ok {
				r = append(r, s)
			}
		}
		return r
	}
	return strs(get(hp, "namespace")), strs(get(hp, "name"))
}

// Covered reports whether the official schema describes events with this header
// namespace and name. Callers validating everything they send skip the others
// (System.*, Alexa.ApiGateway.*, Alexa.Discovery.DeleteReport, …).
func Covered(namespace, name string) bool {
	c, err := load()
	if err != nil {
		return false
	}
	return len(c.branches[key{namespace, name}]) > 0
}

// Events lists the "namespace.name" pairs the schema covers, sorted.
func Events() []string {
	c, err := load()
	if err != nil {
		return nil
	}
	var r []string
	for k := range c.branches {
		r = append(r, k.namespace+"."+k.name)
	}
	sort.Strings(r)
	return r
}

// AVSHeaderFields are the event header fields of the AVS envelope
// (v20160207) that the Smart Home skill schema does not know: Validate ignores
// them. eventCorrelationToken is how AVS acknowledges Alexa.Discovery reports
// (Alexa.EventProcessed); dialogRequestId ties an event to a voice request.
var AVSHeaderFields = []string{"eventCorrelationToken", "dialogRequestId"}

// AVSDeviceCategory is the display category of the AVS device's own endpoint
// (with its System, SpeechRecognizer… interfaces), which the skill schema
// cannot describe.
const AVSDeviceCategory = "ALEXA_VOICE_ENABLED"

// Validate checks one event ({"context":…,"event":…}) as avshub sends it over
// AVS against the official schema: like ValidateStrict, after removing the
// AVSHeaderFields from event.header and checking, of an Alexa.Discovery
// endpoint whose displayCategories contain AVSDeviceCategory (the device's own
// endpoint), only the endpointId; every other endpoint is validated fully.
func Validate(event []byte) error {
	return validate(event, true)
}

// ValidateStrict checks one event against the official schema exactly. It
// returns nil when the event is valid, an error wrapping ErrNotCovered when the
// schema does not describe the event's header namespace and name, and
// otherwise an *Error naming each failing JSON pointer.
func ValidateStrict(event []byte) error {
	return validate(event, false)
}

func validate(event []byte, avs bool) error {
	c, err := load()
	if err != nil {
		return err
	}
	var hdr struct {
		Event struct {
			Header struct {
				Namespace string `json:"namespace"`
				Name      string `json:"name"`
			} `json:"header"`
		} `json:"event"`
	}
	if err := json.Unmarshal(event, &hdr); err != nil {
		return fmt.Errorf("schema: event is not a JSON object with event.header: %w", err)
	}
	h := hdr.Event.Header
	branches := c.branches[key{h.Namespace, h.Name}]
	if len(branches) == 0 {
		return fmt.Errorf("%w: %q %q", ErrNotCovered, h.Namespace, h.Name)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(event))
	if err != nil {
		return fmt.Errorf("schema: parse event: %w", err)
	}
	if avs {
		stripAVS(inst)
	}
	var first *Error
	for _, sch := range branches {
		err := sch.Validate(inst)
		if err == nil {
			return nil
		}
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return fmt.Errorf("schema: validate %s.%s: %w", h.Namespace, h.Name, err)
		}
		if first == nil {
			first = &Error{Event: h.Namespace + "." + h.Name, Problems: problems(ve)}
		}
	}
	return first
}

// stripAVS removes what Validate ignores (see Validate) from a decoded event.
func stripAVS(inst any) {
	root, _ := inst.(map[string]any)
	ev, _ := root["event"].(map[string]any)
	h, _ := ev["header"].(map[string]any)
	for _, f := range AVSHeaderFields {
		delete(h, f)
	}
	if h["namespace"] != "Alexa.Discovery" {
		return
	}
	payload, _ := ev["payload"].(map[string]any)
	eps, ok := payload["endpoints"].([]any)
	if !ok {
		return
	}
	for i, e := range eps {
		em, _ := e.(map[string]any)
		cats, _ := em["displayCategories"].([]any)
		for _, c := range cats {
			if c == AVSDeviceCategory {
				// A stub that keeps the endpointId (still checked) and the
				// indexes of the other endpoints in error pointers.
				eps[i] = map[string]any{
					"endpointId": em["endpointId"], "manufacturerName": "AVS device", "friendlyName": "AVS device",
					"description": "AVS device", "displayCategories": []any{"OTHER"},
					"capabilities": []any{map[string]any{"type": "AlexaInterface", "interface": "Alexa", "version": "3"}},
				}
				break
			}
		}
	}
}

// Problem is one reason an event fails the schema.
type Problem struct {
	// Pointer is the JSON pointer of the failing value in the event ("" is the root).
	Pointer string
	// Message says what is wrong with it.
	Message string
}

// Error is a schema validation failure.
type Error struct {
	// Event is the event's "namespace.name".
	Event string
	// Problems lists the failures, most specific first.
	Problems []Problem
}

// Error lists every problem with its JSON pointer.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "schema: %s event is invalid:", e.Event)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString(";")
		}
		ptr := p.Pointer
		if ptr == "" {
			ptr = "/"
		}
		fmt.Fprintf(&b, " at %s: %s", ptr, p.Message)
	}
	return b.String()
}

var printer = message.NewPrinter(language.English)

// problems flattens a validation error tree into its leaf problems. For an
// anyOf/oneOf it keeps only the alternatives that match the value's
// "namespace"/"name" discriminators (the schema describes each state property
// by those), so a bad rangeValue does not list fifty unrelated property types.
func problems(ve *jsonschema.ValidationError) []Problem {
	var out []Problem
	seen := map[Problem]bool{}
	var rec func(e *jsonschema.ValidationError)
	rec = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			p := Problem{Pointer: pointer(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(printer)}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			return
		}
		causes := e.Causes
		switch e.ErrorKind.(type) {
		case *kind.AnyOf, *kind.OneOf:
			var kept []*jsonschema.ValidationError
			for _, c := range causes {
				if !discriminatorMismatch(c, len(e.InstanceLocation)) {
					kept = append(kept, c)
				}
			}
			if len(kept) == 0 {
				// No alternative describes this discriminator value at all.
				p := Problem{Pointer: pointer(e.InstanceLocation), Message: noAlternative(causes, len(e.InstanceLocation))}
				if !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
				return
			}
			causes = kept
		}
		for _, c := range causes {
			rec(c)
		}
	}
	rec(ve)
	return out
}

// discriminatorMismatch reports whether e (one alternative of an anyOf/oneOf
// at depth) fails on a "namespace" or "name" enum/const of the value itself.
func discriminatorMismatch(e *jsonschema.ValidationError, depth int) bool {
	if len(e.Causes) == 0 {
		loc := e.InstanceLocation
		if len(loc) != depth+1 || !discriminators[loc[depth]] {
			return false
		}
		switch e.ErrorKind.(type) {
		case *kind.Enum, *kind.Const:
			return true
		}
		return false
	}
	for _, c := range e.Causes {
		if discriminatorMismatch(c, depth) {
			return true
		}
	}
	return false
}

// discriminators are the properties the schema's alternatives are told apart by:
// a state property's namespace and name, an error payload's type.
var discriminators = map[string]bool{"namespace": true, "name": true, "type": true}

// noAlternative describes a value no alternative accepts: which discriminator
// values the schema allows.
func noAlternative(alts []*jsonschema.ValidationError, depth int) string {
	allowed := map[string]map[string]bool{}
	got := map[string]string{}
	var rec func(e *jsonschema.ValidationError)
	rec = func(e *jsonschema.ValidationError) {
		for _, c := range e.Causes {
			rec(c)
		}
		loc := e.InstanceLocation
		if len(e.Causes) > 0 || len(loc) != depth+1 || !discriminators[loc[depth]] {
			return
		}
		field := loc[depth]
		if allowed[field] == nil {
			allowed[field] = map[string]bool{}
		}
		switch k := e.ErrorKind.(type) {
		case *kind.Enum:
			got[field] = fmt.Sprint(k.Got)
			for _, w := range k.Want {
				allowed[field][fmt.Sprint(w)] = true
			}
		case *kind.Const:
			got[field] = fmt.Sprint(k.Got)
			allowed[field][fmt.Sprint(k.Want)] = true
		}
	}
	for _, a := range alts {
		rec(a)
	}
	var parts []string
	for _, f := range []string{"namespace", "name", "type"} {
		if v, ok := got[f]; ok {
			parts = append(parts, fmt.Sprintf("%s %q", f, v))
		}
	}
	if len(parts) == 0 {
		return "no alternative of the schema matches this value"
	}
	msg := "no alternative of the schema accepts " + strings.Join(parts, ", ")
	if len(got) == 1 {
		for f := range got {
			vals := make([]string, 0, len(allowed[f]))
			for v := range allowed[f] {
				vals = append(vals, v)
			}
			sort.Strings(vals)
			msg += " (allowed: " + strings.Join(vals, ", ") + ")"
		}
	}
	return msg
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		b.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return b.String()
}
