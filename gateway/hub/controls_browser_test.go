package hub

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// pageStep is one thing a person does on a device page and what the page
// must then say.
type pageStep struct {
	device string
	// do is run in the page: set(sel, value) changes an input or select as a
	// person would (input and change events); press(sel) clicks a button.
	do string
	// key, when set, focuses this button and presses Enter instead of do.
	key string
	// state must appear in the "Now" list, message in the status line.
	state, message string
	// details, when set, must be behind the message's disclosure.
	details string
}

const pageHelpers = `window.set = function(sel, v){ var el = document.querySelector(sel); el.focus(); el.value = v;
  el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); el.blur(); };
window.press = function(sel){ document.querySelector(sel).click(); };`

// TestDeviceControlsInChromium drives every kind of control of the device
// page in headless Chromium at 1280 and 390 px, against the virtual bridge's
// devices: power, brightness, colour picker, colour temperature, thermostat mode and setpoints
// (single and dual), blind open/close/stop and position, fan preset and speed,
// siren, lock (by keyboard), each through the router to the device and back
// as live state in words; a command the thermostat refuses shows a human
// message with the technical details behind a disclosure.
func TestDeviceControlsInChromium(t *testing.T) {
	_, addr := pageHub(t)

	steps := []pageStep{
		{device: "bedroom-light", do: `press('#turn-on')`, state: "Power\non", message: "Turned on."},
		{device: "bedroom-light", do: `set('#brightness', '40')`, state: "40 %", message: "Brightness set to 40 %"},
		{device: "bedroom-light", do: `press('#turn-off')`, state: "Power\noff", message: "Turned off."},
		{device: "kitchen-light", do: `set('#colour', '#0000ff')`, state: "blue", message: "Colour set to #0000ff"},
		{device: "desk-lamp", do: `set('#white', '5000')`, state: "cool white (5000 K)", message: "Colour temperature set to 5000 K"},
		{device: "thermostat", do: `set('#thermostat-mode', 'HEAT')`, state: "heat", message: "Mode set to heat"},
		{device: "thermostat", do: `set('#target', '23.5')`, state: "23.5 °C", message: "Target set to 23.5"},
		{device: "thermostat", do: `set('#thermostat-mode', 'OFF')`, state: "off", message: "Mode set to off"},
		{device: "thermostat", do: `set('#target', '22')`, message: "The thermostat is off", details: "the thermostat is off"},
		{device: "thermostat", do: `set('#thermostat-mode', 'HEAT')`, state: "heat", message: "Mode set to heat"},
		{device: "heat-pump", do: `set('#upper', '27')`, state: "and 27.0 °C", message: "Cool above set to 27"},
		{device: "heat-pump", do: `set('#lower', '35')`, message: "outside what the thermostat can be set to", details: "35 °C is outside"},
		{device: "bedroom-blind", do: `press('#cover-open')`, state: "Position\nopen", message: "Opening."},
		{device: "bedroom-blind", do: `set('#cover', '40')`, state: "40 % open", message: "Open set to 40 % open"},
		{device: "bedroom-blind", do: `press('#cover-stop')`, state: "40 % open", message: "Stopped."},
		{device: "ceiling-fan", do: `press('#fan-preset-2')`, state: "100 %", message: "Fan set to high"},
		{device: "ceiling-fan", do: `set('#fan', '50')`, state: "50 %", message: "Speed set to 50 %"},
		{device: "alarm-siren", do: `press('#siren-on')`, state: "sounding!", message: "The siren is sounding."},
		{device: "alarm-siren", do: `press('#siren-off')`, state: "Siren\noff", message: "The siren is silent."},
		{device: "front-door", key: "#unlock", state: "unlocked", message: "Unlocked."},
	}
	if only := os.Getenv("AVSHUB_STEPS_DEVICE"); only != "" {
		var keep []pageStep
		for _, s := range steps {
			if strings.Contains(","+only+",", ","+s.device+",") {
				keep = append(keep, s)
			}
		}
		steps = keep
	}
	for _, width := range []int64{1280, 390} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			ctx := browser(t)
			shot := shooter(t, ctx, artifactDir(t), width)
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
				t.Fatal(err)
			}
			at := ""
			for i, s := range steps {
				if s.device != at {
					if err := chromedp.Do(ctx, chromedp.Navigate("http://"+addr+"/device/"+id(s.device)), chromedp.WaitVisible(`#device`)); err != nil {
						t.Fatalf("opening %s: %v", s.device, err)
					}
					if wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); err != nil || wide {
						t.Fatalf("the page of %s is wider than %d px (err %v)", s.device, width, err)
					}
					at = s.device
					t.Logf("%s loaded %s", time.Now().Format("15:04:05.000"), s.device)
					shot(s.device)
					checkA11y(t, ctx, "the device page of "+s.device)
				}
				t.Logf("%s step %d %s%s", time.Now().Format("15:04:05.000"), i, s.do, s.key)
				// The previous step's message must not pass for this one's.
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](pageHelpers+`document.getElementById('message').textContent = ''`)); err != nil {
					t.Fatal(err)
				}
				if s.key != "" {
					err := chromedp.Do(ctx, chromedp.Focus(s.key), chromedp.KeyEvent(kb.Enter))
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				} else if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](s.do)); err != nil {
					t.Fatalf("step %d (%s): %v", i, s.do, err)
				}
				cond := fmt.Sprintf(`document.getElementById('message').innerText.includes(%q)`, s.message)
				if s.state != "" {
					cond += fmt.Sprintf(` && document.getElementById('state').innerText.includes(%q)`, s.state)
				}
				if s.details != "" {
					cond += fmt.Sprintf(` && document.querySelector('#message details') && document.querySelector('#message details').textContent.includes(%q) && document.querySelector('#message .error')`, s.details)
				}
				if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+cond+")", untilDeadline)); err != nil {
					got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('message').innerText + ' | ' + document.getElementById('state').innerText`))
					t.Fatalf("step %d on %s (%s%s): the page says %q, want message %q and state %q: %v", i, s.device, s.do, s.key, got, s.message, s.state, err)
				}
				if s.details != "" {
					shot(s.device + "-error")
					// The technical text stays out of the human message.
					if msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#message .error').innerText`)); strings.Contains(msg, s.details) {
						t.Errorf("step %d: the human message shows the technical text: %q", i, msg)
					}
				}
			}
			shot("last")
		})
	}
}
