package znpsim

import (
	"time"

	"github.com/avshub/avshub/bridges/zigbee/zcl"
)

// enrollRequest is an IAS zone asking the CIE that has just written its
// address to enrol it (ZCL 8.2.2.4.2): Zone Enroll Request to the writer's
// endpoint. The zone stays not enrolled until a successful Zone Enroll
// Response.
func (s *Sim) enrollRequest(d *device, cieEP uint8) {
	d.cieEP = cieEP
	zt, _ := d.get(zcl.ClusterIASZone, zcl.AttrZoneType)
	h := zcl.Header{FrameType: zcl.FrameCluster, Direction: zcl.ServerToClient, TSN: d.nextTSN(), Command: zcl.CmdZoneEnrollRequest}
	p := zcl.ZoneEnrollRequest{ZoneType: uint16(zt.Int), ManufacturerCode: d.manufCode()}.Marshal()
	s.sendZCL(d, d.epOf[zcl.ClusterIASZone], cieEP, zcl.ClusterIASZone, zcl.Frame{Header: h, Payload: p}.Marshal())
}

// zoneNotify sends a Zone Status Change Notification, which an IAS zone does
// only once enrolled (ZCL 8.2.2.4.1): a zone that is not enrolled keeps its
// alarms to itself.
func (s *Sim) zoneNotify(d *device) {
	st, _ := d.get(zcl.ClusterIASZone, zcl.AttrZoneState)
	if st.Int != zcl.ZoneStateEnrolled {
		return
	}
	zs, _ := d.get(zcl.ClusterIASZone, zcl.AttrZoneStatus)
	id, _ := d.get(zcl.ClusterIASZone, zcl.AttrZoneID)
	ep := d.cieEP
	if ep == 0 {
		ep = 1
	}
	h := zcl.Header{FrameType: zcl.FrameCluster, Direction: zcl.ServerToClient, DisableDefaultResponse: !d.m.defaultRspOnReport,
		TSN: d.nextTSN(), Command: zcl.CmdZoneStatusChangeNotification}
	p := zcl.ZoneStatusChange{Status: uint16(zs.Int), ZoneID: uint8(id.Int)}.Marshal()
	s.sendZCL(d, d.epOf[zcl.ClusterIASZone], ep, zcl.ClusterIASZone, zcl.Frame{Header: h, Payload: p}.Marshal())
}

// coverCommand runs a Window Covering command: the blind travels one percent
// per liftStep, reporting its position when it stops (and every 10 % on the
// way, as a FYRTUR does); a newer command or Stop ends a movement.
func (s *Sim) coverCommand(d *device, f zcl.Frame) *zcl.Status {
	var target int64
	switch f.Command {
	case zcl.CmdUpOpen:
		target = 0
	case zcl.CmdDownClose:
		target = 100
	case zcl.CmdStop:
		d.coverGen++
		d.tiltGen++
		attrs := []uint16{zcl.AttrCurrentPositionLiftPercentage}
		if _, ok := d.get(zcl.ClusterWindowCovering, zcl.AttrCurrentPositionTiltPercentage); ok {
			attrs = append(attrs, zcl.AttrCurrentPositionTiltPercentage)
		}
		s.report(d, zcl.ClusterWindowCovering, attrs...)
		return ptrStatus(zcl.StatusSuccess)
	case zcl.CmdGoToLiftPercentage, zcl.CmdGoToTiltPercentage:
		if len(f.Payload) < 1 {
			return ptrStatus(zcl.StatusMalformedCommand)
		}
		if f.Payload[0] > 100 {
			return ptrStatus(zcl.StatusInvalidValue)
		}
		if f.Command == zcl.CmdGoToTiltPercentage {
			if _, ok := d.get(zcl.ClusterWindowCovering, zcl.AttrCurrentPositionTiltPercentage); !ok {
				return ptrStatus(zcl.StatusUnsupClusterCommand) // a blind without slats
			}
			d.tiltGen++
			s.coverStep(d, &d.tiltGen, d.tiltGen, zcl.AttrCurrentPositionTiltPercentage, int64(f.Payload[0]))
			return ptrStatus(zcl.StatusSuccess)
		}
		target = int64(f.Payload[0])
	default:
		return ptrStatus(zcl.StatusUnsupClusterCommand)
	}
	d.coverGen++
	s.coverStep(d, &d.coverGen, d.coverGen, zcl.AttrCurrentPositionLiftPercentage, target)
	return ptrStatus(zcl.StatusSuccess)
}

// coverStep moves the lift (or the slats' tilt) one percent towards target
// per liftStep while *gen still is this movement's generation.
func (s *Sim) coverStep(d *device, gen *int, mine int, attr uint16, target int64) {
	step := d.m.liftStep
	if step <= 0 {
		step = 40 * time.Millisecond
	}
	s.after(step, func() {
		if *gen != mine {
			return
		}
		cur, _ := d.get(zcl.ClusterWindowCovering, attr)
		switch {
		case cur.Int < target:
			cur.Int++
		case cur.Int > target:
			cur.Int--
		}
		d.set(zcl.ClusterWindowCovering, attr, cur.Int)
		if cur.Int == target || cur.Int%10 == 0 {
			s.report(d, zcl.ClusterWindowCovering, attr)
		}
		if cur.Int != target {
			s.coverStep(d, gen, mine, attr, target)
		}
	})
}

// plugLoad sets a metering plug's power and current from its relay: its load
// when on, nothing when off.
func (s *Sim) plugLoad(d *device) {
	if _, ok := d.get(zcl.ClusterElectricalMeas, zcl.AttrActivePower); !ok {
		return
	}
	on, _ := d.get(zcl.ClusterOnOff, zcl.AttrOnOff)
	p := int64(0)
	if on.Int == 1 {
		p = d.load
	}
	v, _ := d.get(zcl.ClusterElectricalMeas, zcl.AttrRMSVoltage)
	d.set(zcl.ClusterElectricalMeas, zcl.AttrActivePower, p)
	if v.Int > 0 {
		d.set(zcl.ClusterElectricalMeas, zcl.AttrRMSCurrent, p*1000/v.Int) // 0.1 W / 0.1 V = A; in mA
	}
	s.report(d, zcl.ClusterElectricalMeas, zcl.AttrActivePower, zcl.AttrRMSCurrent)
}
