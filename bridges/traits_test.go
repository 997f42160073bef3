package bridges_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/avshub/avshub/discovery/model"
)

// notMapped lists, per bridge, traits it deliberately does not map, with the
// reason. Everything else must be handled.
var notMapped = map[string]map[model.TraitKind]string{
	"zigbee":  generic,
	"mqtt":    generic,
	"virtual": generic,
}

// generic: the generic traits are for devices whose function has no trait of
// its own; no bridge maps a device to them yet.
var generic = map[model.TraitKind]string{
	model.TraitToggle: "generic trait: no device is mapped to it yet",
	model.TraitRange:  "generic trait: no device is mapped to it yet",
	model.TraitMode:   "generic trait: no device is mapped to it yet",
}

// TestEveryBridgeMapsEveryTrait lists every trait of the model
// (model.AllTraitKinds, generated from the trait definitions) and requires the
// source of each bridge (the Zigbee ZCL mapping, the zigbee2mqtt and Home
// Assistant mapping, the virtual bridge's simulator) to build that trait's
// configuration (its Traits field, its type, an SDK helper named after it) or
// take its commands (its TraitKind), unless
// notMapped says why not. A new trait fails here until every bridge maps it.
func TestEveryBridgeMapsEveryTrait(t *testing.T) {
	for _, bridge := range []string{"zigbee", "mqtt", "virtual"} {
		src := readSources(t, bridge)
		for _, k := range model.AllTraitKinds() {
			if why, ok := notMapped[bridge][k]; ok {
				t.Logf("%s does not map %s: %s", bridge, k, why)
				continue
			}
			name := kindConst(k)
			f := regexp.QuoteMeta(k.Field())
			typ := regexp.QuoteMeta(name[len("Trait"):])
			re := regexp.MustCompile(`\.` + f + ` = |\b` + f + `: +(&|\[\])?model\.|model\.` + name + `\b|model\.` + typ + `\{|sdk\.\w*` + typ + `\(`)
			if !re.MatchString(src) {
				t.Errorf("bridges/%s never builds or handles trait %s (Traits.%s, model.%s)", bridge, k, k.Field(), name)
			}
		}
	}
}

// kindConst is the TraitKind constant's name ("on_off" → "TraitOnOff").
func kindConst(k model.TraitKind) string {
	var b strings.Builder
	b.WriteString("Trait")
	for _, p := range strings.Split(string(k), "_") {
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

func readSources(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
