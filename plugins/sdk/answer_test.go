package sdk

import (
	"context"
	"testing"
	"time"
)

func TestAnswerMargin(t *testing.T) {
	for _, c := range []struct{ left, want time.Duration }{
		{0, 100 * time.Millisecond},
		{200 * time.Millisecond, 100 * time.Millisecond},
		{1200 * time.Millisecond, 300 * time.Millisecond},
		{7 * time.Second, time.Second},
		{time.Hour, time.Second},
	} {
		if got := AnswerMargin(c.left); got != c.want {
			t.Errorf("AnswerMargin(%s) = %s, want %s", c.left, got, c.want)
		}
	}
}

func TestWaitLeft(t *testing.T) {
	if got := WaitLeft(context.Background(), 3*time.Second); got != 3*time.Second {
		t.Errorf("no deadline: WaitLeft = %s, want the limit", got)
	}
	for _, c := range []struct {
		name   string
		left   time.Duration
		limit  time.Duration
		lo, hi time.Duration
	}{
		{"the limit first", 7 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second},
		{"a quarter kept", 1200 * time.Millisecond, 3 * time.Second, 600 * time.Millisecond, 900 * time.Millisecond},
		{"at most 1 s kept", 10 * time.Second, time.Minute, 8500 * time.Millisecond, 9 * time.Second},
		{"no time left", 50 * time.Millisecond, time.Second, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), c.left)
			defer cancel()
			if got := WaitLeft(ctx, c.limit); got < c.lo || got > c.hi {
				t.Errorf("WaitLeft(%s left, limit %s) = %s, want %s–%s", c.left, c.limit, got, c.lo, c.hi)
			}
		})
	}
}
