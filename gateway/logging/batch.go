package logging

import (
	"io"
	"sync"
	"time"
)

// BatchInterval is how long BatchWriter holds a log line at most.
const BatchInterval = 20 * time.Millisecond

// batchLimit is how many held bytes make BatchWriter write at once.
const batchLimit = 32 << 10

// BatchWriter gathers what is written to it and passes it on to the
// underlying writer at most BatchInterval later, in one write (at once when
// batchLimit bytes are held, and on Flush and Close).
//
// Why: the hub logs a line per directive, after its round trip. A write to
// stderr is a blocking system call, and the first one after the process went
// idle wakes the Go runtime's monitor thread (sysmon) from its deep sleep; it
// then polls every 20 µs until the process is idle again: a futex wake-up,
// sleeps and context switches per directive, on a path whose sockets no
// longer enter the runtime's system-call bookkeeping (package rawconn). Held
// for up to 20 ms, the lines of a burst of directives leave in one write.
// What a crash can lose is the last 20 ms of lines; a panic's own report is
// written by the runtime directly.
type BatchWriter struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	timer  *time.Timer
	closed bool
}

// NewBatchWriter returns a BatchWriter in front of w.
func NewBatchWriter(w io.Writer) *BatchWriter {
	b := &BatchWriter{w: w}
	b.timer = time.AfterFunc(time.Hour, func() { _ = b.Flush() })
	b.timer.Stop()
	return b
}

// Write holds p (a copy) for the next batch. A failed write of a batch is
// dropped, as a failed log write was before (slog ignores it).
func (b *BatchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return b.w.Write(p)
	}
	if len(b.buf) == 0 {
		b.timer.Reset(BatchInterval)
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= batchLimit {
		_ = b.flushLocked()
	}
	return len(p), nil
}

// Flush writes what is held now.
func (b *BatchWriter) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *BatchWriter) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	b.timer.Stop()
	_, err := b.w.Write(b.buf)
	if cap(b.buf) > 4*batchLimit {
		b.buf = nil
	} else {
		b.buf = b.buf[:0]
	}
	return err
}

// Close writes what is held and stops the timer. Writes after Close pass
// through at once.
func (b *BatchWriter) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.timer.Stop()
	return b.flushLocked()
}
