package avs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"golang.org/x/net/http2"
)

// An event is given up only after failures it may cause itself; a connection
// that ends under it (GOAWAY, a lost socket, the downchannel's end) is not its
// fault, however often that happens.
func TestTransportFailureSuspect(t *testing.T) {
	cases := []struct {
		name string
		err  *errTransport
		want bool
	}{
		{"no response headers in time", &errTransport{err: errors.New("no response headers within 30s"), timeout: true}, true},
		{"stream reset by the server", &errTransport{err: http2.StreamError{StreamID: 5, Code: http2.ErrCodeInternal}}, true},
		{"wrapped stream reset", &errTransport{err: fmt.Errorf("post: %w", http2.StreamError{StreamID: 7, Code: http2.ErrCodeProtocol})}, true},
		{"stream refused (not processed)", &errTransport{err: http2.StreamError{StreamID: 9, Code: http2.ErrCodeRefusedStream}}, false},
		{"GOAWAY", &errTransport{err: errors.New(`http2: server sent GOAWAY and closed the connection; LastStreamID=3, ErrCode=NO_ERROR, debug=""`)}, false},
		{"connection lost", &errTransport{err: io.ErrUnexpectedEOF}, false},
		{"connection ended", &errTransport{err: context.Canceled}, false},
		{"no token", &errTransport{err: errors.New("get access token: offline")}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.err.suspect(); got != c.want {
				t.Errorf("suspect() = %t, want %t", got, c.want)
			}
		})
	}
}
