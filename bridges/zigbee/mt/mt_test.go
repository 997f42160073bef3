package mt

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/unpi"
)

// fakeZNP answers frames with a script function.
type fakeZNP struct {
	conn net.Conn
	mu   sync.Mutex
	got  []unpi.Frame
}

func (z *fakeZNP) send(t *testing.T, f unpi.Frame) {
	raw, err := f.Marshal()
	if err != nil {
		t.Error(err)
		return
	}
	_, _ = z.conn.Write(raw)
}

func (z *fakeZNP) sendRaw(b []byte) { _, _ = z.conn.Write(b) }

func start(t *testing.T, script func(z *fakeZNP, f unpi.Frame)) (*Client, *fakeZNP) {
	t.Helper()
	a, b := net.Pipe()
	z := &fakeZNP{conn: b}
	c := New(a, Options{IdleFlush: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	go func() {
		var d unpi.Decoder
		buf := make([]byte, 256)
		for {
			n, err := b.Read(buf)
			if err != nil {
				return
			}
			d.Write(buf[:n])
			for {
				f, err := d.Next()
				if err != nil {
					break
				}
				z.mu.Lock()
				z.got = append(z.got, f)
				z.mu.Unlock()
				script(z, f)
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		b.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return c, z
}

func TestRequestMatchesSRSPWithAREQInBetween(t *testing.T) {
	c, _ := start(t, func(z *fakeZNP, f unpi.Frame) {
		if f.Type == unpi.SREQ && f.Subsystem == unpi.SYS && f.Cmd == SysPing {
			z.send(t, unpi.Frame{Type: unpi.AREQ, Subsystem: unpi.ZDO, Cmd: ZdoStateChangeInd, Data: []byte{9}})
			z.send(t, unpi.Frame{Type: unpi.SRSP, Subsystem: unpi.UTIL, Cmd: 0x00, Data: []byte{0xAA}}) // stray SRSP: not ours
			z.sendRaw([]byte{0x00, 0xFE, 0xFB, 0x11})                                                   // garbage
			z.send(t, unpi.Frame{Type: unpi.SRSP, Subsystem: unpi.SYS, Cmd: SysPing, Data: []byte{0x59, 0x06}})
		}
	})
	w := c.Wait(MatchAREQ(unpi.ZDO, ZdoStateChangeInd, func(d []byte) bool { return d[0] == 9 }))
	d, err := c.Request(context.Background(), unpi.SYS, SysPing, nil, time.Second)
	if err != nil || !bytes.Equal(d, []byte{0x59, 0x06}) {
		t.Fatalf("ping: % X %v", d, err)
	}
	if _, err := c.Await(context.Background(), w, time.Second, "state"); err != nil {
		t.Fatalf("waiter: %v", err)
	}
	select {
	case f := <-c.Events():
		if f.Cmd != ZdoStateChangeInd {
			t.Fatalf("event %v", f)
		}
	case <-time.After(time.Second):
		t.Fatal("AREQ not on the event stream")
	}
}

func TestRPCError(t *testing.T) {
	c, _ := start(t, func(z *fakeZNP, f unpi.Frame) {
		if f.Type == unpi.SREQ {
			z.send(t, unpi.Frame{Type: unpi.SRSP, Subsystem: unpi.RPCError, Cmd: 0, Data: []byte{2, f.CMD0(), f.Cmd}})
		}
	})
	_, err := c.Request(context.Background(), unpi.SYS, 0x7F, nil, time.Second)
	var re *RPCError
	if !errors.As(err, &re) || re.Code != 2 || re.Cmd0 != 0x21 || re.Cmd1 != 0x7F {
		t.Fatalf("got %v", err)
	}
}

func TestTimeoutAndOneInFlight(t *testing.T) {
	var mu sync.Mutex
	inflight, maxInflight := 0, 0
	release := make(chan unpi.Frame, 8)
	c, _ := start(t, func(z *fakeZNP, f unpi.Frame) {
		if f.Type != unpi.SREQ {
			return
		}
		mu.Lock()
		inflight++
		maxInflight = max(maxInflight, inflight)
		mu.Unlock()
		if f.Cmd == 0x13 { // never answered
			mu.Lock()
			inflight--
			mu.Unlock()
			return
		}
		go func() {
			time.Sleep(5 * time.Millisecond) // the fake ZNP's processing time
			mu.Lock()
			inflight--
			mu.Unlock()
			z.send(t, unpi.Frame{Type: unpi.SRSP, Subsystem: f.Subsystem, Cmd: f.Cmd, Data: []byte{0}})
			release <- f
		}()
	})
	_, err := c.Request(context.Background(), unpi.SYS, 0x13, nil, 50*time.Millisecond)
	var te *TimeoutError
	if !errors.As(err, &te) || !te.Timeout() {
		t.Fatalf("want a timeout, got %v", err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Request(context.Background(), unpi.SYS, 0x01, nil, time.Second); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if maxInflight != 1 {
		t.Fatalf("%d SREQs in flight at once", maxInflight)
	}
}

func TestLinkLoss(t *testing.T) {
	a, b := net.Pipe()
	c := New(a, Options{})
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	go func() {
		buf := make([]byte, 64)
		_, _ = b.Read(buf) // swallow the request, then unplug
		b.Close()
	}()
	_, err := c.Request(context.Background(), unpi.SYS, SysPing, nil, 5*time.Second)
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("request on a lost link: %v", err)
	}
	if err := <-done; err == nil || !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		t.Logf("Run ended with %v", err)
	}
	if c.Err() == nil {
		t.Fatal("Err is nil after link loss")
	}
	if _, ok := <-c.Events(); ok {
		t.Fatal("events not closed")
	}
}

func TestTimeoutFor(t *testing.T) {
	if TimeoutFor(unpi.ZDO, ZdoStartupFromApp) != SlowSREQTimeout || TimeoutFor(unpi.APPCNF, AppCnfBDBStartCommissioning) != SlowSREQTimeout ||
		TimeoutFor(unpi.SYS, SysPing) != SREQTimeout {
		t.Fatal("documented timeouts")
	}
}

// A request abandoned by its context keeps the slot until its SRSP arrives, so
// the late SRSP is not taken as the next request's answer.
func TestCancelledRequestKeepsItsSRSP(t *testing.T) {
	answer := make(chan unpi.Frame, 4)
	c, z := start(t, func(z *fakeZNP, f unpi.Frame) {
		if f.Type == unpi.SREQ {
			answer <- f
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Request(ctx, unpi.AF, AfDataRequest, []byte{1}, time.Second)
		errc <- err
	}()
	first := <-answer
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v", err)
	}
	second := make(chan []byte, 1)
	go func() {
		d, err := c.Request(context.Background(), unpi.AF, AfDataRequest, []byte{2}, time.Second)
		if err != nil {
			t.Error(err)
		}
		second <- d
	}()
	select {
	case f := <-answer:
		t.Fatalf("second SREQ %v written before the first's SRSP", f)
	case <-time.After(50 * time.Millisecond):
	}
	z.send(t, unpi.Frame{Type: unpi.SRSP, Subsystem: first.Subsystem, Cmd: first.Cmd, Data: []byte{0xAA}}) // late answer to the first
	f := <-answer
	z.send(t, unpi.Frame{Type: unpi.SRSP, Subsystem: f.Subsystem, Cmd: f.Cmd, Data: []byte{0xBB}})
	if d := <-second; !bytes.Equal(d, []byte{0xBB}) {
		t.Fatalf("second request got % X", d)
	}
}
