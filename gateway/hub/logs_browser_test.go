package hub

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestLogViewInChromium opens the log view from the status page at 1280 and
// 390 px: it shows the hub's recent lines; filtered to the router at info and
// above it shows a command given on a device page as it happens, without a
// reload, and nothing from other components; at error and above the info
// lines are gone.
func TestLogViewInChromium(t *testing.T) {
	_, addr := pageHub(t)

	for i, width := range []int64{1280, 390} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			ctx := browser(t)
			shot := shooter(t, ctx, artifactDir(t), width)
			// A real click: the page's live part is not re-rendered when its
			// stream opens on a quiet hub, so the link chromedp finds stays.
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate("http://"+addr+"/"),
				chromedp.Click(`a[href="/logs"]`), chromedp.WaitVisible(`#log-table`)); err != nil {
				t.Fatalf("opening the log view: %v", err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`[...document.querySelectorAll('#log-lines td.msg')].some(td => td.textContent === 'avshub starting')`, untilDeadline)); err != nil {
				t.Fatalf("the log view does not show the hub's start: %v", err)
			}
			if wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); err != nil || wide {
				t.Fatalf("the log view is wider than %d px (err %v)", width, err)
			}
			shot("logs")
			checkA11y(t, ctx, "the log view")

			command := func(dev string) {
				t.Helper()
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/api/v1/endpoints/`+id(dev)+`/command', {method: 'POST', headers: {'X-Avshub': 't'}, body: '{"trait":"on_off","power":true}'}).then(r => r.status)`, chromedp.EvalAwaitPromise)); err != nil {
					t.Fatal(err)
				}
			}
			lineOf := func(dev string) string {
				return `[...document.querySelectorAll('#log-lines tr')].find(tr => tr.querySelector('td.msg').textContent === 'change by hand' && tr.querySelector('td.attrs').textContent.includes('` + id(dev) + `'))`
			}
			// A command makes the router log; the component filter learns of it live.
			command([]string{"hall-light", "kettle-plug"}[i])
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector('#component option[value=router]')`, untilDeadline)); err != nil {
				t.Fatalf("the component filter does not offer the router: %v", err)
			}
			// Filter: the router, info and above (as a person picks them).
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`(function(){
				var l = document.getElementById('level'); l.value = 'info'; l.dispatchEvent(new Event('change'));
				var c = document.getElementById('component'); c.value = 'router'; c.dispatchEvent(new Event('change'));
			})()`)); err != nil {
				t.Fatal(err)
			}
			// Another command: its line arrives live, under the filter.
			dev := []string{"living-room-light", "ceiling-fan"}[i]
			command(dev)
			line := lineOf(dev)
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!(`+line+`)`, untilDeadline)); err != nil {
				t.Fatalf("the command's log line did not arrive live: %v", err)
			}
			comps, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#log-lines td.component')].map(td => td.textContent)`))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range comps {
				if c != "router" {
					t.Fatalf("filtered to the router, the view shows a line of %q", c)
				}
			}
			if loc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`)); !strings.Contains(loc, "component=router") {
				t.Errorf("the filter is not in the address (%q): a reload would lose it", loc)
			}
			shot("router")

			// Errors only: the info lines go.
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`(function(){ var l = document.getElementById('level'); l.value = 'error'; l.dispatchEvent(new Event('change')); })()`)); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!(`+line+`) && document.getElementById('count').textContent.includes('error and above')`, untilDeadline)); err != nil {
				t.Fatalf("at error and above the info line stays: %v", err)
			}
		})
	}
}
