package hub

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// pageProbe runs in every new document before the page's own script: it
// counts the page's /fragment requests and keeps its live stream, the
// revision the page was rendered with and the revisions the stream's hellos
// carried.
const pageProbe = `(function(){
  window.__fragments = 0; window.__hellos = [];
  var f = window.fetch;
  window.fetch = function(u){ if (String(u).indexOf("/fragment") >= 0) window.__fragments++; return f.apply(this, arguments); };
  var ES = window.EventSource;
  window.EventSource = function(u){
    var es = new ES(u);
    var live = document.getElementById("live");
    window.__rendered = live && live.dataset.revision;
    window.__stream = es;
    es.addEventListener("open", function(){ window.__opened = true; });
    es.addEventListener("hello", function(e){ window.__hellos.push(JSON.parse(e.data).revision); });
    return es;
  };
})()`

// onNewDocument runs js in every document the tab opens, before its scripts.
func onNewDocument(js string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js})
		return chromedp.Void{}, err
	}
}

// TestStatusPageQuietHubNotReplacedInChromium: the home page's live part is
// replaced when the live stream opens only if the hub changed since the page
// was rendered. On a quiet hub the stream's hello names the page's own
// revision and nothing is fetched, so a click inside the live part (a real
// pointer click on a device link) lands on the node it found; a hello naming
// another revision refreshes it, and a change of a device refreshes it and
// moves the page to the hub's new revision.
func TestStatusPageQuietHubNotReplacedInChromium(t *testing.T) {
	e, addr := pageHub(t)
	ctx := browser(t)

	if err := chromedp.Do(ctx, onNewDocument(pageProbe), chromedp.Navigate("http://"+addr+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.__opened === true`, untilDeadline)); err != nil {
		t.Fatalf("the live stream did not open: %v", err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__fragments`)); err != nil || n != 0 {
		t.Fatalf("the page re-rendered its live part %d times as its stream opened (err %v)", n, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.__hellos.length > 0`, untilDeadline)); err != nil {
		t.Fatalf("the live stream sent no hello: %v", err)
	}
	rendered, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__rendered`))
	if err != nil {
		t.Fatal(err)
	}
	hello, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__hellos[0]`))
	if err != nil {
		t.Fatal(err)
	}
	if rendered == "" || hello != rendered {
		t.Fatalf("the hub's revision moved on a quiet hub: rendered %q, hello %q (hub %q)", rendered, hello, e.hub.Revision())
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__fragments`)); err != nil || n != 0 {
		t.Fatalf("the page re-rendered %d times after a hello naming its own revision (err %v)", n, err)
	}

	// A hello naming another state (a change between the rendering and the
	// stream's start) refreshes the page, which then shows the hub's revision.
	stale := func(rev string) string {
		return `window.__stream.dispatchEvent(new MessageEvent("hello", {data: JSON.stringify({revision: "` + rev + `"})})), true`
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](stale("0.0.0"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.__fragments === 1 && document.getElementById("live").dataset.revision === "`+rendered+`"`, untilDeadline)); err != nil {
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`window.__fragments`))
		t.Fatalf("a hello naming another revision: %d refreshes, want 1 ending on %q: %v", n, rendered, err)
	}

	// A device change: the page follows and takes the hub's new revision.
	e.mustSend("Alexa.PowerController", "TurnOn", id("kitchen-light"), "", map[string]any{})
	row := `document.querySelector('tr[data-endpoint="` + id("kitchen-light") + `"] td.state')`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](row+` && `+row+`.innerText.startsWith("on") && document.getElementById("live").dataset.revision !== "`+rendered+`"`, untilDeadline)); err != nil {
		t.Fatalf("the page did not follow the change to a new revision: %v", err)
	}

	// A real click on a device link inside the live part opens its page.
	link := `#live a[href="/device/` + id("kitchen-light") + `"]`
	if err := chromedp.Do(ctx, chromedp.Click(link), chromedp.WaitVisible(`#h-state`)); err != nil {
		t.Fatalf("clicking the device link: %v", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`)); err != nil || !strings.HasSuffix(loc, id("kitchen-light")) {
		t.Fatalf("the click led to %q (err %v)", loc, err)
	}
}
