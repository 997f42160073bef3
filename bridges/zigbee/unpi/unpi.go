// Package unpi encodes and decodes TI UNPI frames (SOF, LEN, CMD0, CMD1, DATA,
// FCS), the link layer of the Z-Stack Monitor and Test (MT) protocol.
package unpi

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// SOF is the start-of-frame byte.
const SOF = 0xFE

// MaxData is the largest data field a frame carries.
const MaxData = 250

// Type is an MT command type (CMD0 bits 7..5).
type Type uint8

// MT command types.
const (
	POLL Type = 0
	SREQ Type = 1
	AREQ Type = 2
	SRSP Type = 3
)

// String names the type.
func (t Type) String() string {
	switch t {
	case POLL:
		return "POLL"
	case SREQ:
		return "SREQ"
	case AREQ:
		return "AREQ"
	case SRSP:
		return "SRSP"
	}
	return fmt.Sprintf("TYPE%d", uint8(t))
}

// Subsystem is an MT subsystem (CMD0 bits 4..0).
type Subsystem uint8

// MT subsystems.
const (
	RPCError Subsystem = 0x00
	SYS      Subsystem = 0x01
	MAC      Subsystem = 0x02
	NWK      Subsystem = 0x03
	AF       Subsystem = 0x04
	ZDO      Subsystem = 0x05
	SAPI     Subsystem = 0x06
	UTIL     Subsystem = 0x07
	DEBUG    Subsystem = 0x08
	APP      Subsystem = 0x09
	APPCNF   Subsystem = 0x0F
	GP       Subsystem = 0x15
)

// Frame is one decoded MT frame.
type Frame struct {
	Type      Type
	Subsystem Subsystem
	Cmd       uint8
	Data      []byte
}

// CMD0 returns the frame's first command byte.
func (f Frame) CMD0() byte { return byte(f.Type)<<5 | byte(f.Subsystem)&0x1F }

// String renders the frame for logs, e.g. "SREQ SYS 0x01 []".
func (f Frame) String() string {
	return fmt.Sprintf("%s sub=0x%02x cmd=0x%02x data=%s", f.Type, uint8(f.Subsystem), f.Cmd, hex.EncodeToString(f.Data))
}

// ErrTooLong is returned when a frame's data exceeds MaxData.
var ErrTooLong = errors.New("unpi: data longer than 250 bytes")

// Append appends the encoded frame to b.
func (f Frame) Append(b []byte) ([]byte, error) {
	if len(f.Data) > MaxData {
		return b, ErrTooLong
	}
	start := len(b)
	b = append(b, SOF, byte(len(f.Data)), f.CMD0(), f.Cmd)
	b = append(b, f.Data...)
	return append(b, FCS(b[start+1:])), nil
}

// Marshal returns the encoded frame.
func (f Frame) Marshal() ([]byte, error) { return f.Append(make([]byte, 0, 5+len(f.Data))) }

// FCS is the XOR of every byte of b (LEN, CMD0, CMD1 and data).
func FCS(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

// Errors from Parse and Decoder.
var (
	ErrShort  = errors.New("unpi: frame incomplete")
	ErrNoSOF  = errors.New("unpi: frame does not start with SOF")
	ErrBadFCS = errors.New("unpi: bad FCS")
	ErrBadLen = errors.New("unpi: length field over 250")
)

// Parse decodes exactly one frame at the start of b and returns it with the
// number of bytes it used. The returned Data is a copy.
func Parse(b []byte) (Frame, int, error) {
	if len(b) < 1 {
		return Frame{}, 0, ErrShort
	}
	if b[0] != SOF {
		return Frame{}, 0, ErrNoSOF
	}
	if len(b) < 2 {
		return Frame{}, 0, ErrShort
	}
	n := int(b[1])
	if n > MaxData {
		return Frame{}, 0, ErrBadLen
	}
	if len(b) < 5+n {
		return Frame{}, 0, ErrShort
	}
	if FCS(b[1:4+n]) != b[4+n] {
		return Frame{}, 5 + n, ErrBadFCS
	}
	f := Frame{Type: Type(b[2] >> 5), Subsystem: Subsystem(b[2] & 0x1F), Cmd: b[3], Data: append([]byte(nil), b[4:4+n]...)}
	return f, 5 + n, nil
}

// Decoder cuts a byte stream into frames. It skips bytes before a SOF, and
// when a candidate frame has a bad FCS or an impossible length it drops only
// the SOF byte and rescans, so a real frame hidden behind garbage is found.
type Decoder struct {
	buf []byte
	// Skipped counts bytes discarded as garbage; BadFrames counts bad-FCS or bad-length candidates.
	Skipped, BadFrames int
}

// Write appends stream bytes to the decoder.
func (d *Decoder) Write(p []byte) (int, error) {
	d.buf = append(d.buf, p...)
	return len(p), nil
}

// Pending reports how many bytes wait for the rest of a frame.
func (d *Decoder) Pending() int { return len(d.buf) }

// Next returns the next complete frame. It returns ErrShort when more bytes
// are needed, and ErrBadFCS or ErrBadLen (once per bad candidate, already
// skipped) so the caller can log it and call Next again.
func (d *Decoder) Next() (Frame, error) {
	for {
		i := 0
		for i < len(d.buf) && d.buf[i] != SOF {
			i++
		}
		if i > 0 {
			d.Skipped += i
			d.consume(i)
		}
		if len(d.buf) == 0 {
			return Frame{}, ErrShort
		}
		f, n, err := Parse(d.buf)
		switch {
		case err == nil:
			d.consume(n)
			return f, nil
		case errors.Is(err, ErrShort):
			return Frame{}, ErrShort
		default: // bad FCS or length: drop this SOF and resynchronise
			d.BadFrames++
			d.Skipped++
			d.consume(1)
			return Frame{}, err
		}
	}
}

// Flush discards a stalled partial frame's SOF (call it when the line has been
// idle with bytes pending) so the decoder can resynchronise; it returns whether
// anything was dropped.
func (d *Decoder) Flush() bool {
	if len(d.buf) == 0 {
		return false
	}
	d.Skipped++
	d.consume(1)
	return true
}

func (d *Decoder) consume(n int) {
	m := copy(d.buf, d.buf[n:])
	d.buf = d.buf[:m]
}
