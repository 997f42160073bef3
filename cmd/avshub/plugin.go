package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/plugins/plugintest"
)

func cmdPlugin(ctx context.Context, args []string, out, errw io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return errUsage
	}
	fs := flags("plugin check", errw)
	cfgPath := fs.String("config", "", "an avshub configuration naming this bridge, or the bridge's own configuration (YAML or JSON)")
	asJSON := fs.Bool("json", false, "print the report as one JSON document")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errUsage
	}
	path := pos[0]
	var cfgJSON []byte
	if *cfgPath != "" {
		if cfgJSON, err = bridgeConfig(*cfgPath, path); err != nil {
			return err
		}
	}
	rep, err := plugintest.Check(ctx, path, cfgJSON)
	if err != nil {
		return err
	}
	if *asJSON {
		err = rep.WriteJSON(out)
	} else {
		err = rep.WriteText(out)
	}
	if err != nil {
		return err
	}
	if !rep.Passed {
		return errors.New("the bridge failed conformance checks")
	}
	return nil
}

// bridgeConfig finds the configuration for the plugin at path in file: the
// config section of the bridge with that binary in an avshub configuration, or
// the whole file as the bridge's own configuration.
func bridgeConfig(file, path string) ([]byte, error) {
	if cfg, err := config.Load(file); err == nil {
		abs, _ := filepath.Abs(path)
		for i, b := range cfg.Bridges {
			if babs, _ := filepath.Abs(b.Path); babs == abs || "bridge-"+b.Name == strings.TrimSuffix(filepath.Base(path), ".exe") {
				return cfg.Bridges[i].ConfigJSON()
			}
		}
		return nil, fmt.Errorf("%s configures no bridge with the binary %s", file, path)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if v == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(v)
}
