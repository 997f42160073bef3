package dashboard

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/avshub/avshub/bridges/virtual"
	"github.com/avshub/avshub/discovery/model"
)

var (
	mosquittoLine = regexp.MustCompile(`^\s*(?:#\s*)?(mosquitto_(?:sub|pub))\s`)
	quotedTopic   = regexp.MustCompile(`-t\s+'([^']+)'`)
	hostFlag      = regexp.MustCompile(`\s-h\s+\S+`)
	portFlag      = regexp.MustCompile(`\s-p\s+\d+`)
	demoSay       = regexp.MustCompile(`d\.say\("[^"]*mosquitto_(?:sub|pub)[^"]*"`)
)

// TestDocsCommandsCopyPasteSafe holds every mosquitto_sub and mosquitto_pub
// line of the repository's Markdown and of the demo's transcript to what a
// person can paste (issue 16 point 6): each names its broker (-h and -p; a
// bare line goes to whatever listens on 1883), and each example topic of a
// node is one the virtual bridge's default devices really publish (the
// README once used virtual_front-door with the demo's devices, which have
// none), or a placeholder (<node>) or wildcard.
func TestDocsCommandsCopyPasteSafe(t *testing.T) {
	nodes := map[string]bool{"<node>": true, "+": true, "#": true, "bridge": true}
	for _, d := range virtual.DefaultDevices() {
		nodes[NodeID(model.Endpoint{Bridge: "virtual", DeviceID: d.ID})] = true
	}
	root := filepath.Join("..", "..")
	var lines int
	err := filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() && (de.Name() == "node_modules" || de.Name() == ".git" || de.Name() == "testdata" || de.Name() == ".demo") {
			return filepath.SkipDir
		}
		if de.IsDir() || !strings.HasSuffix(path, ".md") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, l := range strings.Split(string(b), "\n") {
			m := mosquittoLine.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			lines++
			where := fmt.Sprintf("%s:%d", path, i+1)
			if !hostFlag.MatchString(l) || !portFlag.MatchString(l) {
				t.Errorf("%s: %s without -h HOST -p PORT: %s", where, m[1], strings.TrimSpace(l))
			}
			for _, tm := range quotedTopic.FindAllStringSubmatch(l, -1) {
				parts := strings.Split(tm[1], "/")
				var node string
				switch {
				case parts[0] == DefaultTopicPrefix && len(parts) > 1:
					node = parts[1]
				case parts[0] == DefaultDiscoveryPrefix && len(parts) > 2 && parts[1] == "device":
					node = strings.TrimPrefix(parts[2], "avshub_")
				}
				if node != "" && !nodes[node] {
					t.Errorf("%s: topic %s names node %q, which the virtual bridge's default devices do not publish", where, tm[1], node)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if lines < 10 {
		t.Fatalf("found %d mosquitto lines in the Markdown files; the dashboard README alone has more", lines)
	}

	// The demo prints such lines with the address of the broker it started.
	demo, err := filepath.Glob(filepath.Join(root, "cmd", "avshub-demo", "*.go"))
	if err != nil || len(demo) == 0 {
		t.Fatalf("the demo's sources: %v", err)
	}
	var said int
	for _, f := range demo {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range demoSay.FindAllString(string(b), -1) {
			said++
			if !strings.Contains(s, "-h %s -p %s") {
				t.Errorf("%s: the demo prints a mosquitto line without -h and -p: %s", f, s)
			}
		}
	}
	if said < 2 {
		t.Fatalf("found %d mosquitto lines the demo prints", said)
	}
}
