package zigbee

import (
	"context"
	"fmt"
	"time"

	"github.com/avshub/avshub/bridges/zigbee/mt"
	"github.com/avshub/avshub/bridges/zigbee/zcl"
)

// iasZoneID is the zone id the bridge gives every IAS zone it enrols (one
// CIE, zones told apart by their addresses); herdsman gives 23 as well.
const iasZoneID = 23

// enrollResponse is a successful Zone Enroll Response with tsn.
func enrollResponse(tsn uint8) []byte {
	h := zcl.Header{FrameType: zcl.FrameCluster, Direction: zcl.ClientToServer, DisableDefaultResponse: true, TSN: tsn, Command: zcl.CmdZoneEnrollResponse}
	return zcl.Frame{Header: h, Payload: zcl.ZoneEnrollResponse(0, iasZoneID)}.Marshal()
}

// enrollIAS enrols an IAS zone with the coordinator as its CIE (ZCL 8.2.2.4):
// unless it is already enrolled with us, write our address into
// IAS_CIE_Address, answer its Zone Enroll Request (incoming does that) and
// also send an unsolicited Zone Enroll Response (auto-enroll-response zones
// wait for one), then wait until zoneState says enrolled. A zone that is not
// enrolled sends no Zone Status Change Notifications. Herdsman: the same
// steps (its 500 ms pause before the unsolicited response, up to 20 reads).
func (b *Bridge) enrollIAS(ctx context.Context, ieee string, nwk uint16, ep uint8, link *mt.Client) error {
	coord := b.coordIEEE(ctx, link)
	if coord == 0 {
		return fmt.Errorf("coordinator address unknown")
	}
	enrolled := func() (bool, error) {
		v, err := b.readAttributes(ctx, ieee, zcl.ClusterIASZone, zcl.AttrZoneState, zcl.AttrIASCIEAddress)
		if err != nil {
			return false, err
		}
		st, cie := v[zcl.AttrZoneState], v[zcl.AttrIASCIEAddress]
		return st.Int == zcl.ZoneStateEnrolled && uint64(cie.Int) == coord, nil
	}
	if ok, err := enrolled(); err != nil {
		return fmt.Errorf("read zone state: %w", err)
	} else if ok {
		return nil
	}
	p, err := zcl.AppendAttributes(nil, zcl.Attribute{ID: zcl.AttrIASCIEAddress, Value: zcl.U(zcl.TypeIEEE, coord)})
	if err != nil {
		return err
	}
	h := zcl.Header{FrameType: zcl.FrameGlobal, Direction: zcl.ClientToServer, DisableDefaultResponse: true, Command: zcl.CmdWriteAttributes}
	f, err := b.request(ctx, ieee, zcl.ClusterIASZone, h, p, isCmd(zcl.FrameGlobal, zcl.CmdWriteAttributesRsp))
	if err != nil {
		return fmt.Errorf("write IAS CIE address: %w", err)
	}
	if f.Command == zcl.CmdDefaultRsp {
		_, st, _ := zcl.ParseDefaultRsp(f.Payload)
		return fmt.Errorf("write IAS CIE address: %v", st)
	}
	if fails, err := zcl.ParseWriteAttributesRsp(f.Payload); err != nil || len(fails) > 0 {
		return fmt.Errorf("write IAS CIE address refused: %v %v", fails, err)
	}
	if err := sleep(ctx, 500*time.Millisecond); err != nil {
		return err
	}
	if err := b.sendRaw(ctx, nwk, ep, zcl.ClusterIASZone, enrollResponse(b.nextTSN())); err != nil {
		return fmt.Errorf("send zone enroll response: %w", err)
	}
	for range 20 {
		if ok, err := enrolled(); err == nil && ok {
			return nil
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
	return fmt.Errorf("the zone did not enrol (zoneState stayed not enrolled)")
}
