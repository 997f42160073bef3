// Package scaffold writes a new bridge project (`avshub plugin new`): in Go,
// a module with main, the bridge built from the SDK's blocks, a configuration
// struct with a sample, a test that runs the conformance kit on that bridge,
// and a README; in JavaScript, an npm package on plugins/sdk-js with the same
// parts. Either builds and passes `avshub plugin check` as generated.
package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"text/template"
)

//go:embed templates
var templates embed.FS

// Options says what to generate.
type Options struct {
	// Name is the bridge's name: lower-case letters, digits and dashes.
	Name string
	// Lang is "go" (default) or "js".
	Lang string
	// Dir is the new project's directory; it must not exist or be empty.
	Dir string
	// Module is the Go module path (default example.com/bridge-NAME).
	Module string
	// AvshubVersion is the avshub module version to require (Go); empty: this
	// avshub's own release version, or, for a development build, none (go mod
	// tidy then requires the latest release).
	AvshubVersion string
	// Replace, if set, points the avshub module (Go) or the SDK package (JS)
	// at a local checkout of the avshub repository.
	Replace string
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,40}$`)

// sampleYAML is the templates' sample configuration, as avshub.yaml lines.
const sampleYAML = `      pollEvery: 5s
      switches:
        - {id: porch, name: Porch Light}
        - {id: fan, name: Desk Fan}`

// Generate writes the project and returns the files it wrote.
func Generate(o Options) ([]string, error) {
	if !nameRE.MatchString(o.Name) {
		return nil, fmt.Errorf("bridge name %q: use lower-case letters, digits and dashes, starting with a letter", o.Name)
	}
	if o.Lang == "" {
		o.Lang = "go"
	}
	if o.Lang != "go" && o.Lang != "js" {
		return nil, fmt.Errorf("language %q: choose go or js", o.Lang)
	}
	if o.Dir == "" {
		o.Dir = "bridge-" + o.Name
	}
	if o.Module == "" {
		o.Module = "example.com/bridge-" + o.Name
	}
	if o.AvshubVersion == "" {
		o.AvshubVersion = releaseVersion()
	}
	if entries, err := os.ReadDir(o.Dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s exists and is not empty", o.Dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	data := struct {
		Options
		SampleYAML string
	}{o, sampleYAML}
	root := "templates/" + o.Lang
	var wrote []string
	err := fs.WalkDir(templates, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := templates.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, root+"/"), ".tmpl")
		name = strings.ReplaceAll(name, "NAME", o.Name)
		tmpl := raw
		if strings.HasSuffix(p, ".tmpl") {
			t, err := template.New(name).Delims("[[", "]]").Parse(string(raw))
			if err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			var buf bytes.Buffer
			if err := t.Execute(&buf, data); err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			tmpl = buf.Bytes()
		}
		mode := os.FileMode(0o644)
		if strings.HasPrefix(path.Base(name), "bridge-") {
			mode = 0o755 // the JavaScript bridge's executable
		}
		out := filepath.Join(o.Dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(out, tmpl, mode); err != nil {
			return err
		}
		wrote = append(wrote, out)
		return nil
	})
	return wrote, err
}

// releaseVersion is the avshub module version this binary was built from
// ("v0.2.0" when installed with go install …@v0.2.0), or "" for a build from a
// checkout ("(devel)"), whose commit no proxy may know.
func releaseVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || !strings.HasPrefix(bi.Main.Version, "v") {
		return ""
	}
	return bi.Main.Version
}
