//lint:file-ignore SA1019 issue #2 asks for golang.org/x/net/http2 (deprecated in x/net v0.62 in favour of net/http's own HTTP/2).

package avs_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"testing"

	"golang.org/x/net/http2"

	"github.com/avshub/avshub/gateway/avstest"
)

// BenchmarkEventRoundTrip measures one event hub → emulator → hub through
// avs.Client.Send (queue, stream slot, ordering, multipart framing) beside the
// baseline: the same multipart POST on a bare HTTP/2 connection to the same
// emulator. The difference is the client's overhead.
func BenchmarkEventRoundTrip(b *testing.B) {
	sim := newSim(b, avstest.Options{MaxEvents: 1000})
	h := start(b, sim, nil)
	h.waitPostConnect(b, 1)
	ev := inactivity(1)
	ctx := context.Background()

	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := h.client.Send(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("baseline-raw-http2-post", func(b *testing.B) {
		tr := &http2.Transport{TLSClientConfig: sim.ClientTLS()}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr}
		token := sim.LWA().Issue().AccessToken
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Disposition", `form-data; name="metadata"`)
		hdr.Set("Content-Type", "application/json; charset=UTF-8")
		pw, _ := mw.CreatePart(hdr)
		_, _ = pw.Write(ev)
		_ = mw.Close()
		payload := body.Bytes()
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, sim.URL()+"/v20160207/events", bytes.NewReader(payload))
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
