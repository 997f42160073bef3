package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/avshub/avshub/bridges/bundled"
	"github.com/avshub/avshub/gateway/config"
)

// describeTimeout bounds one bridge's "describe" run during config check.
const describeTimeout = 10 * time.Second

// checkBridges validates each enabled bridge's config section against the
// JSON Schema that bridge declares (`BRIDGE describe`), naming the key.
func checkBridges(ctx context.Context, cfg *config.Config) error {
	for i := range cfg.Bridges {
		b := &cfg.Bridges[i]
		if b.Disabled {
			continue
		}
		key := fmt.Sprintf("bridges[%d]", i)
		var schema json.RawMessage
		if bn := b.BundledName(); bn != "" {
			d, err := bundled.Describe(bn)
			if err != nil {
				return fmt.Errorf("%s: %s (%s): %w", cfg.Path, key, b.Name, err)
			}
			schema = d.ConfigSchema
		} else {
			if _, err := os.Stat(b.Path); err != nil {
				return fmt.Errorf("%s: %s.path: %s: no bridge binary there (install it, or set disabled: true)", cfg.Path, key, b.Path)
			}
			var err error
			if schema, err = describeSchema(ctx, b.Path); err != nil {
				return fmt.Errorf("%s: %s (%s): %w", cfg.Path, key, b.Name, err)
			}
		}
		if len(schema) == 0 {
			continue // the bridge declares no schema: nothing to check against
		}
		raw, err := b.ConfigJSON()
		if err != nil {
			return fmt.Errorf("%s: %s.config: %w", cfg.Path, key, err)
		}
		found, err := validateSection(schema, raw, key+".config")
		if err != nil {
			return fmt.Errorf("%s: %w", cfg.Path, err)
		}
		var errs []*config.Error
		for _, f := range found {
			errs = append(errs, cfg.KeyError(f.key, f.msg))
		}
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		var all []error
		for _, e := range errs {
			all = append(all, e)
		}
		if err := errors.Join(all...); err != nil {
			return err
		}
	}
	return nil
}

// describeSchema runs `path describe` (with an empty environment, as the hub
// runs bridges) and returns the configuration schema of its manifest.
func describeSchema(ctx context.Context, path string) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "describe")
	cmd.Env = []string{}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s describe failed (is it an avshub bridge?): %w %s", path, err, strings.TrimSpace(stderr.String()))
	}
	var d struct {
		ConfigSchema json.RawMessage `json:"configSchema"`
	}
	if err := json.Unmarshal(out, &d); err != nil {
		return nil, fmt.Errorf("%s describe printed no manifest: %w", path, err)
	}
	if string(d.ConfigSchema) == "null" {
		return nil, nil
	}
	return d.ConfigSchema, nil
}

// sectionError is one finding in a bridge's config section: the key (a
// dotted path under the section, "bridges[1].config.port") and what is wrong.
type sectionError struct{ key, msg string }

// validateSection validates raw against schema; each finding names the key
// under prefix ("bridges[1].config.port") and says what the key accepts: the
// keys of its object, the values of an enum, a duration's form.
func validateSection(schema, raw []byte, prefix string) ([]sectionError, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("%s: the bridge's schema is not JSON: %w", prefix, err)
	}
	c := jsonschema.NewCompiler()
	const url = "urn:avshub:bridge-config"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("%s: the bridge's schema: %w", prefix, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("%s: the bridge's schema does not compile: %w", prefix, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	err = sch.Validate(inst)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil, err
	}
	p := message.NewPrinter(language.English)
	var out []sectionError
	var leaves func(e *jsonschema.ValidationError)
	leaves = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				leaves(c)
			}
			return
		}
		key, sub, val := locate(prefix, doc, inst, e.InstanceLocation)
		switch k := e.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			accepted := "none"
			if names := propertyNames(sub); len(names) > 0 {
				accepted = strings.Join(names, ", ")
			}
			for _, name := range k.Properties {
				out = append(out, sectionError{key + "." + name, "not a setting of this bridge; its settings here: " + accepted})
			}
			return
		case *kind.Enum:
			out = append(out, sectionError{key, fmt.Sprintf("%s is not accepted: use one of %s", show(val), enumList(k.Want))})
			return
		case *kind.Type:
			if enum, ok := sub["enum"].([]any); ok {
				out = append(out, sectionError{key, fmt.Sprintf("%s is not accepted: use one of %s", show(val), enumList(enum))})
				return
			}
		case *kind.MinLength:
			if k.Want == 1 {
				out = append(out, sectionError{key, "must not be empty"})
				return
			}
		case *kind.Pattern:
			if strings.Contains(k.Want, "ms|s|m|h") {
				out = append(out, sectionError{key, fmt.Sprintf("%s is not valid here: expected a duration: a number with a unit, like 30s, 5m or 1h30m", show(val))})
				return
			}
		}
		out = append(out, sectionError{key, e.ErrorKind.LocalizedString(p)})
	}
	leaves(ve)
	return out, nil
}

// locate follows an instance location through the instance and the schema:
// the key as the configuration file spells it ("devices[2].name"), the
// schema of that value (nil where the schema does not say) and the value.
func locate(prefix string, schema, inst any, loc []string) (string, map[string]any, any) {
	key := prefix
	sub, _ := schema.(map[string]any)
	for _, part := range loc {
		switch v := inst.(type) {
		case []any:
			key += "[" + part + "]"
			i, _ := strconv.Atoi(part)
			inst = nil
			if i >= 0 && i < len(v) {
				inst = v[i]
			}
			sub, _ = sub["items"].(map[string]any)
		case map[string]any:
			key += "." + part
			inst = v[part]
			if props, ok := sub["properties"].(map[string]any); ok && props[part] != nil {
				sub, _ = props[part].(map[string]any)
			} else {
				sub, _ = sub["additionalProperties"].(map[string]any)
			}
		default:
			key += "." + part
			inst, sub = nil, nil
		}
	}
	return key, sub, inst
}

// propertyNames lists the keys an object schema names, sorted.
func propertyNames(schema map[string]any) []string {
	props, _ := schema["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// show prints a configuration value as YAML would show it ("fast", 40).
func show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// enumList prints an enum's values ("38400, 57600 or 115200").
func enumList(want []any) string {
	vals := make([]string, len(want))
	for i, w := range want {
		vals[i] = show(w)
	}
	if len(vals) < 2 {
		return strings.Join(vals, "")
	}
	return strings.Join(vals[:len(vals)-1], ", ") + " or " + vals[len(vals)-1]
}
