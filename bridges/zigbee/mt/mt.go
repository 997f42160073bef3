// Package mt is a Z-Stack Monitor and Test (MT) client over any io.ReadWriter:
// one SREQ in flight matched to its SRSP (or to the subsystem-0 RPC error),
// AREQs offered to one-shot waiters and then to an event stream.
package mt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/unpi"
)

// Documented timeouts (zigbee-herdsman's znp.js).
const (
	// SREQTimeout bounds an ordinary SREQ/SRSP exchange.
	SREQTimeout = 6 * time.Second
	// SlowSREQTimeout bounds ZDO_STARTUP_FROM_APP and APP_CNF_BDB_START_COMMISSIONING.
	SlowSREQTimeout = 40 * time.Second
	// ResetTimeout bounds the wait for SYS_RESET_IND after SYS_RESET_REQ.
	ResetTimeout = 30 * time.Second
	// AREQTimeout is the default wait for an AREQ callback.
	AREQTimeout = 10 * time.Second
	// BootloaderPingTimeout bounds a ping while probing for a bootloader.
	BootloaderPingTimeout = 250 * time.Millisecond
)

// RPCError is the ZNP's SRSP 0x60 0x00: it did not accept a request.
type RPCError struct {
	Code       uint8 // 1 invalid subsystem, 2 invalid command, 3 invalid parameter, 4 invalid length
	Cmd0, Cmd1 uint8
}

// Error describes the rejection.
func (e *RPCError) Error() string {
	names := map[uint8]string{1: "invalid subsystem", 2: "invalid command id", 3: "invalid parameter", 4: "invalid length"}
	n := names[e.Code]
	if n == "" {
		n = fmt.Sprintf("code %d", e.Code)
	}
	return fmt.Sprintf("mt: ZNP rejected request %02x %02x: %s", e.Cmd0, e.Cmd1, n)
}

// TimeoutError says that an SRSP or an AREQ did not arrive in time.
type TimeoutError struct{ What string }

// Error says what did not arrive.
func (e *TimeoutError) Error() string { return "mt: timeout waiting for " + e.What }

// Timeout marks the error as a timeout (discovery.AsError maps it to unreachable).
func (e *TimeoutError) Timeout() bool { return true }

// ErrClosed is returned once the link has failed or been closed.
var ErrClosed = errors.New("mt: link closed")

// Options configure a Client.
type Options struct {
	// Logger receives bad-frame and overflow warnings (slog.Default() if nil).
	Logger *slog.Logger
	// Trace, if set, sees every frame written (out=true) and every valid frame read.
	Trace func(out bool, raw []byte)
	// IdleFlush is how long a partial frame may wait for its remaining bytes
	// before the decoder resynchronises (default 500 ms; a stick sends a frame
	// in a few ms, so only garbage that looks like a frame start waits that long).
	IdleFlush time.Duration
	// EventBuffer is the event channel's capacity (default 1024).
	EventBuffer int
}

type pending struct {
	sub unpi.Subsystem
	cmd uint8
	ch  chan result
}

type result struct {
	data []byte
	err  error
}

// Waiter is a one-shot AREQ matcher.
type Waiter struct {
	match func(unpi.Frame) bool
	// C receives the first matching AREQ.
	C  chan unpi.Frame
	cl *Client
}

// Cancel removes the waiter if it has not fired.
func (w *Waiter) Cancel() {
	w.cl.mu.Lock()
	defer w.cl.mu.Unlock()
	for i, x := range w.cl.waiters {
		if x == w {
			w.cl.waiters = append(w.cl.waiters[:i], w.cl.waiters[i+1:]...)
			return
		}
	}
}

// Client speaks MT over a radio link.
type Client struct {
	rw      io.ReadWriter
	log     *slog.Logger
	o       Options
	sreq    chan struct{}
	wmu     sync.Mutex
	mu      sync.Mutex
	pend    *pending
	waiters []*Waiter
	events  chan unpi.Frame
	done    chan struct{}
	err     error
	// Dropped counts AREQ events dropped because the event channel was full.
	dropped int
}

// New returns a client for rw. Call Run to start reading.
func New(rw io.ReadWriter, o Options) *Client {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.IdleFlush <= 0 {
		o.IdleFlush = 500 * time.Millisecond
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = 1024
	}
	return &Client{rw: rw, log: o.Logger, o: o, sreq: make(chan struct{}, 1),
		events: make(chan unpi.Frame, o.EventBuffer), done: make(chan struct{})}
}

// Events delivers every AREQ from the ZNP (after waiters have seen it). It is
// closed when Run returns.
func (c *Client) Events() <-chan unpi.Frame { return c.events }

// Done is closed when the link has ended; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the link ended (nil while it runs).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Run reads frames until the link fails or ctx ends. When ctx ends it closes
// rw if rw is an io.Closer (a blocked read cannot be stopped otherwise).
func (c *Client) Run(ctx context.Context) error {
	chunks := make(chan []byte, 16)
	rerr := make(chan error, 1)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 512)
			n, err := c.rw.Read(buf)
			if n > 0 {
				select {
				case chunks <- buf[:n]:
				case <-ctx.Done():
					rerr <- ctx.Err()
					return
				}
			}
			if err != nil {
				rerr <- err
				return
			}
		}
	}()
	var dec unpi.Decoder
	idle := time.NewTimer(time.Hour)
	idle.Stop()
	var end error
loop:
	for {
		select {
		case <-ctx.Done():
			end = ctx.Err()
			break loop
		case b, ok := <-chunks:
			if !ok {
				end = <-rerr
				if end == nil || errors.Is(end, io.EOF) {
					end = io.ErrUnexpectedEOF
				}
				break loop
			}
			dec.Write(b)
			c.drain(&dec)
			if dec.Pending() > 0 {
				idle.Reset(c.o.IdleFlush)
			} else {
				idle.Stop()
			}
		case <-idle.C:
			if len(chunks) > 0 {
				// Bytes arrived while the timer fired: the line is not idle.
				idle.Reset(c.o.IdleFlush)
				continue
			}
			if dec.Flush() {
				c.log.Warn("zigbee link: partial frame timed out; resynchronising")
				c.drain(&dec)
				if dec.Pending() > 0 {
					idle.Reset(c.o.IdleFlush)
				}
			}
		}
	}
	if cl, ok := c.rw.(io.Closer); ok {
		_ = cl.Close()
	}
	c.mu.Lock()
	c.err = fmt.Errorf("mt: link: %w", end)
	if c.pend != nil {
		c.pend.ch <- result{err: ErrClosed}
		c.pend = nil
	}
	c.mu.Unlock()
	close(c.done)
	close(c.events)
	// Let the reader goroutine end (the port is closed or ctx is done).
	for range chunks {
	}
	if ctx.Err() != nil {
		return nil
	}
	return c.err
}

func (c *Client) drain(dec *unpi.Decoder) {
	for {
		f, err := dec.Next()
		if errors.Is(err, unpi.ErrShort) {
			return
		}
		if err != nil {
			c.log.Warn("zigbee link: dropped bad frame", "err", err)
			continue
		}
		if c.o.Trace != nil {
			raw, _ := f.Marshal()
			c.o.Trace(false, raw)
		}
		c.dispatch(f)
	}
}

func (c *Client) dispatch(f unpi.Frame) {
	switch f.Type {
	case unpi.SRSP:
		c.mu.Lock()
		p := c.pend
		var r result
		matched := false
		if p != nil {
			if f.Subsystem == p.sub && f.Cmd == p.cmd {
				r, matched = result{data: f.Data}, true
			} else if f.Subsystem == unpi.RPCError && f.Cmd == 0 && len(f.Data) >= 3 &&
				f.Data[1]&0x1F == byte(p.sub) && f.Data[2] == p.cmd {
				r, matched = result{err: &RPCError{Code: f.Data[0], Cmd0: f.Data[1], Cmd1: f.Data[2]}}, true
			}
		}
		if matched {
			c.pend = nil
			p.ch <- r
		}
		c.mu.Unlock()
		if !matched {
			c.log.Warn("zigbee link: unexpected SRSP", "frame", f.String())
		}
	case unpi.AREQ:
		c.mu.Lock()
		kept := c.waiters[:0]
		for _, w := range c.waiters {
			if w.match(f) {
				w.C <- f
				continue
			}
			kept = append(kept, w)
		}
		for i := len(kept); i < len(c.waiters); i++ {
			c.waiters[i] = nil
		}
		c.waiters = kept
		c.mu.Unlock()
		select {
		case c.events <- f:
		default:
			c.mu.Lock()
			c.dropped++
			n := c.dropped
			c.mu.Unlock()
			if n == 1 || n%1000 == 0 {
				c.log.Warn("zigbee link: event buffer full; dropping callbacks", "dropped", n)
			}
		}
	default:
		c.log.Warn("zigbee link: unexpected frame type", "frame", f.String())
	}
}

// Wait registers a one-shot waiter for an AREQ. Register it before sending the
// request that triggers the AREQ, and Cancel it when giving up.
func (c *Client) Wait(match func(unpi.Frame) bool) *Waiter {
	w := &Waiter{match: match, C: make(chan unpi.Frame, 1), cl: c}
	c.mu.Lock()
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	return w
}

// Await waits for w's AREQ for at most timeout (AREQTimeout if 0). It cancels w
// on failure.
func (c *Client) Await(ctx context.Context, w *Waiter, timeout time.Duration, what string) (unpi.Frame, error) {
	if timeout <= 0 {
		timeout = AREQTimeout
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case f := <-w.C:
		return f, nil
	case <-ctx.Done():
		w.Cancel()
		return unpi.Frame{}, ctx.Err()
	case <-c.done:
		w.Cancel()
		return unpi.Frame{}, ErrClosed
	case <-t.C:
		w.Cancel()
		return unpi.Frame{}, &TimeoutError{What: what}
	}
}

// MatchAREQ returns a matcher for AREQs of sub/cmd whose data satisfies pred (nil: any).
func MatchAREQ(sub unpi.Subsystem, cmd uint8, pred func(data []byte) bool) func(unpi.Frame) bool {
	return func(f unpi.Frame) bool {
		return f.Subsystem == sub && f.Cmd == cmd && (pred == nil || pred(f.Data))
	}
}

// TimeoutFor returns the SRSP timeout documented for a request.
func TimeoutFor(sub unpi.Subsystem, cmd uint8) time.Duration {
	if (sub == unpi.ZDO && cmd == 0x40) || (sub == unpi.APPCNF && cmd == 0x05) {
		return SlowSREQTimeout
	}
	return SREQTimeout
}

// Request sends one SREQ and returns its SRSP data. Only one SREQ is in flight
// at a time; the wait is bounded by ctx and by timeout (TimeoutFor if 0).
func (c *Client) Request(ctx context.Context, sub unpi.Subsystem, cmd uint8, data []byte, timeout time.Duration) ([]byte, error) {
	if timeout <= 0 {
		timeout = TimeoutFor(sub, cmd)
	}
	select {
	case c.sreq <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, ErrClosed
	}
	release := true
	defer func() {
		if release {
			<-c.sreq
		}
	}()
	p := &pending{sub: sub, cmd: cmd, ch: make(chan result, 1)}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	c.pend = p
	c.mu.Unlock()
	clear := func() {
		c.mu.Lock()
		if c.pend == p {
			c.pend = nil
		}
		c.mu.Unlock()
	}
	if err := c.write(unpi.Frame{Type: unpi.SREQ, Subsystem: sub, Cmd: cmd, Data: data}); err != nil {
		clear()
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-p.ch:
		return r.data, r.err
	case <-ctx.Done():
		// The ZNP still owes this SRSP: keep the slot until it arrives (or the
		// timeout passes), so it cannot be taken for the next request's answer.
		release = false
		rest := time.NewTimer(time.Until(deadline))
		go func() {
			defer rest.Stop()
			select {
			case <-p.ch:
			case <-rest.C:
				clear()
			case <-c.done:
			}
			<-c.sreq
		}()
		return nil, ctx.Err()
	case <-t.C:
		clear()
		return nil, &TimeoutError{What: fmt.Sprintf("SRSP to %02x %02x", unpi.Frame{Type: unpi.SREQ, Subsystem: sub}.CMD0(), cmd)}
	}
}

// Send writes an AREQ from the host (e.g. SYS_RESET_REQ); nothing is answered synchronously.
func (c *Client) Send(sub unpi.Subsystem, cmd uint8, data []byte) error {
	return c.write(unpi.Frame{Type: unpi.AREQ, Subsystem: sub, Cmd: cmd, Data: data})
}

// WriteRaw writes bytes as they are (the 0xEF bootloader skip).
func (c *Client) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.rw.Write(b); err != nil {
		return fmt.Errorf("mt: write: %w", err)
	}
	return nil
}

func (c *Client) write(f unpi.Frame) error {
	raw, err := f.Marshal()
	if err != nil {
		return err
	}
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.o.Trace != nil {
		c.o.Trace(true, raw)
	}
	if _, err := c.rw.Write(raw); err != nil {
		return fmt.Errorf("mt: write: %w", err)
	}
	return nil
}
