package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
	sjson "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Duration is a time.Duration that a configuration writes as "5s", "250ms" or
// "1h30m" (Go duration syntax); its JSON Schema says so.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration as "5s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string ("5s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string ("5s").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string like \"5s\" or \"250ms\", not %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"5s\" or \"250ms\"", s)
	}
	*d = Duration(v)
	return nil
}

// durationPattern matches Go duration strings.
const durationPattern = `^-?([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`

// JSONSchema describes Duration in a generated schema.
func (Duration) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Pattern: durationPattern,
		Description: `a duration like "5s", "250ms" or "1h30m"`}
}

// Schema returns the JSON Schema of the configuration type T, generated from
// its fields and their tags: `json` names the keys, `jsonschema` adds rules
// ("required", "minimum=1", "enum=a,enum=b", "description=…"); unknown keys are
// refused. Put it in Description.ConfigSchema: the struct is the one source of
// truth, and DecodeConfig checks against the same schema.
func Schema[T any]() json.RawMessage {
	r := &jsonschema.Reflector{ExpandedStruct: true, DoNotReference: true, Anonymous: true,
		RequiredFromJSONSchemaTags: true}
	var zero T
	s := r.Reflect(&zero)
	s.Version = "https://json-schema.org/draft/2020-12/schema"
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("sdk.Schema: %v", err)) // a Go type always has a schema
	}
	return b
}

// Sample returns v as JSON, for Description.SampleConfig.
func Sample(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sdk.Sample: %v", err))
	}
	return b
}

// DecodeConfig checks cfg against T's schema (Schema) and decodes it over
// defaults: keys the configuration leaves out keep their default values.
func DecodeConfig[T any](cfg Config, defaults T) (T, error) {
	js := cfg.JSON
	if len(bytes.TrimSpace(js)) == 0 {
		js = []byte("{}")
	}
	if err := ValidateConfig(Schema[T](), js); err != nil {
		return defaults, err
	}
	out := defaults
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return defaults, fmt.Errorf("configuration: %w", err)
	}
	return out, nil
}

// ValidateConfig checks a configuration (JSON) against a bridge's declared
// schema. The hub calls it before it configures a bridge, and `avshub config
// check` for every bridge section; the error names each offending key.
func ValidateConfig(schema, config []byte) error {
	doc, err := sjson.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return fmt.Errorf("the bridge's config schema is not JSON: %w", err)
	}
	const url = "urn:avshub:bridge-config"
	c := sjson.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		return fmt.Errorf("the bridge's config schema: %w", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return fmt.Errorf("the bridge's config schema does not compile: %w", err)
	}
	inst, err := sjson.UnmarshalJSON(bytes.NewReader(config))
	if err != nil {
		return fmt.Errorf("the configuration is not JSON: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *sjson.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("the configuration does not match the bridge's schema: %s", describeValidation(ve))
		}
		return fmt.Errorf("the configuration does not match the bridge's schema: %w", err)
	}
	return nil
}

var english = message.NewPrinter(language.English)

// describeValidation lists the leaf failures as "key: problem".
func describeValidation(ve *sjson.ValidationError) string {
	var out []string
	var walk func(e *sjson.ValidationError)
	walk = func(e *sjson.ValidationError) {
		if len(e.Causes) == 0 {
			at := "/" + strings.Join(e.InstanceLocation, "/")
			if at == "/" {
				at = "(top level)"
			}
			msg := e.ErrorKind.LocalizedString(english)
			if p, ok := e.ErrorKind.(*kind.Pattern); ok && p.Want == durationPattern {
				msg = fmt.Sprintf("%q is not a duration like \"5s\", \"250ms\" or \"1h30m\"", p.Got)
			}
			out = append(out, at+": "+msg)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(out, "; ")
}
