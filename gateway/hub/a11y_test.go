package hub

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeScript is axe-core, installed by make test from the committed
// testdata/axe/package-lock.json.
var axeScript = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js"))
	return string(b), err
})

// axeViolation is one rule axe-core found broken, with where.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// axeRun runs axe-core (WCAG 2.1 A and AA rules and best practices) on the
// page open in ctx.
func axeRun(t *testing.T, ctx context.Context) ([]axeViolation, error) {
	t.Helper()
	src, err := axeScript()
	if err != nil {
		t.Fatalf("axe-core is not installed (%v): run make axe (make test does), i.e. npm ci in gateway/hub/testdata/axe", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](src+";void 0")); err != nil {
		return nil, fmt.Errorf("loading axe-core: %w", err)
	}
	return chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact || '', help: v.help, targets: v.nodes.map(n => n.target.join(' '))})))`,
		chromedp.EvalAwaitPromise))
}

// checkA11y runs axe-core on the page open in ctx and fails the test on
// every serious or critical violation (the others are logged); what names
// the page in the message.
func checkA11y(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	found, err := axeRun(t, ctx)
	if err != nil {
		t.Fatalf("axe-core on %s: %v", what, err)
	}
	var bad []string
	for _, v := range found {
		line := fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, line)
		} else {
			t.Logf("accessibility of %s, %s", what, line)
		}
	}
	if len(bad) > 0 {
		t.Errorf("accessibility of %s: %d serious or critical violations:\n  %s", what, len(bad), strings.Join(bad, "\n  "))
	}
}

// TestAxeFindsViolations: the check can fail: on a page with an unlabelled
// input, an image without alternative text and grey-on-white text, axe-core
// reports each as serious or critical.
func TestAxeFindsViolations(t *testing.T) {
	chromium(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><title>bad</title></head><body><main>
<input type="text"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><p style="color:#bbb;background:#fff">faint</p></main></body></html>`)
	}))
	defer srv.Close()
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	found, err := axeRun(t, ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"label": false, "image-alt": false, "color-contrast": false}
	for _, v := range found {
		if _, ok := want[v.ID]; ok && (v.Impact == "serious" || v.Impact == "critical") {
			want[v.ID] = true
		}
	}
	for id, seen := range want {
		if !seen {
			t.Errorf("axe-core did not report %s as serious or critical: %+v", id, found)
		}
	}
}
