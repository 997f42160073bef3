package rawconn

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pair returns both ends of a connected socket of the network, the first wrapped.
func pair(t *testing.T, network string) (wrapped, peer net.Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s")
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		acc <- c
	}()
	c, err := net.Dial(network, l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p := <-acc
	if p == nil {
		t.FailNow()
	}
	w := Wrap(c)
	if _, ok := w.(*Conn); !ok {
		t.Fatalf("Wrap(%T) = %T, want *Conn", c, w)
	}
	t.Cleanup(func() { w.Close(); p.Close() })
	return w, p
}

func TestConn(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			// Far more than a socket's buffer: writes are partial and wait
			// for the peer to read (EAGAIN), reads come in pieces.
			data := make([]byte, 8<<20)
			_, _ = rand.Read(data)

			w, p := pair(t, network)
			got := make(chan []byte, 1)
			go func() { b, _ := io.ReadAll(p); got <- b }()
			n, err := w.Write(data)
			if err != nil || n != len(data) {
				t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(data))
			}
			if err := w.(*Conn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			if b := <-got; !bytes.Equal(b, data) {
				t.Fatalf("the peer read %d bytes, not the %d written", len(b), len(data))
			}

			go func() { _, _ = p.Write(data); p.Close() }()
			b, err := io.ReadAll(w)
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if !bytes.Equal(b, data) {
				t.Fatalf("read %d bytes, not the %d the peer wrote", len(b), len(data))
			}
			if n, err := w.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Fatalf("Read after the peer closed = %d, %v; want 0, EOF", n, err)
			}
			if n, err := w.Read(nil); n != 0 || err != nil {
				t.Fatalf("Read(nil) = %d, %v; want 0, nil", n, err)
			}
		})
	}
}

func TestDeadlineAndClose(t *testing.T) {
	w, _ := pair(t, "tcp")
	if err := w.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err := w.Read(make([]byte, 10))
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past the deadline = %v; want a timeout (os.ErrDeadlineExceeded)", err)
	}
	_ = w.SetReadDeadline(time.Time{})
	w.Close()
	if _, err := w.Read(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read after Close = %v; want net.ErrClosed", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Close = %v; want net.ErrClosed", err)
	}
}

func TestWriteToAClosedPeer(t *testing.T) {
	w, p := pair(t, "unix")
	p.Close()
	var err error
	for range 100 { // the first writes may still be buffered
		if _, err = w.Write([]byte("hello")); err != nil {
			break
		}
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "write" {
		t.Fatalf("Write to a closed peer = %v; want a *net.OpError of write (EPIPE)", err)
	}
}

func TestWrapLeavesOthersAlone(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if w := Wrap(a); w != a {
		t.Fatalf("Wrap(net.Pipe end) = %T, want it unchanged", w)
	}
}
