package host

import (
	"bytes"
	"io"
	"log/slog"
	"sync"
)

var ioCopy = io.Copy

// lineLogger returns a writer that logs each complete line at Info with
// stream=name (for what a plugin prints after its handshake).
func lineLogger(l *slog.Logger, name string) io.Writer {
	return &lineWriter{l: l.With("stream", name)}
}

type lineWriter struct {
	mu  sync.Mutex
	l   *slog.Logger
	buf []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.l.Info(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 64<<10 { // a runaway line: log what we have
		w.l.Info(string(w.buf))
		w.buf = nil
	}
	return len(p), nil
}
