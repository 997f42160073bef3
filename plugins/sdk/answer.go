package sdk

import (
	"context"
	"time"
)

// The part of a command's time a bridge keeps for its answer's way back.
const (
	minAnswerMargin = 100 * time.Millisecond
	maxAnswerMargin = time.Second
)

// AnswerMargin is how much of a command's remaining time, left, a bridge's
// Execute keeps for its answer's way back to the hub (the gRPC reply, the
// hub's goroutine waking on a loaded machine): a quarter of it, at least
// 100 ms and at most 1 s. A fixed margin is too thin for a short deadline on
// a busy Raspberry Pi and needlessly wide for a long one.
func AnswerMargin(left time.Duration) time.Duration {
	return min(max(left/4, minAnswerMargin), maxAnswerMargin)
}

// AnswerBy returns when an Execute whose answer is due at deadline should
// stop waiting for its device and answer (Done, Accepted or an error):
// deadline less its AnswerMargin.
func AnswerBy(deadline time.Time) time.Time {
	return deadline.Add(-AnswerMargin(time.Until(deadline)))
}

// WaitLeft returns how long an Execute running under ctx may still wait for
// its device, at most limit: until AnswerBy of ctx's deadline (never less than
// zero), or limit when ctx has no deadline. The SDK gives Execute a ctx that
// ends at the request's deadline.
func WaitLeft(ctx context.Context, limit time.Duration) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return limit
	}
	return min(limit, max(0, time.Until(AnswerBy(dl))))
}
