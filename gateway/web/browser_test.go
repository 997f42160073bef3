package web

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/avshub/avshub/discovery"
)

// Chromium returns Debian's Chromium, or skips the test when it is missing.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("AVSHUB_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("Chromium is not installed (apt-get install chromium); the status page's browser test needs it")
	return ""
}

// browser starts headless Chromium (Debian's, with the workplace's flags) and
// returns a chromedp context for it.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

func TestStatusPageInChromium(t *testing.T) {
	src := newSource()
	ts := httptest.NewServer(New(src, nil, nil).Handler())
	t.Cleanup(ts.Close) // after the browser is gone (cleanups run last-in first-out)
	ctx := browser(t)

	row := `document.querySelector('tr[data-endpoint="hub::virtual::lamp"]')`
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/")); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](row+`.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](row+`.querySelector('td.state').innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Kitchen Light") || state != "on" {
		t.Fatalf("page shows %q in state %q", text, state)
	}

	// The device changes by hand: the page must follow without a reload.
	off := false
	src.mu.Lock()
	src.eps[0].State = discovery.State{On: &off}
	src.eps[0].Recent = []EventLine{{At: time.Now(), Text: "turned off by hand"}}
	src.mu.Unlock()
	src.changes <- struct{}{}
	updated, err := chromedp.Run(ctx, chromedp.Poll[string](row+` && `+row+`.querySelector('td.state').innerText === "off" && `+row+`.innerText`))
	if err != nil {
		t.Fatalf("the page did not update when the device changed: %v", err)
	}
	if !strings.Contains(updated, "turned off by hand") {
		t.Fatalf("row after the change: %q", updated)
	}
}
