package hub

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// chromium returns Debian's Chromium. A missing Chromium fails the test (it
// never passes by skipping): `make test` installs it.
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
	t.Fatal("Chromium is not installed: the status page's browser tests need it (make test installs it; by hand: apt-get install chromium)")
	return ""
}

// browser starts headless Chromium (Debian's, with the workplace's flags) and
// returns a chromedp context for it, which ends at the test's deadline
// (waitContext): a page on a loaded machine is slow, not wrong.
func browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(append(chromedp.DefaultExecAllocatorOptions[:], extra...),
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()))
	wctx, cancelW := waitContext(t)
	actx, cancelA := chromedp.NewExecAllocator(wctx, opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA(); cancelW() })
	return ctx
}

// untilDeadline makes a chromedp poll wait as long as its context (browser:
// the test's deadline) instead of chromedp's default 30 s.
var untilDeadline = chromedp.WithPollingTimeout(0)

// pageHub starts the hub with its page for a browser test, on the test
// harness's virtual bridge: Chromium must be there (the test fails without
// it), the hub is connected to the emulator and Alexa knows the endpoints. It
// returns the hub and the page's address.
func pageHub(t *testing.T) (*testEnv, string) {
	t.Helper()
	chromium(t)
	addr := freeAddr(t)
	e := newEnv(t, envOptions{StatusListen: addr})
	e.start()
	e.waitConnected()
	e.waitKnown()
	return e, addr
}

// TestStatusPageInChromium loads the running hub's status page in headless
// Chromium: it lists the hub's endpoints and follows a device change live.
func TestStatusPageInChromium(t *testing.T) {
	e, addr := pageHub(t)
	ctx := browser(t) // closed before the hub stops (cleanups run last-in first-out)

	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+addr+"/")); err != nil {
		t.Fatal(err)
	}
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('tr[data-endpoint]')).map(r => r.dataset.endpoint)`))
	if err != nil {
		t.Fatal(err)
	}
	if want := len(e.deviceIDs()); len(names) != want {
		t.Fatalf("the page lists %d endpoints, want %d: %v", len(names), want, names)
	}
	row := `document.querySelector('tr[data-endpoint="` + id("kitchen-light") + `"]')`
	before, err := chromedp.Run(ctx, chromedp.Evaluate[string](row+`.querySelector('td.state').innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(before, "off") {
		t.Fatalf("kitchen light shows %q before the directive, want off", before)
	}

	// Alexa turns the light on: the page must follow without a reload.
	e.mustSend("Alexa.PowerController", "TurnOn", id("kitchen-light"), "", map[string]any{})
	after, err := chromedp.Run(ctx, chromedp.Poll[string](row+` && `+row+`.querySelector('td.state').innerText.startsWith("on") && `+row+`.innerText`, untilDeadline))
	if err != nil {
		t.Fatalf("the page did not update when the device changed: %v", err)
	}
	if !strings.Contains(after, "Kitchen Light") || !strings.Contains(after, "voice") {
		t.Fatalf("row after the change: %q", after)
	}
}

// TestStatusPageDNSRebinding: a page whose name an attacker re-points at the
// hub (Chromium resolves evil.example to 127.0.0.1 here) gets neither the
// status page nor the API, and its same-origin POST with the page's header
// does not open the Zigbee network; the hub's own page still pairs.
func TestStatusPageDNSRebinding(t *testing.T) {
	chromium(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	l.Close()
	e := newEnv(t, envOptions{StatusListen: addr})
	e.start()
	e.waitConnected()
	ctx := browser(t, chromedp.Flag("host-resolver-rules", "MAP evil.example 127.0.0.1"))

	post := `fetch("/api/v1/bridges/virtual/pair?for=600s", {method: "POST", headers: {"X-Avshub": "1"}}).then(r => r.status)`
	if err := chromedp.Do(ctx, chromedp.Navigate("http://evil.example:"+port+"/")); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "421") || strings.Contains(body, "Kitchen Light") {
		t.Fatalf("the rebound name got %q, want the 421 refusal", body)
	}
	for _, js := range []string{
		`fetch("/api/v1/status").then(r => r.status)`,
		post,
	} {
		code, err := chromedp.Run(ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if code != 421 {
			t.Errorf("%s from the rebound name: %d, want 421", js, code)
		}
	}

	// The hub's own page may still ask to pair (the virtual bridge cannot:
	// 400 comes from the bridge, past the Host and Origin checks).
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+addr+"/")); err != nil {
		t.Fatal(err)
	}
	code, err := chromedp.Run(ctx, chromedp.Evaluate[int](post, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if code == 421 || code == 403 {
		t.Fatalf("the hub's own page was refused (%d)", code)
	}
}

// shooter saves full-page screenshots into dir as test artifacts, named by
// width and step.
func shooter(t *testing.T, ctx context.Context, dir string, width int64) func(name string) {
	return func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d-%s.png", width, name)), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
