package unpi

import (
	"bytes"
	"errors"
	"testing"

	"github.com/avshub/avshub/bridges/zigbee/internal/hexbytes"
)

// Byte vectors from the protocol notes (zigbee-herdsman's encoder).
var vectors = []struct {
	name string
	hex  string
	f    Frame
}{
	{"SYS_PING", "FE 00 21 01 20", Frame{SREQ, SYS, 0x01, nil}},
	{"SYS_PING SRSP", "FE 02 61 01 59 06 3D", Frame{SRSP, SYS, 0x01, []byte{0x59, 0x06}}},
	{"soft reset", "FE 01 41 00 01 41", Frame{AREQ, SYS, 0x00, []byte{0x01}}},
	{"UTIL_GET_DEVICE_INFO", "FE 00 27 00 27", Frame{SREQ, UTIL, 0x00, nil}},
	{"ZDO_STARTUP_FROM_APP", "FE 02 25 40 64 00 03", Frame{SREQ, ZDO, 0x40, []byte{0x64, 0x00}}},
	{"state ZB_COORD", "FE 01 45 C0 09 8D", Frame{AREQ, ZDO, 0xC0, []byte{0x09}}},
	{"AF_REGISTER", "FE 09 24 00 01 04 01 05 00 00 00 00 00 2C", Frame{SREQ, AF, 0x00, []byte{1, 4, 1, 5, 0, 0, 0, 0, 0}}},
	{"AF_DATA_REQUEST on", "FE 0D 24 01 34 12 01 01 06 00 01 00 1E 03 01 01 01 15",
		Frame{SREQ, AF, 0x01, []byte{0x34, 0x12, 1, 1, 6, 0, 1, 0, 0x1E, 3, 1, 1, 1}}},
	{"permit join", "FE 05 25 36 0F FC FF FE 01 E5", Frame{SREQ, ZDO, 0x36, []byte{0x0F, 0xFC, 0xFF, 0xFE, 0x01}}},
	{"device announce", "FE 0D 45 C1 34 12 34 12 EF CD AB 89 67 45 23 01 8E 07",
		Frame{AREQ, ZDO, 0xC1, []byte{0x34, 0x12, 0x34, 0x12, 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01, 0x8E}}},
	{"leave ind", "FE 0D 45 C9 34 12 EF CD AB 89 67 45 23 01 00 00 00 A7",
		Frame{AREQ, ZDO, 0xC9, []byte{0x34, 0x12, 0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0}}},
	{"active ep rsp", "FE 08 45 85 34 12 00 34 12 02 01 F2 39", Frame{AREQ, ZDO, 0x85, []byte{0x34, 0x12, 0, 0x34, 0x12, 2, 1, 0xF2}}},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			raw := hexbytes.Must(t, v.hex)
			got, err := v.f.Marshal()
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("Marshal = % X, %v; want % X", got, err, raw)
			}
			f, n, err := Parse(raw)
			if err != nil || n != len(raw) || f.Type != v.f.Type || f.Subsystem != v.f.Subsystem || f.Cmd != v.f.Cmd || !bytes.Equal(f.Data, v.f.Data) {
				t.Fatalf("Parse = %v, %d, %v", f, n, err)
			}
		})
	}
}

func TestDecoderResync(t *testing.T) {
	var stream []byte
	stream = append(stream, 0x00, 0x13, 0xFE, 0xFB, 0x99) // garbage with a SOF and an impossible length (251)
	stream = append(stream, hexbytes.Must(t, "FE 02 61 01 59 06 3D")...)
	stream = append(stream, hexbytes.Must(t, "FE 01 61 01 00 77")...) // bad FCS
	stream = append(stream, hexbytes.Must(t, "FE 01 45 C0 09 8D")...)
	var d Decoder
	var got []Frame
	bad := 0
	// Feed byte by byte: frames split across reads must still decode.
	for _, c := range stream {
		d.Write([]byte{c})
		for {
			f, err := d.Next()
			if errors.Is(err, ErrShort) {
				break
			}
			if err != nil {
				bad++
				continue
			}
			got = append(got, f)
		}
	}
	if len(got) != 2 || got[0].Cmd != 0x01 || got[1].Cmd != 0xC0 {
		t.Fatalf("frames %v", got)
	}
	if bad != 2 || d.BadFrames != 2 {
		t.Fatalf("bad candidates %d/%d, want 2", bad, d.BadFrames)
	}
}

func TestDecoderFlushStalledFrame(t *testing.T) {
	var d Decoder
	d.Write(hexbytes.Must(t, "FE 40 45")) // a SOF whose length promises more than will come
	d.Write(hexbytes.Must(t, "FE 01 45 C0 09 8D"))
	if _, err := d.Next(); !errors.Is(err, ErrShort) {
		t.Fatalf("want ErrShort while the stalled frame waits, got %v", err)
	}
	if !d.Flush() {
		t.Fatal("Flush dropped nothing")
	}
	f, err := d.Next()
	if err != nil || f.Cmd != 0xC0 {
		t.Fatalf("after flush: %v %v", f, err)
	}
}

func TestTooLong(t *testing.T) {
	if _, err := (Frame{Type: SREQ, Subsystem: AF, Data: make([]byte, 251)}).Marshal(); !errors.Is(err, ErrTooLong) {
		t.Fatalf("251 data bytes: %v", err)
	}
}

func FuzzDecoder(f *testing.F) {
	for _, v := range vectors {
		f.Add(hexbytes.Must(f, v.hex))
	}
	f.Add([]byte{0xFE, 0xFF, 0xFE})
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Decoder
		d.Write(b)
		for i := 0; i < len(b)+1; i++ {
			fr, err := d.Next()
			if errors.Is(err, ErrShort) {
				break
			}
			if err != nil {
				continue
			}
			// Every decoded frame re-encodes to a frame that decodes the same.
			raw, err := fr.Marshal()
			if err != nil {
				t.Fatalf("decoded frame does not encode: %v", err)
			}
			g, _, err := Parse(raw)
			if err != nil || g.Cmd != fr.Cmd || !bytes.Equal(g.Data, fr.Data) {
				t.Fatalf("round trip: %v %v", g, err)
			}
		}
		if d.Pending() > len(b) {
			t.Fatal("decoder grew its buffer")
		}
	})
}
