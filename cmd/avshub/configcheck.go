package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
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
		if err := validateSection(schema, raw, key+".config"); err != nil {
			return fmt.Errorf("%s: %w", cfg.Path, err)
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

// validateSection validates raw against schema; errors name the key under
// prefix ("bridges[1].config.port") and say what was expected.
func validateSection(schema, raw []byte, prefix string) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return fmt.Errorf("%s: the bridge's schema is not JSON: %w", prefix, err)
	}
	c := jsonschema.NewCompiler()
	const url = "urn:avshub:bridge-config"
	if err := c.AddResource(url, doc); err != nil {
		return fmt.Errorf("%s: the bridge's schema: %w", prefix, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return fmt.Errorf("%s: the bridge's schema does not compile: %w", prefix, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	err = sch.Validate(inst)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	p := message.NewPrinter(language.English)
	var msgs []string
	var leaves func(e *jsonschema.ValidationError)
	leaves = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			key := prefix
			if len(e.InstanceLocation) > 0 {
				key += "." + strings.Join(e.InstanceLocation, ".")
			}
			msgs = append(msgs, key+": "+e.ErrorKind.LocalizedString(p))
			return
		}
		for _, c := range e.Causes {
			leaves(c)
		}
	}
	leaves(ve)
	return errors.New(strings.Join(msgs, "; "))
}
