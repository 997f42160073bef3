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

	"github.com/avshub/avshub/bridges/bundled"
	"github.com/avshub/avshub/gateway/config"
	"github.com/avshub/avshub/gateway/hub"
	"github.com/avshub/avshub/plugins/host"
	"github.com/avshub/avshub/plugins/plugintest"
	"github.com/avshub/avshub/plugins/scaffold"
)

func cmdPlugin(ctx context.Context, args []string, out, errw io.Writer) error {
	if len(args) == 0 {
		return usageError("say what to do: check, trust or new")
	}
	switch args[0] {
	case "check":
		return cmdPluginCheck(ctx, args[1:], out, errw)
	case "trust":
		return cmdPluginTrust(args[1:], out, errw)
	case "new":
		return cmdPluginNew(args[1:], out, errw)
	}
	return usageError("unknown sub-command %q: use check, trust or new", args[0])
}

func cmdPluginCheck(ctx context.Context, args []string, out, errw io.Writer) error {
	fs := flags("plugin check", errw)
	cfgPath := fs.String("config", "", "an avshub configuration naming this bridge, or the bridge's own configuration (YAML or JSON); default: the bridge's sample configuration")
	asJSON := fs.Bool("json", false, "print the report as one JSON document")
	noCommands := fs.Bool("no-commands", false, "read-only: send no commands (for a bridge connected to real devices)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("give the path of one bridge binary, or the name of a bundled bridge (%s)", strings.Join(bundled.Names(), ", "))
	}
	path, bundledName, err := pluginToCheck(pos[0])
	if err != nil {
		return err
	}
	var cfgJSON []byte
	if *cfgPath != "" {
		if cfgJSON, err = bridgeConfig(*cfgPath, path, bundledName); err != nil {
			return err
		}
	}
	var pluginArgs []string
	if bundledName != "" {
		pluginArgs = []string{"bridge", bundledName}
	}
	rep, err := plugintest.CheckWith(ctx, path, plugintest.CheckOptions{Config: cfgJSON, NoCommands: *noCommands, Args: pluginArgs,
		BeforeCommands: func(n int) {
			fmt.Fprintf(errw, "sending test commands to %d devices: real devices will switch, lock and unlock (--no-commands for a read-only check)\n", n)
		}})
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

// pluginToCheck resolves plugin check's argument: a path (it names a file or
// holds a path separator) is a bridge binary; otherwise it names a bridge
// bundled in avshub, which runs as this executable with "bridge NAME".
func pluginToCheck(arg string) (path, bundledName string, err error) {
	if _, statErr := os.Stat(arg); statErr == nil || strings.ContainsRune(arg, filepath.Separator) {
		return arg, "", nil
	}
	if _, err := bundled.Describe(arg); err != nil {
		return "", "", fmt.Errorf("%s is neither a bridge binary nor a bundled bridge (%s)", arg, strings.Join(bundled.Names(), ", "))
	}
	self, err := os.Executable()
	if err != nil {
		return "", "", fmt.Errorf("the bundled bridge %s runs in this executable, which cannot be found: %w", arg, err)
	}
	return self, arg, nil
}

// bridgeConfig finds the configuration for the plugin to check in file: the
// config section of the bridge with that binary (or, for a bundled bridge,
// that bundled name) in an avshub configuration, or the whole file as the
// bridge's own configuration.
func bridgeConfig(file, path, bundledName string) ([]byte, error) {
	if cfg, err := config.Load(file); err == nil {
		abs, _ := filepath.Abs(path)
		for i, b := range cfg.Bridges {
			if bundledName != "" {
				if b.BundledName() == bundledName {
					return cfg.Bridges[i].ConfigJSON()
				}
				continue
			}
			if babs, _ := filepath.Abs(b.Path); babs == abs || "bridge-"+b.Name == strings.TrimSuffix(filepath.Base(path), ".exe") {
				return cfg.Bridges[i].ConfigJSON()
			}
		}
		if bundledName != "" {
			return nil, fmt.Errorf("%s configures no bridge running the bundled %s", file, bundledName)
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

// cmdPluginTrust trusts the current binary of a configured bridge: it records
// the binary's sha256 where the hub takes the bridge's checksum from (the
// configuration's sha256, the manifest beside the binary, or the pin the hub
// made at the bridge's first start). A reload (SIGHUP) then starts the bridge.
func cmdPluginTrust(args []string, out, errw io.Writer) error {
	fs := flags("plugin trust", errw)
	cfgPath := fs.String("config", defaultConfig, "configuration file")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("name one configured bridge, for example: avshub plugin trust zigbee")
	}
	name := pos[0]
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	var b *config.Bridge
	for i := range cfg.Bridges {
		if cfg.Bridges[i].Name == name {
			b = &cfg.Bridges[i]
		}
	}
	if b == nil {
		return fmt.Errorf("%s configures no bridge %q", *cfgPath, name)
	}
	if bn := b.BundledName(); bn != "" {
		fmt.Fprintf(out, "bridge %s is the bridge %s bundled in avshub: the hub runs its own executable for it and checks it against itself, so there is nothing to trust\n", name, bn)
		return nil
	}
	sum, err := host.FileSHA256(b.Path)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", name, err)
	}
	var where string
	switch {
	case b.SHA256 != "":
		// Replace the old checksum in the file's text: comments and layout stay.
		data, err := os.ReadFile(*cfgPath)
		if err != nil {
			return err
		}
		if n := strings.Count(string(data), b.SHA256); n != 1 {
			return fmt.Errorf("bridges[%s].sha256 %s appears %d times in %s: replace it with %s by hand", name, b.SHA256, n, *cfgPath, sum)
		}
		data = []byte(strings.Replace(string(data), b.SHA256, sum, 1))
		if err := writeFileKeepMode(*cfgPath, data); err != nil {
			return err
		}
		where = "its sha256 in " + *cfgPath
	default:
		manifest := b.Path + ".sha256"
		target := hub.PinFile(cfg.Hub.DataDir, name)
		where = "the hub's pin " + target
		if _, err := os.Stat(manifest); err == nil {
			target, where = manifest, "the manifest "+manifest
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return err
		}
		if err := writeFileKeepMode(target, []byte(sum+"  "+b.Path+"\n")); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "trusted bridge %s: sha256 %s of %s, recorded in %s\n"+
		"reload the running hub to start it: systemctl reload avshub, or kill -HUP the hub's process\n", name, sum, b.Path, where)
	return nil
}

// writeFileKeepMode replaces a file atomically, keeping its mode (0600 if new).
func writeFileKeepMode(path string, data []byte) error {
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// cmdPluginNew scaffolds a bridge project.
func cmdPluginNew(args []string, out, errw io.Writer) error {
	fs := flags("plugin new", errw)
	lang := fs.String("lang", "go", "the bridge's language: go or js")
	dir := fs.String("dir", "", "the project's directory (default ./bridge-NAME)")
	module := fs.String("module", "", "the Go module path (default example.com/bridge-NAME)")
	replace := fs.String("avshub", "", "a local avshub checkout to build against (Go: a replace directive; JavaScript: the SDK's path)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("name the new bridge, for example: avshub plugin new acme")
	}
	o := scaffold.Options{Name: pos[0], Lang: *lang, Dir: *dir, Module: *module, Replace: *replace}
	if o.Replace != "" {
		if o.Replace, err = filepath.Abs(o.Replace); err != nil {
			return err
		}
	}
	files, err := scaffold.Generate(o)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(out, "wrote", f)
	}
	d := filepath.Dir(files[0])
	if *lang == "js" {
		fmt.Fprintf(out, "\nnext: cd %s && npm install && avshub plugin check ./bridge-%s\n", d, pos[0])
	} else {
		fmt.Fprintf(out, "\nnext: cd %s && go mod tidy && go test ./... && go build -o bridge-%s . && avshub plugin check ./bridge-%s\n", d, pos[0], pos[0])
	}
	return nil
}
