package avstest

import (
	"crypto/tls"
	"net/http"
	"testing"
	"time"
)

// TestCloseWithIdleClient: Close must not wait for clients that keep idle
// HTTP/2 or HTTP/1.1 connections open.
func TestCloseWithIdleClient(t *testing.T) {
	s, err := New(Options{CertDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, h2 := range []bool{true, false} {
		var tr http.RoundTripper
		if h2 {
			tr = &http.Transport{TLSClientConfig: s.ClientTLS().Clone(), ForceAttemptHTTP2: true}
		} else {
			tr = &http.Transport{TLSClientConfig: s.ClientTLS().Clone(), ForceAttemptHTTP2: false, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
		}
		c := &http.Client{Transport: tr}
		resp, err := c.Get(s.URL() + "/ping")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs with idle client connections")
	}
}
