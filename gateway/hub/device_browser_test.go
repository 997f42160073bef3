package hub

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// artifactDir is where browser tests keep their screenshots: $AVSHUB_TEST_ARTIFACTS
// when set, else the test's artifact directory (go test -artifacts keeps it).
func artifactDir(t *testing.T) string {
	if d := os.Getenv("AVSHUB_TEST_ARTIFACTS"); d != "" {
		d = filepath.Join(d, t.Name())
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

// TestDevicePageInChromium drives a device's page in headless Chromium at
// 1280 and 390 px: the controls go through the router (the light turns on,
// Alexa gets a ChangeReport), a bad value gets a human message with details
// behind a disclosure, the rename form renames it for Alexa, "Hide from
// Alexa" deletes it from Alexa and "Hide from the dashboards" empties its
// retained discovery config on the hub's broker. Screenshots are kept as test
// artifacts.
func TestDevicePageInChromium(t *testing.T) {
	chromium(t)
	addr, broker := freeAddr(t), freeAddr(t)
	e := newEnv(t, envOptions{StatusListen: addr, EmbeddedBroker: broker})
	e.start()
	e.waitConnected()
	e.waitKnown()
	configs := watchConfigs(t, "tcp://"+broker)
	shots := artifactDir(t)

	for i, width := range []int64{1280, 390} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			ctx := browser(t)
			dev := []string{"kitchen-light", "bedroom-light"}[i]
			epID := id(dev)
			shot := shooter(t, ctx, shots, width)
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate("http://"+addr+"/")); err != nil {
				t.Fatal(err)
			}
			shot("status")
			checkA11y(t, ctx, "the status page")
			// From the list to the device's page by its link.
			if err := chromedp.Do(ctx, chromedp.Click(`tr[data-endpoint="`+epID+`"] a`), chromedp.WaitVisible(`#device`)); err != nil {
				t.Fatalf("opening the device page: %v", err)
			}
			overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
			if err != nil || overflow {
				t.Fatalf("the device page is wider than %d px (err %v)", width, err)
			}
			shot("device")
			checkA11y(t, ctx, "the device page of "+dev)

			// Turn on: through the router, Alexa hears of it.
			from := len(e.emu.Events())
			if err := chromedp.Do(ctx, chromedp.Click(`#turn-on`)); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#state') && document.querySelector('#state').innerText.includes('on') && document.querySelector('#message').innerText.includes('Turned on')`, untilDeadline)); err != nil {
				t.Fatalf("the page did not show the light on: %v", err)
			}
			e.poll(deadlineCtx(t), "a ChangeReport for the page's command", func() error {
				if e.countEvents(from, "Alexa.ChangeReport") == 0 {
					return fmt.Errorf("no ChangeReport yet")
				}
				return nil
			})
			// The page after the command: what happened and why (the cause in
			// words), when the device was last heard from, and the Alexa
			// interfaces it has in the active profile (avs: Power, Range).
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector('#history li') && document.querySelector('#history li').innerText.includes('(app)')`, untilDeadline)); err != nil {
				got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('#history') || document.body).innerText`))
				t.Fatalf("the history does not show the page's command with its cause: %q (%v)", got, err)
			}
			facts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector('#interfaces').innerText, document.querySelector('#last-seen').innerText, String(!!document.querySelector('#last-seen time')), document.querySelector('#reachable').innerText]`))
			if err != nil || len(facts) != 4 || !strings.Contains(facts[0], "Alexa.PowerController") || !strings.Contains(facts[0], "Alexa.RangeController") ||
				facts[2] != "true" || !strings.HasPrefix(facts[3], "yes") {
				t.Errorf("interfaces, last seen, reachable: %q (%v)", facts, err)
			}
			// Keyboard: the brightness slider is reachable and labelled.
			label, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('label[for=brightness]').innerText`))
			if err != nil || label == "" {
				t.Fatalf("the brightness slider has no label: %q %v", label, err)
			}
			// A command the device cannot do: a human message, details behind a disclosure.
			msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch('/api/v1/endpoints/`+epID+`/command',{method:'POST',headers:{'X-Avshub':'t'},body:JSON.stringify({trait:'brightness',brightness:150})}).then(r=>r.json()).then(j=>j.error+'|'+j.details)`, chromedp.EvalAwaitPromise))
			if err != nil || !strings.Contains(msg, "outside what the device can do") || strings.Contains(strings.Split(msg, "|")[0], "150") {
				t.Fatalf("error for brightness 150: %q %v", msg, err)
			}
			shot("on")

			// Rename from the page: Alexa gets the new name.
			newName := []string{"Cooker lamp", "Bedside lamp"}[i]
			if err := chromedp.Do(ctx,
				chromedp.SetValue(`#rename-name`, newName),
				chromedp.SetValue(`#rename-area`, "Upstairs"),
				chromedp.Click(`#rename-save`)); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#name').innerText === `+fmt.Sprintf("%q", newName)+` && !!document.querySelector('#area') && document.querySelector('#area').innerText === "Upstairs"`, untilDeadline)); err != nil {
				t.Fatalf("the page did not show the new name and room: %v", err)
			}
			e.poll(deadlineCtx(t), "Alexa knows the new name", func() error {
				raw, _ := e.emu.Endpoint(epID)
				if !strings.Contains(string(raw), `"friendlyName":"`+newName+`"`) {
					return fmt.Errorf("Alexa has %s", raw)
				}
				return nil
			})
			shot("renamed")

			// Hide from Alexa from the page: deleted from Alexa, still on the hub.
			if err := chromedp.Do(ctx, chromedp.Click(`#hide-alexa`)); err != nil {
				t.Fatal(err)
			}
			e.poll(deadlineCtx(t), "Alexa forgot the hidden endpoint", func() error {
				if _, ok := e.emu.Endpoint(epID); ok {
					return fmt.Errorf("Alexa still has it")
				}
				return nil
			})
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#hide-alexa').checked && document.body.innerText.includes('Hidden from Alexa')`, untilDeadline)); err != nil {
				t.Fatalf("the page does not say it is hidden: %v", err)
			}
			shot("hidden")

			// Hide from the dashboards from the page: its retained discovery
			// config is emptied (Home Assistant forgets it); showing it again
			// publishes it again.
			topic := "homeassistant/device/avshub_virtual_" + dev + "/config"
			retained := func(want bool) func() error { return func() error { return configs.retained(topic, want) } }
			e.poll(deadlineCtx(t), "the dashboards' config of "+dev, retained(true))
			if err := chromedp.Do(ctx, chromedp.Click(`#hide-dashboards`)); err != nil {
				t.Fatal(err)
			}
			e.poll(deadlineCtx(t), "an empty retained config for "+dev, retained(false))
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#hide-dashboards').checked`, untilDeadline)); err != nil {
				t.Fatalf("the page does not show it hidden from the dashboards: %v", err)
			}
			shot("hidden-dashboards")
			if err := chromedp.Do(ctx, chromedp.Click(`#hide-dashboards`)); err != nil {
				t.Fatal(err)
			}
			e.poll(deadlineCtx(t), "the dashboards' config of "+dev+" again", retained(true))

			// A sensor's page: its readings and battery in words, nothing to
			// control, and no link quality from a bridge that reports none.
			sensor := []string{"patio-door", "kitchen-leak"}[i]
			if err := chromedp.Do(ctx, chromedp.Navigate("http://"+addr+"/device/"+id(sensor)), chromedp.WaitVisible(`#device`)); err != nil {
				t.Fatal(err)
			}
			page, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector('#state').innerText, document.querySelector('#signal').innerText, document.querySelector('#h-controls').parentElement.innerText]`))
			if err != nil || len(page) != 3 || !regexp.MustCompile(`Battery\s+90 %`).MatchString(page[0]) || page[1] != "not reported by this bridge" || !strings.Contains(page[2], "Nothing to control") {
				t.Errorf("the page of %s: %q (%v)", sensor, page, err)
			}
			shot("sensor")
			checkA11y(t, ctx, "the device page of "+sensor)
		})
	}
}

// TestPagesAt360InChromium: the home page, the device pages with the most
// controls and the log view are usable at 360 px, the narrowest phone the
// README promises (the other browser tests use 390): nothing is wider than
// the window, no control is cut off, and axe-core finds nothing serious.
// Screenshots are kept as test artifacts.
func TestPagesAt360InChromium(t *testing.T) {
	_, addr := pageHub(t)
	ctx := browser(t)
	shot := shooter(t, ctx, artifactDir(t), 360)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, path, ready string }{
		{"status", "/", "#endpoints"},
		{"heat-pump", "/device/" + id("heat-pump"), "#device"},
		{"kitchen-light", "/device/" + id("kitchen-light"), "#device"},
		{"bedroom-blind", "/device/" + id("bedroom-blind"), "#device"},
		{"ceiling-fan", "/device/" + id("ceiling-fan"), "#device"},
		{"logs", "/logs", "#log-table"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate("http://"+addr+p.path), chromedp.WaitVisible(p.ready)); err != nil {
			t.Fatalf("opening %s: %v", p.path, err)
		}
		cut, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('button, input, select, a, summary')]
			.filter(el => { const r = el.getBoundingClientRect(); return r.width > 0 && (r.left < 0 || r.right > window.innerWidth + 0.5); })
			.map(el => el.outerHTML.slice(0, 120))
			.concat(document.documentElement.scrollWidth > window.innerWidth ? ['the page is ' + document.documentElement.scrollWidth + ' px wide'] : [])`))
		if err != nil || len(cut) > 0 {
			t.Errorf("%s at 360 px: cut off %q (%v)", p.name, cut, err)
		}
		shot(p.name)
		checkA11y(t, ctx, p.name+" at 360 px")
	}
}
