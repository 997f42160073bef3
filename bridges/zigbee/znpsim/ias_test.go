package znpsim

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/unpi"
	"github.com/avshub/avshub/bridges/zigbee/zcl"
)

// zclTo sends a ZCL frame from the host's endpoint 1 to nwk 0x1234 ep 1 (AF_DATA_REQUEST).
func (h *host) zclTo(cluster uint16, tid uint8, frame []byte) {
	h.t.Helper()
	d := binary.LittleEndian.AppendUint16(nil, 0x1234)
	d = append(d, 1, 1)
	d = binary.LittleEndian.AppendUint16(d, cluster)
	d = append(d, tid, 0, 30, byte(len(frame)))
	raw, err := unpi.Frame{Type: unpi.SREQ, Subsystem: unpi.AF, Cmd: mt.AfDataRequest, Data: append(d, frame...)}.Append(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.conn.Write(raw); err != nil {
		h.t.Fatal(err)
	}
}

// incomingZCL reads frames until an AF_INCOMING_MSG on cluster whose ZCL frame
// satisfies ok, and returns the IAS Zone frames seen on the way.
func (h *host) incomingZCL(cluster uint16, ok func(zcl.Frame) bool) (zcl.Frame, []zcl.Frame) {
	h.t.Helper()
	var seen []zcl.Frame
	for {
		raw := h.expectAny()
		// FE len CMD0 CMD group(2) cluster(2) src(2) srcEP dstEP bcast lqi sec ts(4) seq len data
		if len(raw) < 22 || raw[2] != 0x44 || raw[3] != mt.AfIncomingMsg {
			continue
		}
		c := binary.LittleEndian.Uint16(raw[6:])
		n := int(raw[20])
		if len(raw) < 21+n {
			continue
		}
		f, err := zcl.Parse(raw[21 : 21+n])
		if err != nil {
			continue
		}
		if c == zcl.ClusterIASZone {
			seen = append(seen, f)
		}
		if c == cluster && ok(f) {
			return f, seen
		}
	}
}

func (h *host) expectAny() []byte {
	h.t.Helper()
	select {
	case raw := <-h.frames:
		return raw
	case <-time.After(10 * time.Second):
		h.t.Fatal("no frame")
	}
	return nil
}

// TestIASZoneNeedsEnrolment: an IAS zone keeps its alarms to itself until
// enrolled; writing IAS_CIE_Address makes it send a Zone Enroll Request (its
// zone type and manufacturer code); after a successful Zone Enroll Response
// it is enrolled with the zone id given and notifies zone status changes.
func TestIASZoneNeedsEnrolment(t *testing.T) {
	s, h := newHost(t, []DeviceSpec{{IEEE: "0x00158d000a1b2c02", Type: "aqara-leak", NWK: 0x1234}})
	h.form()
	h.write("FE 05 25 36 0F FC FF FE 01 E5")
	h.expect("FE 0D 45 C1 34 12 34 12 02 2C 1B 0A 00 8D 15 00 80 ??")
	const ieee = "00158d000a1b2c02"
	isRsp := func(cmd uint8) func(zcl.Frame) bool {
		return func(f zcl.Frame) bool { return f.FrameType == zcl.FrameGlobal && f.Command == cmd }
	}
	read := zcl.Frame{Header: zcl.Header{FrameType: zcl.FrameGlobal, TSN: 1, Command: zcl.CmdReadAttributes}, Payload: zcl.ReadAttributes(zcl.AttrZoneState)}

	// Not enrolled: the alarm goes nowhere (the read answer comes after anything it sent).
	if err := s.Set(ieee, map[string]int64{"zoneStatus": zcl.ZoneStatusAlarm1}); err != nil {
		t.Fatal(err)
	}
	h.zclTo(zcl.ClusterIASZone, 1, read.Marshal())
	_, seen := h.incomingZCL(zcl.ClusterIASZone, isRsp(zcl.CmdReadAttributesRsp))
	for _, f := range seen {
		if f.FrameType == zcl.FrameCluster {
			t.Fatalf("a zone not enrolled sent cluster command 0x%02x", f.Command)
		}
	}

	// Write IAS_CIE_Address: Write Attributes Response, then the Zone Enroll Request.
	p, _ := zcl.AppendAttributes(nil, zcl.Attribute{ID: zcl.AttrIASCIEAddress, Value: zcl.U(zcl.TypeIEEE, 0x00124b0001020304)})
	h.zclTo(zcl.ClusterIASZone, 2, zcl.Frame{Header: zcl.Header{FrameType: zcl.FrameGlobal, TSN: 2, Command: zcl.CmdWriteAttributes}, Payload: p}.Marshal())
	req, _ := h.incomingZCL(zcl.ClusterIASZone, func(f zcl.Frame) bool {
		return f.FrameType == zcl.FrameCluster && f.Command == zcl.CmdZoneEnrollRequest
	})
	er, err := zcl.ParseZoneEnrollRequest(req.Payload)
	if err != nil || er.ZoneType != zcl.ZoneTypeWater || er.ManufacturerCode != 0x115F {
		t.Fatalf("zone enroll request %+v %v", er, err)
	}
	if v := s.Devices()[0].Attributes["zoneState"]; v != zcl.ZoneStateNotEnrolled {
		t.Fatalf("enrolled before the enroll response: zoneState %d", v)
	}

	// Enroll Response (success, zone id 23): enrolled; an alarm is notified.
	h.zclTo(zcl.ClusterIASZone, 3, zcl.Frame{Header: zcl.Header{FrameType: zcl.FrameCluster, DisableDefaultResponse: true, TSN: req.TSN, Command: zcl.CmdZoneEnrollResponse},
		Payload: zcl.ZoneEnrollResponse(0, 23)}.Marshal())
	read.TSN = 4
	h.zclTo(zcl.ClusterIASZone, 4, read.Marshal())
	rsp, _ := h.incomingZCL(zcl.ClusterIASZone, isRsp(zcl.CmdReadAttributesRsp))
	if !bytes.Equal(rsp.Payload, []byte{0, 0, 0, byte(zcl.TypeEnum8), zcl.ZoneStateEnrolled}) {
		t.Fatalf("zoneState after enrolment: % X", rsp.Payload)
	}
	if err := s.Set(ieee, map[string]int64{"zoneStatus": zcl.ZoneStatusAlarm1 | zcl.ZoneStatusBatteryLow}); err != nil {
		t.Fatal(err)
	}
	n, _ := h.incomingZCL(zcl.ClusterIASZone, func(f zcl.Frame) bool {
		return f.FrameType == zcl.FrameCluster && f.Command == zcl.CmdZoneStatusChangeNotification
	})
	z, err := zcl.ParseZoneStatusChange(n.Payload)
	if err != nil || z.Status != zcl.ZoneStatusAlarm1|zcl.ZoneStatusBatteryLow || z.ZoneID != 23 {
		t.Fatalf("zone status change %+v %v", z, err)
	}
}
