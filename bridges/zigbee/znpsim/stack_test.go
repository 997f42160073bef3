package znpsim

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
)

// req sends an SREQ and returns its SRSP's data.
func (h *host) req(sub unpi.Subsystem, cmd uint8, data ...byte) []byte {
	h.t.Helper()
	raw, err := unpi.Frame{Type: unpi.SREQ, Subsystem: sub, Cmd: cmd, Data: data}.Marshal()
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.conn.Write(raw); err != nil {
		h.t.Fatal(err)
	}
	return h.await(unpi.SRSP, sub, cmd, time.Now().Add(10*time.Second))
}

// await reads frames until one of type t for sub/cmd arrives (failing at deadline).
func (h *host) await(t unpi.Type, sub unpi.Subsystem, cmd uint8, deadline time.Time) []byte {
	h.t.Helper()
	f, ok := h.next(t, sub, cmd, deadline)
	if !ok {
		h.t.Fatalf("no %v frame %v 0x%02X", t, sub, cmd)
	}
	return f
}

// next is await that reports a timeout instead of failing; an RPC error frame always fails the test.
func (h *host) next(t unpi.Type, sub unpi.Subsystem, cmd uint8, deadline time.Time) ([]byte, bool) {
	h.t.Helper()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case raw := <-h.frames:
			var d unpi.Decoder
			d.Write(raw)
			f, err := d.Next()
			if err != nil {
				h.t.Fatalf("bad frame % X: %v", raw, err)
			}
			if f.Subsystem == unpi.RPCError {
				h.t.Fatalf("RPC error frame % X", raw)
			}
			if f.Type == t && f.Subsystem == sub && f.Cmd == cmd {
				return f.Data, true
			}
		case <-timer.C:
			return nil, false
		}
	}
}

func nvWrite(h *host, id uint16, v []byte) {
	h.t.Helper()
	init := binary.LittleEndian.AppendUint16(nil, id)
	init = binary.LittleEndian.AppendUint16(init, uint16(len(v)))
	init = append(append(init, byte(len(v))), v...)
	if st := h.req(unpi.SYS, mt.SysNVItemInit, init...); st[0] != mt.StatusSuccess && st[0] != mt.StatusNVItemUninit {
		h.t.Fatalf("NV init 0x%04X: status 0x%02X", id, st[0])
	}
	w := binary.LittleEndian.AppendUint16(nil, id)
	w = binary.LittleEndian.AppendUint16(w, 0)
	w = binary.LittleEndian.AppendUint16(w, uint16(len(v)))
	if st := h.req(unpi.SYS, mt.SysNVWriteExt, append(w, v...)...); st[0] != mt.StatusSuccess {
		h.t.Fatalf("NV write 0x%04X: status 0x%02X", id, st[0])
	}
}

func nvRead(h *host, id uint16) []byte {
	h.t.Helper()
	n := binary.LittleEndian.Uint16(h.req(unpi.SYS, mt.SysNVLength, byte(id), byte(id>>8)))
	var out []byte
	for len(out) < int(n) {
		d := h.req(unpi.SYS, mt.SysNVReadExt, byte(id), byte(id>>8), byte(len(out)), byte(len(out)>>8))
		if d[0] != mt.StatusSuccess {
			h.t.Fatalf("NV read 0x%04X: status 0x%02X", id, d[0])
		}
		out = append(out, d[2:2+int(d[1])]...)
	}
	return out
}

var testKey = []byte{0x5A, 0x31, 0x9C, 0x04, 0xE8, 0x77, 0x10, 0x2B, 0xC6, 0x4F, 0x93, 0x0D, 0x71, 0xAA, 0x28, 0xF5}

// commission writes the network parameters the way zigbee-herdsman does and forms.
func commission(h *host, keysEnable byte) {
	h.t.Helper()
	nvWrite(h, mt.NVPANID, []byte{0x62, 0x1A})
	nvWrite(h, mt.NVChanList, []byte{0x00, 0x80, 0x00, 0x00}) // channel 15
	nvWrite(h, mt.NVExtendedPANID, []byte{8, 7, 6, 5, 4, 3, 2, 1})
	nvWrite(h, mt.NVPreCfgKeysEnable, []byte{keysEnable})
	nvWrite(h, mt.NVPreCfgKey, testKey)
	h.form()
}

// TestNVLayoutOfAFormedStick checks what a host reads from a formed stick:
// ZCD_NV_NWKKEY's aligned length, the aligned 116-byte NIB and the keys,
// formed with PRECFGKEY although PRECFGKEYS_ENABLE is 0.
func TestNVLayoutOfAFormedStick(t *testing.T) {
	_, h := newHost(t, testSpecs())
	if n := binary.LittleEndian.Uint16(h.req(unpi.SYS, mt.SysNVLength, 0x82, 0x00)); n != 24 {
		t.Fatalf("ZCD_NV_NWKKEY length %d, want 24 (aligned)", n)
	}
	commission(h, 0)
	nib := nvRead(h, mt.NVNIB)
	if len(nib) != 116 {
		t.Fatalf("NIB is %d bytes, want 116", len(nib))
	}
	if nib[24] != 15 || binary.LittleEndian.Uint16(nib[36:]) != 0x1A62 || binary.LittleEndian.Uint32(nib[40:]) != 1<<15 ||
		binary.LittleEndian.Uint64(nib[57:]) != 0x0102030405060708 {
		t.Fatalf("NIB channel %d PAN %04X channels %08X ext PAN %016X", nib[24], binary.LittleEndian.Uint16(nib[36:]),
			binary.LittleEndian.Uint32(nib[40:]), binary.LittleEndian.Uint64(nib[57:]))
	}
	for _, id := range []uint16{mt.NVActiveKeyInfo, mt.NVAlternKeyInfo} {
		if v := nvRead(h, id); len(v) != 17 || !bytes.Equal(v[1:], testKey) {
			t.Fatalf("key info 0x%04X = % X, want the PRECFGKEY", id, v)
		}
	}
	if v := nvRead(h, mt.NVNwkKey); len(v) != 24 || !bytes.Equal(v[1:17], testKey) {
		t.Fatalf("ZCD_NV_NWKKEY = % X", v)
	}
	info := h.req(unpi.ZDO, mt.ZdoExtNwkInfo)
	if binary.LittleEndian.Uint16(info[3:]) != 0x1A62 || info[23] != 15 {
		t.Fatalf("ZDO_EXT_NWK_INFO % X", info)
	}
}

// TestKeyDistribution: a new device finishes joining only when the trust
// centre hands it the network key (PRECFGKEYS_ENABLE 0, what zigbee-herdsman
// writes). With 1, Z-Stack sends no key: the device associates and gives up.
func TestKeyDistribution(t *testing.T) {
	for _, c := range []struct {
		name   string
		enable byte
		joins  bool
	}{{"trust centre distributes the key", 0, true}, {"key assumed preconfigured", 1, false}} {
		t.Run(c.name, func(t *testing.T) {
			s, h := newHost(t, testSpecs())
			commission(h, c.enable)
			if st := h.req(unpi.ZDO, mt.ZdoMgmtPermitJoinReq, 0x0F, 0xFC, 0xFF, 0xFE, 0x01); st[0] != 0 {
				t.Fatalf("permit join status %d", st[0])
			}
			h.await(unpi.AREQ, unpi.ZDO, mt.ZdoTCDevInd, time.Now().Add(10*time.Second))
			_, announced := h.next(unpi.AREQ, unpi.ZDO, mt.ZdoEndDeviceAnnceInd, time.Now().Add(500*time.Millisecond))
			if announced != c.joins {
				t.Fatalf("device announced: %v, want %v", announced, c.joins)
			}
			joined := s.Devices()[0].Joined
			if joined != c.joins || (s.KeyDenied() == 0) == !c.joins {
				t.Fatalf("joined %v, key denied %d times", joined, s.KeyDenied())
			}
		})
	}
}

// TestHerdsmanStartCommands covers what zigbee-herdsman's start needs beyond
// our bridge: the green power group, AF_DATA_REQUEST_EXT, the coordinator's
// own simple descriptor, the extended NV tables of its backup and stack tune.
func TestHerdsmanStartCommands(t *testing.T) {
	_, h := newHost(t, testSpecs())
	commission(h, 0)
	h.req(unpi.AF, mt.AfRegister, 0xF2, 0xE0, 0xA1, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00) // ep 242, GP profile

	// ZDO_EXT_FIND_GROUP: not there; ZDO_EXT_ADD_GROUP; then found.
	if d := h.req(unpi.ZDO, mt.ZdoExtFindGroup, 0xF2, 0x4B, 0x0B); d[0] != mt.StatusFailure {
		t.Fatalf("find group before adding: % X", d)
	}
	if d := h.req(unpi.ZDO, mt.ZdoExtAddGroup, 0xF2, 0x4B, 0x0B, 0x00); d[0] != mt.StatusSuccess {
		t.Fatalf("add group: % X", d)
	}
	if d := h.req(unpi.ZDO, mt.ZdoExtFindGroup, 0xF2, 0x4B, 0x0B); d[0] != mt.StatusSuccess || binary.LittleEndian.Uint16(d[1:]) != 0x0B4B {
		t.Fatalf("find group after adding: % X", d)
	}

	// The coordinator's simple descriptor of endpoint 242.
	if d := h.req(unpi.ZDO, mt.ZdoSimpleDescReq, 0, 0, 0, 0, 0xF2); d[0] != 0 {
		t.Fatalf("simple desc SRSP % X", d)
	}
	rsp := h.await(unpi.AREQ, unpi.ZDO, mt.ZdoSimpleDescRsp, time.Now().Add(10*time.Second))
	want := []byte{0, 0, 0, 0, 0, 8, 0xF2, 0xE0, 0xA1, 0x05, 0x00, 0x01, 0x00, 0x00}
	if !bytes.Equal(rsp, want) {
		t.Fatalf("ZDO_SIMPLE_DESC_RSP % X, want % X", rsp, want)
	}

	// AF_DATA_REQUEST_EXT broadcast (green power commissioning) is sent and confirmed.
	ext := []byte{0x02, 0xFD, 0xFF, 0, 0, 0, 0, 0, 0, 0xF2, 0, 0, 0xF2, 0x21, 0x00, 0x07, 0x00, 0x1E, 0x03, 0x00, 0x11, 0x02, 0x0B}
	if d := h.req(unpi.AF, mt.AfDataRequestExt, ext...); d[0] != mt.StatusSuccess {
		t.Fatalf("AF_DATA_REQUEST_EXT status % X", d)
	}
	if c := h.await(unpi.AREQ, unpi.AF, mt.AfDataConfirm, time.Now().Add(10*time.Second)); c[0] != 0 || c[2] != 0x07 {
		t.Fatalf("AF_DATA_CONFIRM % X", c)
	}

	// Extended NV: the network security material table has the formed
	// network's entry; an absent entry has length 0.
	l := h.req(unpi.SYS, mt.SysNVLength2, 0x01, 0x07, 0x00, 0x00, 0x00)
	if binary.LittleEndian.Uint32(l) != secMaterialLen {
		t.Fatalf("sec material length % X", l)
	}
	r := h.req(unpi.SYS, mt.SysNVRead2, 0x01, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, secMaterialLen)
	if r[0] != 0 || r[1] != secMaterialLen || binary.LittleEndian.Uint64(r[6:]) != 0x0102030405060708 {
		t.Fatalf("sec material % X", r)
	}
	if l := h.req(unpi.SYS, mt.SysNVLength2, 0x01, 0x01, 0x00, 0x00, 0x00); binary.LittleEndian.Uint32(l) != 0 {
		t.Fatalf("address manager entry 0 before any join: % X", l)
	}
	// SYS_STACK_TUNE (transmit power) echoes the value.
	if d := h.req(unpi.SYS, mt.SysStackTune, 0x00, 0x05); d[0] != 0x05 {
		t.Fatalf("stack tune % X", d)
	}
}
