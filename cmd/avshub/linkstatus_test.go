package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/avshub/avshub/gateway/web"
)

// TestStatusSaysHowToLink: `avshub status` of a running hub that is not
// linked (or must be linked again) names the status page's Link with Amazon
// when the hub has one, and `avshub link` always.
func TestStatusSaysHowToLink(t *testing.T) {
	for _, tt := range []struct {
		name string
		link web.LinkStatus
		want string
	}{
		{"unlinked with a page", web.LinkStatus{LinkPage: "http://127.0.0.1:8080/"},
			"Not linked to Amazon: press Link with Amazon on http://127.0.0.1:8080/, or run `avshub link`"},
		{"unlinked without a page", web.LinkStatus{}, "Not linked to Amazon: run `avshub link`"},
		{"revoked", web.LinkStatus{NeedsRelink: true, Reason: "invalid_grant", LinkPage: "https://hub.example.com/"},
			"NEEDS RE-LINK: invalid_grant (press Link with Amazon on https://hub.example.com/, or run `avshub link`)"},
		{"linked", web.LinkStatus{Linked: true}, "account    linked\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			printStatus(&out, web.Status{Link: tt.link})
			if !strings.Contains(out.String(), tt.want) {
				t.Fatalf("status lacks %q:\n%s", tt.want, out.String())
			}
		})
	}
}
