package zcl

import (
	"bytes"
	"testing"

	"github.com/avshub/avshub/bridges/zigbee/internal/hexbytes"
)

func global(tsn, cmd uint8) Header {
	return Header{FrameType: FrameGlobal, Direction: ClientToServer, DisableDefaultResponse: true, TSN: tsn, Command: cmd}
}

func cluster(tsn, cmd uint8) Header {
	return Header{FrameType: FrameCluster, Direction: ClientToServer, TSN: tsn, Command: cmd}
}

// Byte vectors from the protocol notes (zigbee-herdsman's ZCL encoder).
func TestEncodeVectors(t *testing.T) {
	must := func(b []byte, err error) []byte {
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	lock := Header{FrameType: FrameCluster, DisableDefaultResponse: true, TSN: 1, Command: CmdLockDoor}
	cases := []struct {
		name string
		f    Frame
		want string
	}{
		{"on", Frame{Header: cluster(1, CmdOn)}, "01 01 01"},
		{"read manufacturerName modelId", Frame{Header: global(1, CmdReadAttributes), Payload: ReadAttributes(AttrManufacturerName, AttrModelID)}, "10 01 00 04 00 05 00"},
		{"write heating setpoint 21.00", Frame{Header: global(1, CmdWriteAttributes),
			Payload: must(AppendAttributes(nil, Attribute{ID: AttrOccupiedHeatingSetpoint, Value: S(TypeInt16, 2100)}))}, "10 01 02 12 00 29 34 08"},
		{"write systemMode heat", Frame{Header: global(1, CmdWriteAttributes),
			Payload: must(AppendAttributes(nil, Attribute{ID: AttrSystemMode, Value: U(TypeEnum8, 4)}))}, "10 01 02 1C 00 30 04"},
		{"configure onOff", Frame{Header: global(1, CmdConfigureReporting),
			Payload: must(ConfigureReporting(ReportConfig{ID: AttrOnOff, Type: TypeBool, MaxInterval: 3600}))}, "10 01 06 00 00 00 10 00 00 10 0E"},
		{"configure temperature", Frame{Header: global(1, CmdConfigureReporting),
			Payload: must(ConfigureReporting(ReportConfig{ID: AttrMeasuredValue, Type: TypeInt16, MinInterval: 30, MaxInterval: 600, Change: 50}))}, "10 01 06 00 00 00 29 1E 00 58 02 32 00"},
		{"moveToLevelWithOnOff 128", Frame{Header: cluster(1, CmdMoveToLevelWithOnOff), Payload: MoveToLevelWithOnOff(128, 0)}, "01 01 04 80 00 00"},
		{"moveToHueAndSaturation", Frame{Header: cluster(1, CmdMoveToHueAndSaturation), Payload: MoveToHueAndSaturation(100, 200, 10)}, "01 01 06 64 C8 0A 00"},
		{"moveToColorTemp 370", Frame{Header: cluster(1, CmdMoveToColorTemp), Payload: MoveToColorTemp(370, 0)}, "01 01 0A 72 01 00 00"},
		{"lockDoor", Frame{Header: lock, Payload: LockDoorPayload()}, "11 01 00 FF"},
		{"default response to a report", Frame{Header: Header{FrameType: FrameGlobal, DisableDefaultResponse: true, TSN: 5, Command: CmdDefaultRsp},
			Payload: DefaultRsp(CmdReportAttributes, StatusSuccess)}, "10 05 0B 0A 00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.f.Marshal(); !bytes.Equal(got, hexbytes.Must(t, c.want)) {
				t.Fatalf("got % X, want %s", got, c.want)
			}
		})
	}
}

func TestDecodeVectors(t *testing.T) {
	f, err := Parse(hexbytes.Must(t, "18 05 0A 00 00 10 01"))
	if err != nil || f.Direction != ServerToClient || !f.DisableDefaultResponse || f.TSN != 5 || f.Command != CmdReportAttributes {
		t.Fatalf("report header %+v %v", f, err)
	}
	attrs, err := ParseAttributes(f.Payload)
	if err != nil || len(attrs) != 1 || attrs[0].ID != 0 || attrs[0].Value.Type != TypeBool || attrs[0].Value.Int != 1 {
		t.Fatalf("report %+v %v", attrs, err)
	}
	f, err = Parse(hexbytes.Must(t, "19 07 00 00"))
	if err != nil || f.FrameType != FrameCluster || f.Command != CmdLockDoor || f.Payload[0] != 0 {
		t.Fatalf("lockDoorRsp %+v %v", f, err)
	}
	// Read response with a string, a failure, and a signed int.
	p := hexbytes.Must(t, "05 00 00 42 06 4C 43 54 30 31 35 07 00 86 00 00 00 29 18 FC")
	recs, err := ParseReadAttributesRsp(p)
	if err != nil || len(recs) != 3 || recs[0].Value.Str != "LCT015" || recs[1].Status != StatusUnsupportedAttribute || recs[2].Value.Int != -1000 {
		t.Fatalf("read rsp %+v %v", recs, err)
	}
	enc, err := ReadAttributesRsp(recs)
	if err != nil || !bytes.Equal(enc, p) {
		t.Fatalf("re-encoded read rsp % X, %v", enc, err)
	}
	// Manufacturer-specific header.
	f, err = Parse(hexbytes.Must(t, "05 0B 10 07 00 01"))
	if err != nil || !f.ManufacturerSpecific || f.ManufacturerCode != 0x100B || f.TSN != 7 || f.Command != 0 {
		t.Fatalf("manufacturer header %+v %v", f, err)
	}
	// Operation event notification: source RF, unlock, user 0, no pin, time, no data.
	ev, err := ParseOperationEvent(hexbytes.Must(t, "01 02 00 00 00 10 20 30 40 00"))
	if err != nil || ev.Source != 1 || ev.EventCode != OpEventUnlock || ev.LocalTime != 0x40302010 {
		t.Fatalf("operation event %+v %v", ev, err)
	}
}

func TestValues(t *testing.T) {
	cases := []Value{
		U(TypeBool, 1), U(TypeUint8, 254), U(TypeUint16, 0xBEEF), U(TypeUint24, 0x123456), U(TypeUint32, 0xDEADBEEF),
		S(TypeInt8, -5), S(TypeInt16, -32768), S(TypeInt32, -100000), U(TypeEnum8, 4), U(TypeBitmap16, 0x1F),
		Str("hello"), {Type: TypeOctetStr, Str: "ab"}, {Type: TypeSingle, Float: 1.5}, U(TypeIEEE, 0x0123456789ABCDEF),
	}
	for _, v := range cases {
		b, err := AppendValue(nil, v)
		if err != nil {
			t.Fatalf("%+v: %v", v, err)
		}
		got, n, err := ReadValue(v.Type, b)
		if err != nil || n != len(b) || got != v {
			t.Fatalf("round trip %+v → % X → %+v (%d, %v)", v, b, got, n, err)
		}
	}
	if !S(TypeInt16, -0x8000).Invalid() || U(TypeUint8, 3).Invalid() {
		t.Fatal("Invalid")
	}
	if _, _, err := ReadValue(0x48, []byte{1}); err == nil { // arrays are not supported
		t.Fatal("array type decoded")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"18 05 0A 00 00 10 01", "19 07 00 00", "10 01 06 00 00 00 29 1E 00 58 02 32 00", "05 0B 10 07 00 01",
		"18 01 01 05 00 00 42 06 4C 43 54 30 31 35", "18 02 04 00", "19 09 20 01 02 00 00 00 10 20 30 40 00",
		"19 0C 00 01 00 00 17 00 00", "09 0D 01 2A 00 5F 11"} {
		f.Add(hexbytes.Must(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Parse(b)
		if err != nil {
			return
		}
		if !bytes.Equal(fr.Marshal(), b) {
			t.Fatalf("frame does not re-encode: % X", b)
		}
		// None of the payload parsers may panic on any input.
		_, _ = ParseAttributes(fr.Payload)
		_, _ = ParseReadAttributes(fr.Payload)
		_, _ = ParseReadAttributesRsp(fr.Payload)
		_, _ = ParseWriteAttributesRsp(fr.Payload)
		_, _ = ParseConfigureReporting(fr.Payload)
		_, _, _ = ParseDefaultRsp(fr.Payload)
		_, _ = ParseOperationEvent(fr.Payload)
		if z, err := ParseZoneStatusChange(fr.Payload); err == nil && len(fr.Payload) >= 6 && !bytes.Equal(z.Marshal(), fr.Payload[:6]) {
			t.Fatalf("zone status change does not re-encode: % X", fr.Payload)
		}
		if z, err := ParseZoneEnrollRequest(fr.Payload); err == nil && !bytes.Equal(z.Marshal(), fr.Payload[:4]) {
			t.Fatalf("zone enroll request does not re-encode: % X", fr.Payload)
		}
	})
}

func TestIASZonePayloads(t *testing.T) {
	z, err := ParseZoneStatusChange(hexbytes.Must(t, "01 00 00 17 00 00"))
	if err != nil || z.Status != ZoneStatusAlarm1 || z.ZoneID != 23 {
		t.Fatalf("zone status change: %+v %v", z, err)
	}
	if z, err := ParseZoneStatusChange(hexbytes.Must(t, "09 00 00 17")); err != nil || z.Status != ZoneStatusAlarm1|ZoneStatusBatteryLow {
		t.Fatalf("zone status change without delay (ZCL before 6): %+v %v", z, err)
	}
	if _, err := ParseZoneStatusChange([]byte{1, 0, 0}); err == nil {
		t.Fatal("3-byte zone status change accepted")
	}
	r, err := ParseZoneEnrollRequest(hexbytes.Must(t, "2A 00 5F 11"))
	if err != nil || r.ZoneType != ZoneTypeWater || r.ManufacturerCode != 0x115F {
		t.Fatalf("enroll request: %+v %v", r, err)
	}
	if got := ZoneEnrollResponse(0, 23); !bytes.Equal(got, []byte{0, 23}) {
		t.Fatalf("enroll response % X", got)
	}
	v, n, err := ReadValue(TypeUint48, hexbytes.Must(t, "01 02 03 04 05 06"))
	if err != nil || n != 6 || v.Int != 0x060504030201 {
		t.Fatalf("uint48: %v %d %v", v, n, err)
	}
}
