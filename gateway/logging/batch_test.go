package logging

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the BatchWriter's timer goroutine,
// counting the writes it gets.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}

func (s *syncBuffer) get() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String(), s.writes
}

func TestBatchWriter(t *testing.T) {
	var out syncBuffer
	b := NewBatchWriter(&out)
	lines := []string{"a=1\n", "b=2\n", "c=3\n"}
	for _, l := range lines {
		if n, err := b.Write([]byte(l)); n != len(l) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	if s, w := out.get(); s != strings.Join(lines, "") || w != 1 {
		t.Fatalf("after Flush: %q in %d writes; want the three lines in one", s, w)
	}

	// What reaches the limit leaves at once.
	big := bytes.Repeat([]byte("x"), batchLimit)
	_, _ = b.Write(big)
	if s, w := out.get(); len(s) != len(strings.Join(lines, ""))+batchLimit || w != 2 {
		t.Fatalf("a write of batchLimit bytes was held (%d bytes in %d writes)", len(s), w)
	}

	// A held line leaves by itself after BatchInterval.
	_, _ = b.Write([]byte("d=4\n"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s, _ := out.get(); strings.HasSuffix(s, "d=4\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a held line never left")
		}
		time.Sleep(time.Millisecond)
	}

	// Close writes what is held; later writes pass through.
	_, _ = b.Write([]byte("e=5\n"))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if s, _ := out.get(); !strings.HasSuffix(s, "d=4\ne=5\n") {
		t.Fatalf("Close left a line held: %q", s[len(s)-8:])
	}
	_, _ = b.Write([]byte("f=6\n"))
	if s, _ := out.get(); !strings.HasSuffix(s, "e=5\nf=6\n") {
		t.Fatal("a write after Close was held")
	}
}
