package lwa

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/avshub/avshub/gateway/lwa/lwatest"
)

// BenchmarkLogLine measures the cost the redacting handler adds to one
// typical log line; "baseline" is the same line through the bare handler.
func BenchmarkLogLine(b *testing.B) {
	err := errors.New("login with amazon: HTTP 503 ServerError: The server encountered an internal error")
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"baseline", slog.NewTextHandler(io.Discard, nil)},
		{"redacting", NewRedactingHandler(slog.NewTextHandler(io.Discard, nil))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			log := slog.New(bc.h).With("component", "avs")
			for b.Loop() {
				log.Info("event sent", "namespace", "Alexa.Discovery", "name", "AddOrUpdateReport", "endpoints", 12, "err", err, "took", 3*time.Millisecond)
			}
		})
	}
}

// BenchmarkToken measures Token on its hot path (a cached, valid token),
// which avs calls for every request.
func BenchmarkToken(b *testing.B) {
	sim := lwatest.New(lwatest.Options{})
	tok := sim.Issue()
	dir := b.TempDir()
	if err := newStore(dir).save(stored{RefreshToken: tok.RefreshToken, Source: SourceCBL}); err != nil {
		b.Fatal(err)
	}
	a, err := NewAuthorizer(Config{ClientID: "c", DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	a.access, a.expiry = tok.AccessToken, time.Now().Add(time.Hour)
	ctx := context.Background()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Token(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
