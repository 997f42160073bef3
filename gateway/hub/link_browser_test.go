package hub

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/avshub/avshub/discovery/cacerts"
	"github.com/avshub/avshub/gateway/avstest"
	"github.com/avshub/avshub/gateway/lwa/lwatest"
	"github.com/avshub/avshub/gateway/web"
)

// emulatorSPKI is the base64 SHA-256 of the public key of the certificate
// the emulator presents, for Chromium's ignore-certificate-errors-spki-list:
// Chromium trusts that one key, as a browser trusts Amazon's certificate.
func emulatorSPKI(t *testing.T, emu *avstest.Server) string {
	t.Helper()
	pool, err := cacerts.File(emu.CAFile(), false)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(emu.URL())
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{RootCAs: pool, ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatalf("TLS to the emulator: %v", err)
	}
	defer conn.Close()
	var leaf *x509.Certificate = conn.ConnectionState().PeerCertificates[0]
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestLinkWithAmazonInChromium starts a hub that was never linked against
// the AVS emulator, at 1280 and 390 px: it runs (bridge, endpoints, status
// page) and says "Not linked to Amazon" on the page and in /api/v1/status
// without ever contacting AVS; "Link with Amazon" leads to the emulated
// Login with Amazon consent page (its return URL registered exactly, as in a
// security profile), Allow brings the browser back to the page, which says
// Linked, and the hub connects to AVS and sends its discovery without a
// restart. Screenshots are kept as test artifacts; axe-core checks the page
// before and after.
func TestLinkWithAmazonInChromium(t *testing.T) {
	chromium(t)
	shots := artifactDir(t)
	for _, width := range []int64{1280, 390} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			addr := freeAddr(t)
			callback := "http://" + addr + web.LinkCallbackPath
			e := newEnv(t, envOptions{StatusListen: addr, Unlinked: true, Emulator: func(o *avstest.Options) {
				o.LWA = lwatest.New(lwatest.Options{ReturnURLs: []string{callback}})
			}})
			e.start()

			// Unlinked, the hub runs all the same, and says how to link.
			e.poll(deadlineCtx(t), "the unlinked hub's bridge and endpoints", func() error {
				st := e.hub.Status()
				if st.Link.Linked || st.AVS.State != stateWaitingForLink || st.Link.LinkPage != "http://"+addr+"/" {
					return fmt.Errorf("link %+v, AVS %s", st.Link, st.AVS.State)
				}
				if len(st.Bridges) != 1 || st.Bridges[0].State != "running" || st.Endpoints != len(e.deviceIDs()) {
					return fmt.Errorf("bridges %+v, %d endpoints", st.Bridges, st.Endpoints)
				}
				return nil
			})
			if n := e.emu.State().Connections; n != 0 {
				t.Fatalf("the unlinked hub opened %d connections to AVS", n)
			}

			ctx := browser(t, chromedp.Flag("ignore-certificate-errors-spki-list", emulatorSPKI(t, e.emu)))
			shot := shooter(t, ctx, shots, width)
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900), chromedp.Navigate("http://"+addr+"/"), chromedp.WaitVisible(`#link-amazon`)); err != nil {
				t.Fatal(err)
			}
			state, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#link-state').innerText`))
			if err != nil || state != "Not linked to Amazon" {
				t.Fatalf("account shown as %q (%v)", state, err)
			}
			if rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('tr[data-endpoint]').length`)); err != nil || rows != len(e.deviceIDs()) {
				t.Errorf("the unlinked page lists %d endpoints, want %d (%v)", rows, len(e.deviceIDs()), err)
			}
			overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#link-amazon').getBoundingClientRect().right > window.innerWidth`))
			if err != nil || overflow {
				t.Errorf("the Link with Amazon button is cut off at %d px (%v)", width, err)
			}
			if wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); err != nil || wide {
				t.Errorf("the status page is wider than the window at %d px (%v)", width, err)
			}
			shot("unlinked")
			checkA11y(t, ctx, "the unlinked status page")

			// Link with Amazon → the consent page → Allow → back on the page.
			if err := chromedp.Do(ctx, chromedp.Click(`#link-amazon`), chromedp.WaitVisible(`#allow`)); err != nil {
				t.Fatalf("no consent page after Link with Amazon: %v", err)
			}
			consent, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.origin + location.pathname + " " + document.body.innerText`))
			if err != nil || !strings.HasPrefix(consent, e.emu.URL()+lwatest.AuthorizePath+" ") || !strings.Contains(consent, testSerial) || !strings.Contains(consent, "avshub_test") {
				t.Fatalf("consent page %q (%v)", consent, err)
			}
			shot("consent")
			if err := chromedp.Do(ctx, chromedp.Click(`#allow`), chromedp.WaitVisible(`#link-message`)); err != nil {
				t.Fatalf("not back on the status page after Allow: %v", err)
			}
			back, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " | " + document.querySelector('#link-message').innerText + " | " + document.querySelector('#link-state').innerText`))
			if err != nil || back != "http://"+addr+"/ | Linked with Amazon. The hub is connecting to Alexa. | Linked" {
				t.Fatalf("after Allow the page shows %q (%v)", back, err)
			}
			if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#link-amazon').length`)); err != nil || n != 0 {
				t.Errorf("a linked hub still offers Link with Amazon (%d, %v)", n, err)
			}

			// The hub connects at once: downchannel, post-connect, discovery.
			e.waitConnected()
			e.poll(deadlineCtx(t), "Alexa to know the hub's endpoints", func() error {
				var known []string
				for _, raw := range e.emu.Endpoints() {
					known = append(known, string(raw))
				}
				for _, d := range e.deviceIDs() {
					if !slices.ContainsFunc(known, func(s string) bool { return strings.Contains(s, `"`+id(d)+`"`) }) {
						return fmt.Errorf("%s not discovered (%d endpoints known)", d, len(known))
					}
				}
				return nil
			})
			if st := e.hub.Status(); !st.Link.Linked || st.Link.LinkPage != "" {
				t.Errorf("status after the link: %+v", st.Link)
			}
			if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('#avs-state').innerText === "CONNECTED"`, untilDeadline)); err != nil {
				t.Errorf("the page did not follow the connection: %v", err)
			}
			shot("linked")
			checkA11y(t, ctx, "the status page after linking")
		})
	}
}
