package plugintest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// SkippedItem is something a bridge left out: a device or one of its parts
// (an expose, a feature) it cannot map, and why. Bridges log each as a record
// with the message "skipped" and the attributes item, part and reason; `plugin
// check` collects them from the bridge's log.
type SkippedItem struct {
	Item   string `json:"item"`
	Part   string `json:"part,omitempty"`
	Reason string `json:"reason"`
}

// logCapture keeps the log lines of a plugin process (go-plugin hands them
// over parsed from the plugin's stderr).
type logCapture struct {
	module string // the plugin's lines are logged under this name

	mu    sync.Mutex
	buf   bytes.Buffer
	lines []map[string]any
}

func newLogCapture(module string) *logCapture { return &logCapture{module: module} }

// logger is the hclog.Logger to give go-plugin's client.
func (c *logCapture) logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: c, JSONFormat: true, Level: hclog.Trace})
}

// Write takes hclog's JSON lines.
func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	for {
		i := bytes.IndexByte(c.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(c.buf.Next(i + 1)))
		dec.UseNumber()
		if dec.Decode(&m) == nil {
			if mod, _ := m["@module"].(string); mod == c.module || strings.HasPrefix(mod, c.module+".") {
				c.lines = append(c.lines, m)
			}
		}
	}
	return len(p), nil
}

// text returns the bridge's lines, one per line, as "level message key=value…".
func (c *logCapture) text() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.lines))
	for _, m := range c.lines {
		var b strings.Builder
		fmt.Fprintf(&b, "%-5s %v", m["@level"], m["@message"])
		var keys []string
		for k := range m {
			if !strings.HasPrefix(k, "@") && k != "timestamp" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := fmt.Sprint(m[k])
			if strings.ContainsAny(v, " \t\"") {
				v = fmt.Sprintf("%q", v)
			}
			fmt.Fprintf(&b, " %s=%s", k, v)
		}
		out = append(out, b.String())
	}
	return out
}

// skipped returns the items the bridge logged as skipped, each once.
func (c *logCapture) skipped() []SkippedItem {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []SkippedItem{}
	for _, m := range c.lines {
		if m["@message"] != "skipped" {
			continue
		}
		str := func(k string) string {
			if v, ok := m[k]; ok && v != nil {
				return fmt.Sprint(v)
			}
			return ""
		}
		s := SkippedItem{Item: str("item"), Part: str("part"), Reason: str("reason")}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
